"""The header bell, the user's notifications list and marking them read.

Mark-read URLs name a notification by its random token, never its id; another user's token
is a 404 like an unknown one.
"""

from __future__ import annotations

from uuid import UUID

from flask import g, has_request_context, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_required

from app.accounts.access import loaded_viewer, viewer
from app.core.htmx import redirect_to, render, wants_partial
from app.core.pagination import clamp_page
from app.core.unit import committing
from app.notifications import bp, queries, services

# Sent with every change to what is read, so the header bell refreshes itself (HX-Trigger).
UPDATED = "notifications-updated"


def _unread_count() -> int | None:
    """The signed-in user's unread count, queried once per request and only when shown."""
    user = loaded_viewer() or viewer()
    if user is None:
        return None
    if "_unread_notifications" not in g:
        g._unread_notifications = queries.count_unread(user.id)
    count: int = g._unread_notifications
    return count


@bp.app_context_processor
def _bell() -> dict[str, object]:
    return {"unread_notifications": _unread_count} if has_request_context() else {}


def _list_response(user_id: int, page: int) -> Response:
    return render(
        "notifications/notifications.html",
        "notifications/partials/notification_list.html",
        notifications=queries.page_notifications(user_id, page),
        unread=queries.count_unread(user_id),
    )


def _after_change(user_id: int) -> Response:
    """The list again (HTMX) or back to it (plain form), telling the bell to refresh."""
    page = clamp_page(request.form.get("page"))
    if wants_partial():
        response = _list_response(user_id, page)
    else:
        target = url_for("notifications.notification_list", page=page if page > 1 else None)
        response = redirect_to(target)
    response.headers["HX-Trigger"] = UPDATED
    return response


@bp.get("/notifications")
@login_required
def notification_list() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    return _list_response(user.id, clamp_page(request.args.get("page")))


@bp.get("/notifications/badge")
def badge() -> ResponseReturnValue:
    # A visitor (or a login that ended in another tab) gets an inert badge: no redirect to the
    # login page swapped into the header, and no more polling.
    return render(
        "notifications/partials/bell_badge.html", "notifications/partials/bell_badge.html"
    )


@bp.post("/notifications/<uuid:token>/read")
@login_required
def mark_read(token: UUID) -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    with committing():
        services.mark_read(user.id, str(token))
    return _after_change(user.id)


@bp.post("/notifications/read-all")
@login_required
def mark_all_read() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    with committing():
        services.mark_all_read(user.id)
    return _after_change(user.id)
