"""Token login for apps: register, login, refresh rotation and reuse, logout, me, and the ways
a token stops working (expiry, tampering, password change, deactivation), through real HTTP
requests on the real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import services
from app.accounts.api_tokens import issue_access_token
from app.accounts.audit import Actor
from app.accounts.models import LOGIN_API, LoginSession, RefreshToken, Role, User
from app.admin.people import set_active
from app.core.models import utcnow
from tests.api.tokens import bearer
from tests.conftest import login_as
from tests.factories import PASSWORD, make_user

AUTH_001 = {
    "success": False,
    "status": 401,
    "error": "Invalid or expired token",
    "code": "AUTH_001",
}
NEW_PASSWORD = "another-long-passphrase-42"


def _login(client: FlaskClient, user: User, password: str = PASSWORD) -> Any:
    answer = client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    assert answer.status_code == 200, answer.json
    return answer.json


def _me(client: FlaskClient, token: str) -> Any:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def _refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refreshToken": refresh_token})


def test_register_signs_the_app_in(client: FlaskClient, db_session: Session) -> None:
    body = {"email": "Ada@Example.com", "password": NEW_PASSWORD, "firstName": "Ada",
            "lastName": "King Lovelace"}  # fmt: skip
    answer = client.post("/api/v1/auth/register", json=body)
    assert answer.status_code == 201, answer.json
    reply = answer.json
    assert reply["success"] is True and reply["status"] == 201
    assert reply["data"]["token"] == reply["token"] and reply["refreshToken"]
    me = _me(client, reply["token"])
    assert me.status_code == 200
    assert me.json["data"]["user"] == {
        "id": reply["user"]["id"],
        "email": "ada@example.com",
        "firstName": "Ada",
        "lastName": "King Lovelace",
        "name": "Ada King Lovelace",
        "role": "student",
        "emailVerified": False,
    }
    login = db_session.scalars(
        select(LoginSession).where(LoginSession.user_id == reply["user"]["id"])
    ).one()
    assert login.kind == LOGIN_API
    assert "Set-Cookie" not in answer.headers  # no browser session

    taken = client.post("/api/v1/auth/register", json={**body, "email": "ada@example.com"})
    assert taken.status_code == 409 and taken.json["field"] == "email"
    weak = client.post("/api/v1/auth/register", json={**body, "email": "b@example.com",
                                                       "password": "short"})  # fmt: skip
    assert weak.status_code == 422 and weak.json["field"] == "password"
    extra = client.post("/api/v1/auth/register", json={**body, "role": "admin"})
    assert extra.status_code == 422 and extra.json["field"] == "role"


def test_login_answers_the_seeds_shape(client: FlaskClient, db_session: Session) -> None:
    user = make_user(Role.TEACHER, name="Grace Brewster Hopper")
    answer = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    reply = answer.json
    assert (reply["success"], reply["status"], reply["expiresIn"]) == (True, 200, 15 * 60)
    for name in ("token", "refreshToken", "user", "expiresIn"):
        assert reply["data"][name] == reply[name]
    assert reply["user"]["role"] == "teacher" and reply["user"]["lastName"] == "Brewster Hopper"
    assert _me(client, reply["token"]).json["data"]["user"]["id"] == user.id

    wrong = client.post("/api/v1/auth/login", json={"email": user.email, "password": "nope"})
    assert wrong.status_code == 401 and wrong.json["code"] == "invalid_credentials"
    assert "token" not in wrong.json


def test_a_missing_expired_or_tampered_token_answers_auth_001(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    good = bearer(user)["Authorization"].removeprefix("Bearer ")
    assert _me(client, good).status_code == 200
    login = db_session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).one()
    expired = issue_access_token(user, login, now=utcnow() - timedelta(minutes=16)).token
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    tampered = [f"{header}.{payload}.{flipped}", f"{header}.{payload[:-2]}xx.{signature}"]
    for token in [expired, *tampered, "not-a-jwt"]:
        answer = _me(client, token)
        assert answer.status_code == 401
        assert answer.json == AUTH_001
    assert client.get("/api/v1/auth/me").json == AUTH_001
    assert client.get("/api/v1/auth/me", headers={"Authorization": good}).json == AUTH_001


def test_a_refresh_token_is_good_once_and_hands_out_the_next(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    first = _login(client, user)
    second = _refresh(client, first["refreshToken"])
    assert second.status_code == 200, second.json
    rotated = second.json
    assert rotated["refreshToken"] != first["refreshToken"] and rotated["token"]
    assert rotated["user"]["id"] == user.id
    assert _me(client, rotated["token"]).status_code == 200
    third = _refresh(client, rotated["refreshToken"])
    assert third.status_code == 200
    # One family: every token names the same login, whose life follows its newest token.
    rows = db_session.scalars(select(RefreshToken).order_by(RefreshToken.id)).all()
    assert len({row.login_id for row in rows}) == 1 and len(rows) == 3
    assert [row.used_at is not None for row in rows] == [True, True, False]
    login = db_session.get(LoginSession, rows[0].login_id)
    assert login is not None
    db_session.refresh(login)
    assert login.expires_at == rows[2].expires_at

    assert _refresh(client, "unknown-token").json == AUTH_001
    rows[2].expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert _refresh(client, third.json["refreshToken"]).json == AUTH_001


def test_reusing_a_spent_refresh_token_ends_its_whole_family(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    first = _login(client, user)
    other_device = _login(client, user)
    second = _refresh(client, first["refreshToken"]).json
    reused = _refresh(client, first["refreshToken"])
    assert reused.status_code == 401 and reused.json == AUTH_001
    # The thief's copy and the owner's newest tokens die together: both sign in again.
    for token in (first["token"], second["token"]):
        assert _me(client, token).json == AUTH_001
    assert _refresh(client, second["refreshToken"]).json == AUTH_001
    # Another sign-in of the same user is another family.
    assert _me(client, other_device["token"]).status_code == 200
    assert _refresh(client, other_device["refreshToken"]).status_code == 200


def test_logout_ends_the_access_and_refresh_tokens(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    phone, tablet, kept = _login(client, user), _login(client, user), _login(client, user)
    headers = {"Authorization": f"Bearer {phone['token']}"}
    answer = client.post("/api/v1/auth/logout", json={"refreshToken": tablet["refreshToken"]},
                         headers=headers)  # fmt: skip
    assert answer.status_code == 200 and answer.json["data"] == {"loggedOut": True}
    for ended in (phone, tablet):
        assert _me(client, ended["token"]).json == AUTH_001
        assert _refresh(client, ended["refreshToken"]).json == AUTH_001
    assert _me(client, kept["token"]).status_code == 200
    # A refresh token of someone else's is not ended by my logout.
    stranger = _login(client, make_user())
    kept_headers = {"Authorization": f"Bearer {kept['token']}"}
    client.post("/api/v1/auth/logout", json={"refreshToken": stranger["refreshToken"]},
                headers=kept_headers)  # fmt: skip
    assert _refresh(client, stranger["refreshToken"]).status_code == 200
    assert client.post("/api/v1/auth/logout").json == AUTH_001


def test_a_password_change_ends_every_token(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    tokens = _login(client, user)
    web_token = bearer(user)["Authorization"].removeprefix("Bearer ")
    services.change_password(user, PASSWORD, NEW_PASSWORD)
    db_session.flush()
    assert _me(client, tokens["token"]).json == AUTH_001
    assert _me(client, web_token).json == AUTH_001
    assert _refresh(client, tokens["refreshToken"]).json == AUTH_001
    assert _me(client, _login(client, user, NEW_PASSWORD)["token"]).status_code == 200


def test_deactivation_ends_every_token(client: FlaskClient, db_session: Session) -> None:
    admin, user = make_user(Role.ADMIN), make_user()
    tokens = _login(client, user)
    set_active(user, False, Actor(admin, "web", "127.0.0.1"), "abuse")
    db_session.flush()
    assert _me(client, tokens["token"]).json == AUTH_001
    assert _refresh(client, tokens["refreshToken"]).json == AUTH_001
    again = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 401


def test_failed_logins_are_limited_per_account_in_the_api_shape(
    client: FlaskClient, db_session: Session
) -> None:
    user, other = make_user(), make_user()
    bad = {"email": user.email, "password": "wrong-password"}
    answers = [client.post("/api/v1/auth/login", json=bad) for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    limited = answers[-1]
    assert limited.json["success"] is False and limited.json["code"] == "RATE_LIMITED"
    assert 0 < limited.json["retryAfter"] <= 60
    assert limited.headers["Retry-After"] == str(limited.json["retryAfter"])
    # Even the right password waits now; another account does not.
    right = {"email": user.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/login", json=right).status_code == 429
    _login(client, other)


def test_the_api_budget_is_per_token_across_routes(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    first, second = bearer(make_user()), bearer(make_user())
    assert client.get("/api/v1/auth/me", headers=first).status_code == 200
    assert client.get("/api/v1/enrollments/me", headers=first).status_code == 200
    assert client.get("/api/v1/auth/me", headers=first).status_code == 200
    limited = client.get("/api/v1/enrollments/me", headers=first)
    assert limited.status_code == 429 and limited.json["code"] == "RATE_LIMITED"
    assert "retryAfter" in limited.json
    # The other token (another app install) has its own budget.
    for _ in range(3):
        assert client.get("/api/v1/auth/me", headers=second).status_code == 200
    assert client.get("/api/v1/auth/me", headers=second).status_code == 429


def test_routes_with_limits_of_their_own_still_spend_the_api_budget(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    user = make_user()
    for _ in range(2):
        _login(client, user)  # no token: the address's budget
    assert client.get("/api/v1/auth/me").status_code == 401
    answer = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert answer.status_code == 429 and answer.json["code"] == "RATE_LIMITED"


def test_the_sessions_page_names_app_sign_ins(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    _login(client, user)
    login_as(client, user)
    page = client.get("/account")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("App (API sign-in)") == 1
