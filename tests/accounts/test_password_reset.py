"""Forgot password → emailed link (real .eml outbox, real worker) → new password, sessions revoked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts import passwords, tokens
from app.accounts.models import User
from app.core.models import utcnow
from app.extensions import db
from tests.accounts.conftest import Outbox, queued, run_jobs
from tests.conftest import login_as
from tests.factories import PASSWORD, make_user

HX = {"HX-Request": "true"}
NEW_PASSWORD = "brand-new-pass-42"
SAME_ANSWER = "If an account exists for that address, we sent it a link"


# A CSRF token is signed with the second it was made: two answers a second apart differ there only.
_CSRF = re.compile(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]+')


def _page(html: str) -> str:
    return _CSRF.sub(r"\1…", html)


def _forgot(client: FlaskClient, email: str, ip: str = "10.9.0.1", **kw: object) -> object:
    return client.post(
        "/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": ip}, **kw
    )


def _reset(
    client: FlaskClient, path: str, password: str = NEW_PASSWORD, confirm: str = ""
) -> object:
    return client.post(path, data={"password": password, "confirm": confirm or password})


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def _password_is(user: User, password: str) -> bool:
    db.session.expire(user)
    return passwords.verify_password(user.password_hash, password)


def test_login_page_links_to_forgot_password(client: FlaskClient) -> None:
    page = client.get("/login")
    assert 'href="/password/forgot"' in page.text and "Forgot password?" in page.text
    fragment = client.post("/login", data={"email": "x@example.com", "password": "x"}, headers=HX)
    assert 'href="/password/forgot"' in fragment.text  # still there after a failed attempt


def test_forgot_page_and_fragment(client: FlaskClient) -> None:
    page = client.get("/password/forgot")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="forgot-form"' in page.text
    fragment = client.get("/password/forgot", headers=HX)
    assert "<html" not in fragment.text
    assert '<form id="forgot-form"' in fragment.text
    bad = client.post("/password/forgot", data={"email": "not-an-address"}, headers=HX)
    assert bad.status_code == 422 and "<html" not in bad.text
    assert 'id="forgot-form"' in bad.text and "valid" in bad.text


def test_the_whole_reset_flow(
    app: Flask, client: FlaskClient, db_session: Session, outbox: Outbox
) -> None:
    user = make_user(email="ada@example.com", name="Ada Lovelace")
    other_device = app.test_client()
    login_as(other_device, user)
    assert _signed_in(other_device)

    answer = _forgot(client, "ADA@example.com ")
    assert answer.status_code == 200 and SAME_ANSWER in answer.text
    assert outbox.messages() == [] and queued() == 1  # sent by a job, not in the request
    run_jobs()
    [message] = outbox.messages()
    assert message["To"] == "ada@example.com"
    assert "Reset your Coursefront password" in message["Subject"]
    [path] = outbox.links("/password/reset/")

    form = client.get(path)
    assert form.status_code == 200 and 'id="reset-form"' in form.text
    assert form.headers["Referrer-Policy"] == "no-referrer"
    done = _reset(client, path)
    assert done.status_code == 303 and done.headers["Location"] == "/"

    assert _password_is(user, NEW_PASSWORD) and not _password_is(user, PASSWORD)
    assert _signed_in(client)  # signed in fresh on this device
    assert not _signed_in(other_device)  # every older login was revoked
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.text
    assert 'href="/password/forgot"' in again.text and "Send a new link" in again.text


def test_unknown_email_gets_the_same_answer_and_no_mail(
    client: FlaskClient, db_session: Session, outbox: Outbox
) -> None:
    make_user(email="known@example.com")
    known = _forgot(client, "known@example.com", ip="10.9.1.1")
    unknown = _forgot(client, "nobody@example.com", ip="10.9.1.2")
    assert (known.status_code, _page(known.text)) == (unknown.status_code, _page(unknown.text))
    assert SAME_ANSWER in unknown.text
    known_hx = _forgot(client, "known@example.com", ip="10.9.1.3", headers=HX)
    unknown_hx = _forgot(client, "nobody@example.com", ip="10.9.1.4", headers=HX)
    assert _page(known_hx.text) == _page(unknown_hx.text) and "<html" not in known_hx.text
    run_jobs()
    assert [m["To"] for m in outbox.messages()] == ["known@example.com"] * 2


def test_a_link_works_once_and_older_links_die_with_it(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    first = f"/password/reset/{tokens.password_reset_token(user)}"
    second = (
        f"/password/reset/{tokens.password_reset_token(user, now=utcnow() - timedelta(seconds=5))}"
    )
    assert _reset(client, first).status_code == 303
    reused = _reset(client, first, password="another-pass-77")
    assert reused.status_code == 400 and "already been used" in reused.text
    assert _reset(client, second, password="another-pass-77").status_code == 400
    assert _password_is(user, NEW_PASSWORD)


def test_an_expired_link_is_refused(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    fresh = tokens.password_reset_token(user, now=utcnow() - timedelta(minutes=59))
    stale = tokens.password_reset_token(user, now=utcnow() - timedelta(minutes=61))
    page = client.get(f"/password/reset/{stale}")
    assert page.status_code == 400 and "expired" in page.text
    assert "Send a new link" in page.text and 'href="/password/forgot"' in page.text
    assert _reset(client, f"/password/reset/{stale}").status_code == 400
    assert _password_is(user, PASSWORD)
    assert client.get(f"/password/reset/{fresh}").status_code == 200


def test_the_clock_decides_expiry(app: Flask, db_session: Session) -> None:
    user = make_user()
    token = tokens.password_reset_token(user)
    assert tokens.user_for_reset(token, now=utcnow() + timedelta(minutes=59)).id == user.id
    with pytest.raises(tokens.BadLink) as refused:
        tokens.user_for_reset(token, now=utcnow() + timedelta(minutes=61))
    assert refused.value.problem is tokens.LinkProblem.EXPIRED


def test_a_tampered_link_is_refused(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    token = tokens.password_reset_token(user)
    flipped = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other_salt = tokens.email_verify_token(user)  # a verification link is no reset link
    for bad in (flipped, other_salt, "garbage", token + "x"):
        page = client.get(f"/password/reset/{bad}")
        assert page.status_code == 400 and "not valid" in page.text, bad
        assert _reset(client, f"/password/reset/{bad}").status_code == 400
    assert _password_is(user, PASSWORD)


def test_the_new_password_follows_the_strength_rule(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    path = f"/password/reset/{tokens.password_reset_token(user)}"
    weak = _reset(client, path, password="password")
    assert weak.status_code == 422 and "Use at least 8 characters" not in weak.text
    error = re.search(r'<p class="error" id="password-error">([^<]*)</p>', weak.text)
    assert error is not None and "too common" in error.group(1)  # next to the field
    mismatch = _reset(client, path, password=NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert mismatch.status_code == 422 and "don&#39;t match" in mismatch.text
    assert _password_is(user, PASSWORD)
    assert _reset(client, path).status_code == 303  # the link survived the failed tries


def test_forgot_is_rate_limited_per_email(client: FlaskClient, db_session: Session) -> None:
    statuses = [
        _forgot(client, "Target@example.com", ip=f"10.9.2.{i}").status_code for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    blocked = _forgot(client, "target@example.com", ip="10.9.2.50", headers=HX)
    assert blocked.status_code == 429 and 'id="forgot-form"' in blocked.text
    found = re.search(r"Too many attempts\. Try again in (\d+) minutes\.", blocked.text)
    assert found is not None and 1 <= int(found.group(1)) <= 60
    assert 0 < int(blocked.headers["Retry-After"]) <= 3600
    assert _forgot(client, "someone-else@example.com", ip="10.9.2.51").status_code == 200


def test_forgot_is_rate_limited_per_ip(client: FlaskClient, db_session: Session) -> None:
    statuses = [_forgot(client, f"p{i}@example.com", ip="10.9.3.1").status_code for i in range(11)]
    assert statuses == [200] * 10 + [429]
    page = _forgot(client, "p99@example.com", ip="10.9.3.1")
    assert page.status_code == 429 and "<html" in page.text and "Try again in" in page.text
