"""Login sessions: one row per sign-in on a device, ended by logout, "log out everywhere" and
a password change. The cookies carry "user id:token"; the table keeps only the token's hash."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.accounts.models import LoginSession, User
from app.core.models import utcnow
from app.extensions import db

# last_seen_at is a hint for the sessions list, not an audit trail: one write per few minutes.
TOUCH_EVERY = timedelta(minutes=5)

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def summarise_user_agent(header: str) -> str:
    """'Firefox on Linux' from a User-Agent header; the raw start of it when unrecognised."""
    browser = next((name for mark, name in _BROWSERS if mark in header), "")
    if not browser and "Safari/" in header:
        browser = "Safari"
    system = next((name for mark, name in _SYSTEMS if mark in header), "")
    if browser:
        return f"{browser} on {system}" if system else browser
    return re.sub(r"[^\x20-\x7e]", "", header)[:120] or "Unknown device"


def login_lifetime(remember: bool) -> timedelta:
    """How long a login lives: the remember cookie's lifetime, else the idle time of a browser
    session (which each touch moves on)."""
    lifetime: timedelta = current_app.config[
        "REMEMBER_COOKIE_DURATION" if remember else "SESSION_IDLE"
    ]
    return lifetime


def start_login_session(user: User, *, remember: bool, user_agent: str) -> LoginSession:
    """A new live login for the user; from now on `user.get_id()` names it."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    login = LoginSession(
        token_hash=LoginSession.hash_token(token),
        user_id=user.id,
        remember=remember,
        user_agent=summarise_user_agent(user_agent),
        created_at=now,
        last_seen_at=now,
        expires_at=now + login_lifetime(remember),
    )
    db.session.add(login)
    db.session.flush()
    user.attach_login(login, token)
    return login


def revoke_login_session(login_id: int) -> None:
    """End one login: its session and remember cookies stop working."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == login_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_user_sessions(user_id: int, keep: int | None = None) -> int:
    """End every live login of the user except `keep`; returns how many ended."""
    stmt = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep)
    result = db.session.execute(stmt.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def needs_touch(last_seen_at: datetime) -> bool:
    return utcnow() - last_seen_at >= TOUCH_EVERY


def touch_login_session(session: Session, login: LoginSession) -> None:
    """Record activity on a live login; a browser-only login's idle expiry moves on with it."""
    now = utcnow()
    values = {"last_seen_at": now}
    if not login.remember:
        values["expires_at"] = now + login_lifetime(remember=False)
    # This runs beside the request's own transaction: never wait long on a lock it might hold.
    session.execute(text("SET LOCAL lock_timeout = '2s'"))
    session.execute(
        update(LoginSession)
        .where(
            LoginSession.id == login.id,
            LoginSession.revoked_at.is_(None),
            LoginSession.last_seen_at < now - TOUCH_EVERY,  # a concurrent request already did it
        )
        .values(**values)
    )
