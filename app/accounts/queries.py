"""Reads of user accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from app.accounts.models import LoginSession, User
from app.core.models import utcnow
from app.extensions import db

# A Flask-Login id is "user id:login token"; an id this long cannot be a PostgreSQL integer.
_MAX_ID_DIGITS = 9


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user(user_id: int) -> User | None:
    """The user with this id, or None."""
    return db.session.get(User, user_id)


def get_user_by_email(email: str) -> User | None:
    """The user with this email, compared case-insensitively."""
    stmt = select(User).where(func.lower(User.email) == normalise_email(email))
    return db.session.scalars(stmt).first()


def get_session_user(login_id: str) -> User | None:
    """The active user a login cookie names, while its login session is live: one query."""
    user_id, _, token = login_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= _MAX_ID_DIGITS and token):
        return None
    stmt = (
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            User.active.is_(True),
            LoginSession.token_hash == LoginSession.hash_token(token),
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > utcnow(),
        )
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    user, login = row
    user.attach_login(login, token)
    return user


def list_login_sessions(user_id: int) -> Sequence[LoginSession]:
    """The user's live logins, most recently active first."""
    stmt = (
        select(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > utcnow(),
        )
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return db.session.scalars(stmt).all()
