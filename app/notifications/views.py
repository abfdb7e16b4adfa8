"""The user's notifications page and marking one read."""

from __future__ import annotations

from flask import redirect, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_required

from app.accounts.access import viewer
from app.core.htmx import render, wants_partial
from app.extensions import db
from app.notifications import bp, queries, services


def _list_response(user_id: int) -> Response:
    return render(
        "notifications/notifications.html",
        "notifications/partials/list.html",
        notifications=queries.list_notifications(user_id),
        unread=queries.count_unread(user_id),
    )


@bp.get("/notifications")
@login_required
def notification_list() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    return _list_response(user.id)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    services.mark_read(user.id, notification_id)
    db.session.commit()
    if wants_partial():
        return _list_response(user.id)
    return redirect(url_for("notifications.notification_list"), 303)
