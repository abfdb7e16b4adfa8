"""The lecture player page (`/learning/<course>/<lecture>`), its sidebar fragment, and "Mark as
done" for lectures without a video. Watching itself is recorded by the heartbeat route."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, redirect, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_required

from app.accounts.access import viewer
from app.accounts.models import User
from app.core.htmx import render, wants_partial
from app.core.models import utcnow
from app.core.unit import committing
from app.extensions import login_manager
from app.learning import bp
from app.learning.dashboard import end_reason, ended_on
from app.learning.models import Enrollment
from app.learning.playback import LectureMedia
from app.learning.player import Access, PlayerPage, decide_access, get_player_lecture
from app.learning.player import get_player_page as player_page
from app.learning.progress import mark_lecture_done
from app.learning.queries import get_enrollment
from app.media import queries as media_queries

PAGE = "learning/player.html"
SIDEBAR = "learning/partials/lecture_sidebar.html"
DONE_BUTTON = "learning/partials/done_button.html"


def _denied(opened: Opened) -> Response:
    """The 403 page: access ended (why, when, what to do) or the course's pitch."""
    enrollment, found, now = opened.enrollment, opened.found, utcnow()
    return render(
        "learning/player_denied.html",
        "learning/player_denied.html",
        403,
        access=opened.access,
        course=found.course,
        lecture=found.lecture,
        reason=end_reason(enrollment, now) if enrollment else None,
        ended_on=ended_on(enrollment, now) if enrollment else None,
    )


@dataclass(frozen=True)
class Opened:
    found: LectureMedia
    user: User
    enrollment: Enrollment | None
    access: Access

    def page(self) -> PlayerPage:
        """The player page; progress only for a student (staff watch without a record)."""
        return player_page(self.found, self.enrollment if self.access is Access.STUDENT else None)


def _opened(course_slug: str, lecture_id: int) -> Opened:
    """The lecture and how the signed-in viewer may open it; 404 when they may not see it."""
    found, user = get_player_lecture(course_slug, lecture_id), viewer()
    if found is None or user is None:
        abort(404)
    enrollment = get_enrollment(user.id, found.course.id)
    access = decide_access(user, found.course, enrollment)
    if access is Access.HIDDEN:
        abort(404)
    return Opened(found, user, enrollment, access)


@bp.get("/learning/<course_slug>/<int:lecture_id>")
def player(course_slug: str, lecture_id: int) -> ResponseReturnValue:
    """The lecture for students with access, its teacher and admins; for the others a 403
    page saying why; a visitor logs in first."""
    if viewer() is None:
        if get_player_lecture(course_slug, lecture_id) is None:
            abort(404)
        login: Response = login_manager.unauthorized()
        return login
    opened = _opened(course_slug, lecture_id)
    if opened.access in (Access.ENDED, Access.NOT_ENROLLED):
        return _denied(opened)
    page = opened.page()
    # The sidebar fragment (refreshed when a lecture is done) needs no attachments.
    attachments = [] if wants_partial() else media_queries.list_attachments(lecture_id)
    return render(PAGE, SIDEBAR, view=page, attachments=attachments)


@bp.post("/learning/<course_slug>/<int:lecture_id>/done")
@login_required
def mark_done(course_slug: str, lecture_id: int) -> ResponseReturnValue:
    """A lecture without a video is done when the student says so (one with a video: 409):
    back to the player at the next lecture, or for htmx the button's new state with the
    refreshed sidebar."""
    opened = _opened(course_slug, lecture_id)
    if opened.access is not Access.STUDENT:
        abort(403)
    with committing():
        update = mark_lecture_done(opened.user.id, lecture_id)
    if update is None:
        abort(403)
    page = opened.page()
    if not wants_partial():
        target = page.next.id if page.next is not None else lecture_id
        return redirect(url_for("learning.player", course_slug=course_slug, lecture_id=target), 303)
    completed = update.course_completed
    return render(PAGE, DONE_BUTTON, view=page, sidebar_oob=True, course_completed=completed)
