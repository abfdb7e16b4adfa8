"""Sign-up mails a verification link; a banner asks until it is followed; resend; a new email
address starts over."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import tokens
from app.accounts.models import User
from app.accounts.queries import get_user_by_email
from app.core.models import utcnow
from app.extensions import db
from tests.accounts.conftest import Outbox, queued, run_jobs
from tests.conftest import login_as
from tests.factories import make_course, make_user

HX = {"HX-Request": "true"}
BANNER = 'id="verify-banner"'


def _register(client: FlaskClient, email: str = "vera@example.com") -> None:
    data = {
        "name": "Vera Fied",
        "email": email,
        "password": "learning-2026",
        "confirm": "learning-2026",
    }
    assert client.post("/register", data=data).status_code == 303


def _fresh(user: User) -> User:
    db.session.expire(user)
    return user


def test_sign_up_mails_a_link_and_the_banner_asks_until_it_is_followed(
    client: FlaskClient, db_session: Session, outbox: Outbox
) -> None:
    _register(client)
    user = get_user_by_email("vera@example.com")
    assert user is not None and user.email_verified_at is None
    assert outbox.messages() == [] and queued() == 1  # a job after commit, not the request
    home = client.get("/")
    assert BANNER in home.text and "Please confirm your email" in home.text
    assert 'action="/account/verify/resend"' in home.text and "Resend" in home.text

    course = make_course("Open to all", prices={"USD": 1000})
    assert client.get(f"/courses/{course.slug}").status_code == 200  # browsing works unverified
    assert client.post("/cart/items", data={"course_id": course.id}).status_code == 303

    run_jobs()
    [message] = outbox.messages()
    assert message["To"] == "vera@example.com" and "Confirm your email" in message["Subject"]
    [path] = outbox.links("/account/verify/")
    done = client.get(path)
    assert done.status_code == 303
    assert _fresh(user).email_verified_at is not None
    after = client.get("/")
    assert BANNER not in after.text and "is confirmed" in after.text
    assert client.get(path).status_code == 303  # following it twice is harmless


def test_the_link_works_without_being_signed_in(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    response = client.get(f"/account/verify/{tokens.email_verify_token(user)}")
    assert response.status_code == 303
    assert _fresh(user).email_verified_at is not None


def test_resend_plain_and_htmx(client: FlaskClient, db_session: Session, outbox: Outbox) -> None:
    user = make_user()
    login_as(client, user)
    plain = client.post("/account/verify/resend", data={"next": "/courses"})
    assert plain.status_code == 303 and plain.headers["Location"] == "/courses"
    assert "We sent a new link" in client.get("/courses").text
    fragment = client.post("/account/verify/resend", data={"next": "/"}, headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="verify-banner"')
    assert "We sent a new link" in fragment.text
    run_jobs()
    assert [m["To"] for m in outbox.messages()] == [user.email] * 2
    evil = client.post("/account/verify/resend", data={"next": "https://evil.example/"})
    assert evil.headers["Location"] == "/"


def test_resend_is_rate_limited(client: FlaskClient, db_session: Session) -> None:
    login_as(client, make_user())
    statuses = [client.post("/account/verify/resend", headers=HX).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    blocked = client.post("/account/verify/resend", headers=HX)
    assert blocked.status_code == 429 and "<html" not in blocked.text
    assert blocked.text.lstrip().startswith('<div id="verify-banner"')
    assert re.search(r"Try again in \d+ minutes\.", blocked.text)
    page = client.post("/account/verify/resend")
    assert page.status_code == 429 and "Try again in" in page.text


def test_resend_needs_login_and_csrf(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: object
) -> None:
    assert client.post("/account/verify/resend").status_code == 302
    login_as(client, make_user())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/account/verify/resend").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert queued() == 0


def test_changing_the_email_starts_verification_over(
    client: FlaskClient, db_session: Session, outbox: Outbox
) -> None:
    user = make_user(email="old@example.com", name="Ola Old")
    user.email_verified_at = utcnow()
    old_link = f"/account/verify/{tokens.email_verify_token(user)}"
    login_as(client, user)
    assert BANNER not in client.get("/").text
    client.post("/account", data={"name": "Ola Old", "email": "old@example.com", "country": ""})
    assert queued() == 0 and _fresh(user).email_verified_at is not None  # same address: no mail

    saved = client.post(
        "/account", data={"name": "Ola Old", "email": "new@example.com", "country": ""}
    )
    assert saved.status_code == 303
    assert _fresh(user).email_verified_at is None
    assert BANNER in client.get("/").text
    stale = client.get(old_link)
    assert stale.status_code == 400 and "no longer the one on your account" in stale.text
    assert "Send a new link to new@example.com" in stale.text
    assert _fresh(user).email_verified_at is None
    run_jobs()
    [message] = outbox.messages()
    assert message["To"] == "new@example.com"
    [path] = outbox.links("/account/verify/")
    assert client.get(path).status_code == 303
    assert _fresh(user).email_verified_at is not None


def test_expired_and_tampered_links(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    stale = tokens.email_verify_token(user, now=utcnow() - timedelta(hours=49))
    expired = client.get(f"/account/verify/{stale}")
    assert expired.status_code == 400 and "expired" in expired.text
    assert "Log in to send a new link" in expired.text
    tampered = client.get(f"/account/verify/{tokens.password_reset_token(user)}")
    assert tampered.status_code == 400 and "not valid" in tampered.text
    assert _fresh(user).email_verified_at is None


def test_demo_users_are_verified(app: Flask, db_session: Session) -> None:
    from app.demo import seed_demo

    seed_demo()
    db.session.flush()
    assert db.session.scalars(select(User).where(User.email_verified_at.is_(None))).all() == []
