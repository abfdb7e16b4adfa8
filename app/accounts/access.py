"""Who is looking: the one place views read current_user from."""

from __future__ import annotations

from typing import cast

from flask import g
from flask_login import current_user

from app.accounts.models import User


def viewer() -> User | None:
    """The logged-in user, or None for a visitor."""
    if current_user.is_authenticated:
        return cast(User, current_user._get_current_object())
    return None


def loaded_viewer() -> User | None:
    """The logged-in user if this request already loaded one; never loads it, and reads none
    of its columns (after the view's commit they are expired: reading one is a query)."""
    user = g.get("_login_user")  # where Flask-Login keeps the user it loaded for this request
    return user if isinstance(user, User) else None
