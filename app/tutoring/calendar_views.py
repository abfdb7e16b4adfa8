"""Each user's tutoring calendar feed: `GET /tutoring/calendar/<token>.ics`, for a calendar app
to subscribe to. No login (calendar apps have no session): the secret token is the access
check, so a token we did not make, or a user no longer active, is a plain 404."""

from __future__ import annotations

import logging

from flask import Response, abort, current_app
from flask.typing import ResponseReturnValue

from app.accounts.queries import get_user
from app.core.models import utcnow
from app.core.urls import absolute_url
from app.tutoring import bp, calendar

log = logging.getLogger(__name__)


def calendar_feed_url(user_id: int) -> str:
    """The user's feed URL (absolute: it is pasted into a calendar app)."""
    return absolute_url("tutoring.calendar_feed", token=calendar.feed_token(user_id))


bp.add_app_template_global(calendar_feed_url, "calendar_feed_url")


@bp.get("/tutoring/calendar/<token>.ics")
def calendar_feed(token: str) -> ResponseReturnValue:
    user_id = calendar.feed_user_id(token)
    user = get_user(user_id) if user_id is not None else None
    if user is None or not user.active:
        abort(404)
    now = utcnow()
    rows = calendar.list_feed_rows(user.id, now)
    name = f"{current_app.config['SITE_NAME']} tutoring"
    response = Response(
        calendar.sessions_calendar(rows, user.id, name, now),
        content_type="text/calendar; charset=utf-8",
    )
    # The URL is a secret: no shared cache keeps it, and search engines leave it alone.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    log.info("event=tutoring_calendar_feed user_id=%s events=%d", user.id, len(rows))
    return response
