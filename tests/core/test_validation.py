"""Issue 7 item 13: one request-validation layer at the edge (app/core/validation.py).

NUL and other control characters in the path, query, headers, form fields or any JSON string
are refused with 400 before a view runs (JSON for API and JSON clients, the error page
otherwise); `<int:...>` beyond PostgreSQL's INTEGER is a 404; integer form fields refuse
out-of-range values; a DataError that slips through anyway is a 400, not a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.validation import MAX_JSON_DEPTH, PG_INT_MAX
from app.extensions import db
from tests.conftest import login_as, make_test_app
from tests.factories import make_course, make_user

HX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "path",
    [
        "/courses?category=web%00dev",
        "/courses?q=a%00b",
        "/courses/intro%00to-go",
        "/orders/0a1b%00c",
        "/orders/0a1b%00c/refund",
        "/pay/0a1b%00c",
        "/checkout/return/sandbox?session_id=sbx%00cs",
        "/checkout/return/stripe?session_id=cs_%00",
        "/courses?q=tab%09and%0Anewline%0D",  # no control character belongs in a URL
        "/courses?page=1&sort=%1b[31m",
    ],
)
def test_control_characters_in_the_address_are_400(client: FlaskClient, path: str) -> None:
    for user in (None, make_user()):
        if user is not None:
            login_as(client, user)
        page = client.get(path)
        assert page.status_code == 400, path
        assert "<html" in page.text and "not allowed" in page.text
        fragment = client.get(path, headers=HX)
        assert fragment.status_code == 400 and "<html" not in fragment.text
        as_json = client.get(path, headers={"Accept": "application/json"})
        assert as_json.status_code == 400 and as_json.json["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/login", {"email": "a\x00@example.com", "password": "secret-123"}),
        (
            "/register",
            {
                "name": "Ada\x00",
                "email": "ada@example.com",
                "password": "Secret-12345",
                "confirm": "Secret-12345",
            },
        ),
        ("/cart/coupon", {"code": "SAVE\x00"}),
        ("/cart/items", {"course_id": "1\x00"}),
        ("/checkout", {"provider": "sandbox\x00", "idempotency_key": "k" * 12}),
        ("/login", {"email": "ada@example.com\x1b", "password": "secret-123"}),
    ],
)
def test_control_characters_in_form_fields_are_400(
    client: FlaskClient, db_session: Session, path: str, form: dict[str, str]
) -> None:
    users = db_session.scalar(select(func.count(User.id)))
    response = client.post(path, data=form)
    assert response.status_code == 400 and "not allowed" in response.text
    assert db_session.scalar(select(func.count(User.id))) == users


def test_profile_name_with_a_nul_is_400_and_changes_nothing(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user(name="Ada Lovelace")
    login_as(client, user)
    response = client.post("/account", data={"name": "Ada\x00", "email": user.email})
    assert response.status_code == 400
    db_session.refresh(user)
    assert user.name == "Ada Lovelace"


def test_tabs_and_line_breaks_in_form_fields_are_text(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "a\tb@example.com", "password": "x\r\ny"})
    assert response.status_code != 400  # the form answers (a wrong login), not the edge


def test_nul_in_a_header_is_400(client: FlaskClient) -> None:
    response = client.get("/courses", headers={"X-Request-ID": "abc\x00def"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        f"/notifications/{'9' * 30}/read",
        f"/notifications/{PG_INT_MAX + 1}/read",
        f"/notifications/{'9' * 5000}/read",
        f"/cart/items/{'9' * 30}/delete",
    ],
)
def test_ids_beyond_postgres_integer_are_404(client: FlaskClient, path: str) -> None:
    login_as(client, make_user())
    assert client.post(path).status_code == 404
    assert client.post(path, headers=HX).status_code == 404


def test_largest_integer_id_still_routes(client: FlaskClient) -> None:
    login_as(client, make_user())
    response = client.post(f"/notifications/{PG_INT_MAX}/read")
    assert response.status_code < 500 and response.status_code != 400


@pytest.mark.parametrize("course_id", ["9" * 30, str(PG_INT_MAX + 1), "-5", "9" * 5000])
def test_integer_form_field_out_of_range_is_a_form_error(
    client: FlaskClient, course_id: str
) -> None:
    make_course(prices={"USD": 100})
    response = client.post("/cart/items", data={"course_id": course_id})
    assert response.status_code == 303
    assert "could not be found" in client.get("/courses").text


def test_db_integer_field_reports_the_range(app: Flask) -> None:
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from app.core.forms import DbIntegerField

    class Quantity(FlaskForm):  # type: ignore[misc]
        amount = DbIntegerField(minimum=0)

    with app.test_request_context(method="POST"):
        for value, ok in (("5", True), ("0", True), (str(PG_INT_MAX), True), ("-1", False)):
            form = Quantity(formdata=MultiDict({"amount": value}), meta={"csrf": False})
            assert form.validate() is ok, value
        form = Quantity(formdata=MultiDict({"amount": "9" * 30}), meta={"csrf": False})
        assert not form.validate() and form.amount.errors == ["That number is out of range."]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("[" * 50_000 + "]" * 50_000, "invalid_json"),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "json_too_deep"),
        ('{"a": ' * 40 + "1" + "}" * 40, "json_too_deep"),
        ('{"name": "a\\u0000b"}', "invalid_characters"),
        ('{"a\\u0000": "key with a NUL"}', "invalid_characters"),
        ('{"name": "\\ud800"}', "invalid_characters"),
        ("{oops", "invalid_json"),
    ],
)
def test_bad_json_bodies_are_400_anywhere(client: FlaskClient, raw: str, code: str) -> None:
    for path in ("/api/v1/cart", "/cart/coupon", "/login"):
        response = client.post(
            path,
            data=raw,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        assert response.status_code == 400, (path, response.status_code)
        # /api/ answers the API's one error shape; other paths the pages' JSON error
        got = response.json["code"] if path.startswith("/api/") else response.json["error"]["code"]
        assert got == code


def test_json_just_within_the_depth_limit_passes_the_edge(client: FlaskClient) -> None:
    raw = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = client.post("/api/v1/cart/estimate", data=raw, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "invalid_json"
    assert "JSON object" in response.json["error"]  # the view's answer, not the edge's


def test_oversized_json_is_413(client: FlaskClient) -> None:
    raw = json.dumps({"q": "x" * (1024 * 1024)})
    response = client.post("/api/v1/cart", data=raw, content_type="application/json")
    assert response.status_code == 413 and response.json["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"code": None}, {"code": ["SAVE", 1]}, {"code": {"x": 1}}, {"course_id": 10**30}],
)
def test_forms_read_json_only_as_text_fields(client: FlaskClient, body: object) -> None:
    for path in ("/cart/coupon", "/cart/items", "/currency", "/cart/country"):
        response = client.post(path, json=body)
        assert response.status_code == 400, path
        assert "as form fields" in response.text


def test_forms_still_accept_a_flat_json_object(client: FlaskClient) -> None:
    course = make_course(prices={"USD": 700})
    response = client.post("/cart/items", json={"course_id": str(course.id)})
    assert response.status_code == 303
    assert ">1<" in client.get("/cart/badge").text


@pytest.fixture
def data_error_app(service_urls: dict[str, str]) -> Iterator[Flask]:
    """A fresh app with one route whose query fails with a DataError (nothing refused it)."""
    application = make_test_app(service_urls, PROPAGATE_EXCEPTIONS=False)

    @application.get("/boom")
    def boom() -> str:
        db.session.execute(sa.text("SELECT CAST(:v AS integer)"), {"v": 10**12})
        return "unreachable"

    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_data_error_that_slips_through_is_400_and_logged(
    data_error_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.core.web"):
        client = data_error_app.test_client()
        page = client.get("/boom")
        api = client.get("/boom", headers={"Accept": "application/json"})
    assert page.status_code == 400 and "cannot be stored" in page.text
    assert api.status_code == 400 and api.json["error"]["code"] == "bad_input"
    assert "event=data_error path=/boom" in caplog.text
