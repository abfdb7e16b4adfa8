"""The remember cookie: SameSite=Lax, HttpOnly, Secure in production, 30 days by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.config import ConfigError, load_config
from tests.conftest import make_test_app
from tests.factories import PASSWORD, make_user


def _remember_cookie(response: Any) -> dict[str, str]:
    """The remember_token Set-Cookie header as {attribute (lower case): value}."""
    header = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")
    )
    parts = [p.strip().partition("=") for p in header.split(";")]
    return {name.lower(): value for name, _, value in parts}


def _log_in(client: FlaskClient, email: str) -> Any:
    data = {"email": email, "password": PASSWORD, "remember": "y"}
    response = client.post("/login", data=data)
    assert response.status_code == 303
    return response


def test_remember_cookie_is_lax_httponly_and_lasts_30_days(client: FlaskClient) -> None:
    cookie = _remember_cookie(_log_in(client, make_user().email))
    assert cookie["samesite"] == "Lax"
    assert "httponly" in cookie
    assert "secure" not in cookie  # plain http in development and tests
    lifetime = parsedate_to_datetime(cookie["expires"]) - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)


@pytest.mark.committed
def test_remember_cookie_is_secure_in_production(
    committed: Any, service_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(email="prod@example.com")
    committed.commit()
    monkeypatch.setenv("APP_ENV", "production")  # production defaults come from the environment
    production = make_test_app(service_urls, APP_ENV="production")
    cookie = _remember_cookie(_log_in(production.test_client(), "prod@example.com"))
    assert "secure" in cookie and cookie["samesite"] == "Lax" and "httponly" in cookie


def test_remember_days_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEMBER_COOKIE_DAYS", "7")
    assert load_config()["REMEMBER_COOKIE_DURATION"] == timedelta(days=7)
    monkeypatch.setenv("REMEMBER_COOKIE_DAYS", "0")
    with pytest.raises(ConfigError, match="REMEMBER_COOKIE_DAYS"):
        load_config()
    monkeypatch.setenv("REMEMBER_COOKIE_DAYS", "a month")
    with pytest.raises(ConfigError, match="REMEMBER_COOKIE_DAYS"):
        load_config()
