import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.models import Role
from app.accounts.queries import get_user_by_email
from tests.conftest import login_as
from tests.factories import PASSWORD, make_user

HX = {"HX-Request": "true"}


def _register(client: FlaskClient, email: str = "new@example.com", next: str = "") -> TestResponse:
    data = {
        "name": "New Person",
        "email": email,
        "password": "learning-2026",
        "confirm": "learning-2026",
        "next": next,
    }
    return client.post("/register", data=data)


def test_register_page_and_fragment(client: FlaskClient) -> None:
    page = client.get("/register")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="register-form"' in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/register", headers=HX)
    assert "<html" not in fragment.text and 'id="register-form"' in fragment.text
    boosted = client.get("/register", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in boosted.text


def test_register_logs_in_and_redirects(client: FlaskClient) -> None:
    response = _register(client, next="/courses?q=python")
    assert response.status_code == 303
    assert response.headers["Location"] == "/courses?q=python"
    assert get_user_by_email("new@example.com") is not None
    assert "new@example.com" in client.get("/").text  # the account menu


def test_register_by_htmx_answers_with_hx_redirect(client: FlaskClient) -> None:
    response = client.post(
        "/register",
        data={
            "name": "H X",
            "email": "hx@example.com",
            "password": "learning-2026",
            "confirm": "learning-2026",
        },
        headers=HX,
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_register_errors_are_shown_and_nothing_is_created(client: FlaskClient) -> None:
    make_user(email="taken@example.com")
    response = _register(client, email="TAKEN@example.com")
    assert response.status_code == 422
    assert "already exists" in response.text
    weak = client.post(
        "/register",
        data={
            "name": "W",
            "email": "w@example.com",
            "password": "password1",
            "confirm": "password1",
        },
        headers=HX,
    )
    assert weak.status_code == 422
    assert "too common" in weak.text and "<html" not in weak.text
    assert get_user_by_email("w@example.com") is None


def test_login_with_next_and_same_error_for_unknown_email(client: FlaskClient) -> None:
    user = make_user()
    unknown = client.post("/login", data={"email": "ghost@example.com", "password": PASSWORD})
    wrong = client.post("/login", data={"email": user.email, "password": "nope-nope-1"})
    assert unknown.status_code == wrong.status_code == 422
    message = "That email and password don&#39;t match an account."
    assert message in unknown.text and message in wrong.text
    ok = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": "/account"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/account"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_login_refuses_open_redirects(client: FlaskClient, target: str) -> None:
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_login_required_pages_send_visitors_to_login(client: FlaskClient) -> None:
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=%2Faccount" in response.headers["Location"]


def test_logout_needs_post(client: FlaskClient) -> None:
    user = make_user()
    login_as(client, user)
    assert "Log out?" in client.get("/logout").text
    assert user.first_name in client.get("/").text
    response = client.post("/logout")
    assert response.status_code == 303
    assert "Log in" in client.get("/").text


def test_profile_update(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    login_as(client, user)
    response = client.post(
        "/account", data={"name": "Renamed Person", "email": user.email, "country": "IN"}
    )
    assert response.status_code == 303
    db_session.refresh(user)
    assert user.name == "Renamed Person" and user.country == "IN"
    bad = client.post("/account", data={"name": "X", "email": "nope", "country": ""}, headers=HX)
    assert bad.status_code == 422 and "<html" not in bad.text


def test_password_change_signs_out_other_sessions(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    other = app.test_client()
    login_as(client, user)
    login_as(other, user)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "fresh-start-42",
            "confirm": "fresh-start-42",
        },
    )
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302  # the other device is signed out


def test_csrf_is_required_for_forms_and_htmx(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/login", data={"email": "a@example.com", "password": "x"})
        assert refused.status_code == 400
        assert "form expired" in refused.text
        page = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token is not None
        # The same token rides on HTMX requests as a header (base.html puts it in hx-headers).
        assert f'"X-CSRFToken": "{token.group(1)}"' in page.text
        accepted = client.post(
            "/login",
            data={"email": "a@example.com", "password": "whatever-1"},
            headers={**HX, "X-CSRFToken": token.group(1)},
        )
        assert accepted.status_code == 422  # reached the view: wrong credentials, not CSRF
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_login_is_rate_limited_per_account(client: FlaskClient) -> None:
    user = make_user()
    statuses = []
    for i in range(6):
        # a different address each time, so only the per-account limit can trip
        statuses.append(
            client.post(
                "/login",
                data={"email": user.email, "password": "wrong-pass-1"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
            ).status_code
        )
    assert statuses == [422] * 5 + [429]
    blocked = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert (
        client.post(
            "/login",
            data={"email": "other@example.com", "password": "x"},
            environ_base={"REMOTE_ADDR": "10.0.0.98"},
        ).status_code
        == 422
    )


def test_login_is_rate_limited_per_ip(client: FlaskClient) -> None:
    statuses = [
        client.post("/login", data={"email": f"u{i}@example.com", "password": "x"}).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429


def test_registration_is_rate_limited_per_ip(client: FlaskClient) -> None:
    statuses = [
        client.post(
            "/register",
            data={
                "name": "N",
                "email": f"r{i}@example.com",
                "password": "short",
                "confirm": "short",
            },
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_role_checks_are_enforced_by_login(client: FlaskClient, db_session: Session) -> None:
    admin = make_user(Role.ADMIN)
    assert admin.has_role(Role.TEACHER)
    student = make_user(Role.STUDENT)
    assert not student.has_role(Role.TEACHER)


LOCKED = re.compile(r"Too many attempts\. Try again in (\d+) seconds?\.")


def _lock_out(client: FlaskClient, email: str) -> None:
    for i in range(5):
        failed = client.post(
            "/login",
            data={"email": email, "password": "wrong-pass-1"},
            environ_base={"REMOTE_ADDR": f"10.1.0.{i}"},
        )
        assert failed.status_code == 422


def _seconds_shown(response: TestResponse) -> int:
    """N from "try again in N seconds", checked against the Retry-After header."""
    found = LOCKED.search(response.text)
    assert found is not None, response.text
    shown = int(found.group(1))
    assert 1 <= shown <= 60
    # The limiter rewrites Retry-After a moment later; only a second boundary in that moment
    # can make it one less than the page's figure.
    assert int(response.headers["Retry-After"]) in (shown, shown - 1)
    return shown


def test_locked_out_login_says_when_to_try_again(client: FlaskClient) -> None:
    user = make_user()
    _lock_out(client, user.email)
    correct = {"email": user.email, "password": PASSWORD}
    page = client.post("/login", data=correct, environ_base={"REMOTE_ADDR": "10.1.0.9"})
    assert page.status_code == 429
    assert "<html" in page.text and 'id="login-form"' in page.text
    _seconds_shown(page)
    fragment = client.post(  # htmx asks for */*: that is HTML, not JSON
        "/login",
        data=correct,
        headers={**HX, "Accept": "*/*"},
        environ_base={"REMOTE_ADDR": "10.1.0.10"},
    )
    assert fragment.status_code == 429
    assert "<html" not in fragment.text and 'id="login-form"' in fragment.text
    _seconds_shown(fragment)
    as_json = client.post(
        "/login",
        data=correct,
        headers={"Accept": "application/json"},
        environ_base={"REMOTE_ADDR": "10.1.0.11"},
    )
    assert as_json.status_code == 429 and as_json.json is not None
    assert LOCKED.search(as_json.json["error"]["message"])


def test_registration_limit_says_when_to_try_again(client: FlaskClient) -> None:
    data = {"name": "N", "email": "limit@example.com", "password": "short", "confirm": "short"}
    for _ in range(5):
        assert client.post("/register", data=data).status_code == 422
    blocked = client.post("/register", data=data, headers=HX)
    assert blocked.status_code == 429
    assert 'id="register-form"' in blocked.text and "<html" not in blocked.text
    found = re.search(r"Too many attempts\. Try again in (\d+) minutes\.", blocked.text)
    assert found is not None and 1 <= int(found.group(1)) <= 60
    assert 0 < int(blocked.headers["Retry-After"]) <= 3600
