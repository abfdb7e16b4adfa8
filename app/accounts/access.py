"""Role checks for views: the one place that reads current_user's role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user, login_required

from app.accounts.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: Role) -> Callable[[F], F]:
    """Login required, and one of the roles (admins pass every check); 403 otherwise."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, login_required(wrapper))

    return decorate


def viewer() -> User | None:
    """The logged-in user, or None for a visitor."""
    if current_user.is_authenticated:
        return cast(User, current_user._get_current_object())
    return None
