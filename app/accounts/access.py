"""Who is looking: the one place views read current_user from."""

from __future__ import annotations

from typing import cast

from flask_login import current_user

from app.accounts.models import User


def viewer() -> User | None:
    """The logged-in user, or None for a visitor."""
    if current_user.is_authenticated:
        return cast(User, current_user._get_current_object())
    return None
