"""Logging out ends a session on the server: a real HTTP client against the live server.

Each test copies cookies out of one client and replays them from a fresh one, as someone
who lifted them from a shared computer would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import update

from app.accounts.models import LoginSession
from app.accounts.queries import list_login_sessions
from app.core.models import utcnow
from tests.conftest import IsolatedClient, login_as
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.committed


def _log_in(base: str, email: str, remember: bool = False) -> requests.Session:
    client = requests.Session()
    data = {"email": email, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    response = client.post(f"{base}/login", data=data, allow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def _opens_orders(base: str, cookies: dict[str, str]) -> bool:
    """True when these cookies alone open /orders; False when they are sent to the login page."""
    response = requests.get(f"{base}/orders", cookies=cookies, allow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def _session_cookie(client: requests.Session) -> dict[str, str]:
    return {"session": client.cookies["session"]}


def _remember_cookie(client: requests.Session) -> dict[str, str]:
    return {"remember_token": client.cookies["remember_token"]}


def _log_out(base: str, client: requests.Session) -> None:
    response = client.post(f"{base}/logout", allow_redirects=False)
    assert response.status_code == 303


def test_a_session_cookie_copied_before_logout_is_refused_after_it(
    committed: Any, live_server: str
) -> None:
    make_user(email="copied@example.com")
    committed.commit()
    client = _log_in(live_server, "copied@example.com")
    copied = _session_cookie(client)
    assert _opens_orders(live_server, copied)
    _log_out(live_server, client)
    assert not _opens_orders(live_server, copied)
    assert not _opens_orders(live_server, _session_cookie(client))


def test_a_remember_cookie_alone_is_refused_after_logout(committed: Any, live_server: str) -> None:
    make_user(email="remembered@example.com")
    committed.commit()
    client = _log_in(live_server, "remembered@example.com", remember=True)
    remember = _remember_cookie(client)
    assert _opens_orders(live_server, remember)  # the cookie alone signs in, before logout
    _log_out(live_server, client)
    assert "remember_token" not in client.cookies  # the logout response deleted it
    assert not _opens_orders(live_server, remember)


def test_log_out_everywhere_ends_every_session(committed: Any, live_server: str) -> None:
    make_user(email="everywhere@example.com")
    committed.commit()
    laptop = _log_in(live_server, "everywhere@example.com")
    phone = _log_in(live_server, "everywhere@example.com", remember=True)
    copies = [_session_cookie(laptop), _session_cookie(phone), _remember_cookie(phone)]
    profile = laptop.get(f"{live_server}/account")
    assert "Log out everywhere" in profile.text
    assert "This device" in profile.text and profile.text.count('<li class="login-session') == 2
    response = laptop.post(f"{live_server}/account/sessions/logout-all", allow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    for cookies in copies:
        assert not _opens_orders(live_server, cookies)


def test_password_change_ends_other_sessions_but_keeps_this_one(
    committed: Any, live_server: str
) -> None:
    make_user(email="rotate@example.com")
    committed.commit()
    this = _log_in(live_server, "rotate@example.com", remember=True)
    other = _log_in(live_server, "rotate@example.com", remember=True)
    others = [_session_cookie(other), _remember_cookie(other)]
    response = this.post(
        f"{live_server}/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "fresh-start-42",
            "confirm": "fresh-start-42",
        },
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert _opens_orders(live_server, _session_cookie(this))
    assert _opens_orders(live_server, _remember_cookie(this))  # this device stays remembered
    for cookies in others:
        assert not _opens_orders(live_server, cookies)


def test_last_seen_is_written_every_few_minutes_not_on_every_request(
    committed: Any, live_app: Flask
) -> None:
    user = make_user()
    committed.commit()
    live_app.test_client_class = IsolatedClient
    client = live_app.test_client()
    login_as(client, user)
    login_id = list_login_sessions(user.id)[0].id

    def seen(at: datetime) -> LoginSession:
        committed.execute(update(LoginSession).values(last_seen_at=at))
        committed.commit()
        assert client.get("/orders").status_code == 200
        committed.expire_all()
        row = committed.get(LoginSession, login_id)
        assert row is not None
        return row

    recent = utcnow() - timedelta(minutes=1)
    assert seen(recent).last_seen_at == recent  # within the window: no write
    long_ago = utcnow() - timedelta(minutes=10)
    touched = seen(long_ago)
    assert touched.last_seen_at > long_ago + timedelta(minutes=9)
    # a login without "keep me signed in" ends after SESSION_IDLE without requests, so the
    # touch moved its expiry on
    assert touched.expires_at > touched.last_seen_at + live_app.config["SESSION_IDLE"] - timedelta(
        seconds=1
    )
