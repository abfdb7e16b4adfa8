"""Reads of user accounts."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user(user_id: int) -> User | None:
    """The user with this id, or None."""
    return db.session.get(User, user_id)


def get_user_by_email(email: str) -> User | None:
    """The user with this email, compared case-insensitively."""
    stmt = select(User).where(func.lower(User.email) == normalise_email(email))
    return db.session.scalars(stmt).first()


def get_session_user(session_id: str) -> User | None:
    """The active user a login cookie names, if its session version is still current."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = get_user(int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
