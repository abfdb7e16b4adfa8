"""Who may use the console: admins only, on every /admin route (a blueprint-wide check, so a new
route cannot forget it). A visitor goes to log in; any other role gets 403."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask.typing import ResponseReturnValue
from flask.wrappers import Response

from app.accounts.access import viewer
from app.accounts.audit import Actor
from app.accounts.models import Role, User
from app.admin import bp
from app.config import ROOT
from app.extensions import login_manager


@bp.before_request
def admins_only() -> ResponseReturnValue | None:
    user = viewer()
    if user is None:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    if user.role is not Role.ADMIN:
        abort(403)
    return None


@bp.after_request
def never_cached(response: Response) -> Response:
    # Orders, emails and payloads: no shared cache or back-button copy may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def admin_user() -> User:
    """The signed-in admin (admins_only has already turned everyone else away)."""
    user = viewer()
    if user is None or user.role is not Role.ADMIN:
        abort(403)  # admins_only has refused them already; this keeps the type honest
    return user


def actor() -> Actor:
    """The admin making this request, as the audit log records them."""
    return Actor(admin_user(), "web", request.remote_addr)


STYLESHEETS = sorted(
    p.name for p in (ROOT / "static" / "css" / "admin").glob("*.css") if p.name != "console.css"
)


@bp.context_processor
def console_context() -> dict[str, Any]:
    from app.admin.alerts import open_alerts

    return {"open_alerts": open_alerts(), "admin_stylesheets": STYLESHEETS}
