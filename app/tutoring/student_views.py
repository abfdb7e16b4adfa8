"""The student's changes to a session, from their order page: cancel it (the credit comes
back as a session at the end) or move it, up to 24 hours before it starts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.accounts.access import viewer
from app.core.htmx import redirect_to
from app.core.security import is_safe_redirect
from app.core.unit import committing
from app.tutoring import bp
from app.tutoring.changes import cancel_session, reschedule_session
from app.tutoring.forms import SessionChangeForm


def _back() -> str:
    target = request.form.get("next", "")
    return target if is_safe_redirect(target) else url_for("learning.my_learning")


@bp.post("/tutoring/sessions/<int:session_id>/cancel")
@login_required
def cancel(session_id: int) -> ResponseReturnValue:
    if not SessionChangeForm().validate_on_submit():
        abort(400)
    student = viewer()
    assert student is not None  # login_required
    with committing(catch=True) as unit:
        replacement = cancel_session(session_id, student.id)
    if unit.error is not None:
        flash(unit.error.message, "error")
    else:
        flash(f"Session canceled; session {replacement.number} was added at the end.", "success")
    return redirect_to(_back())


@bp.post("/tutoring/sessions/<int:session_id>/move")
@login_required
def move(session_id: int) -> ResponseReturnValue:
    form = SessionChangeForm()
    if not form.validate_on_submit():
        abort(400)
    student = viewer()
    assert student is not None
    try:
        zone = ZoneInfo(form.timezone.data or "UTC")
        when = datetime.fromisoformat(form.starts_at.data or "").replace(tzinfo=zone)
    except (ValueError, KeyError):
        flash("Choose the new day and time.", "error")
        return redirect_to(_back())
    with committing(catch=True) as unit:
        reschedule_session(session_id, student.id, when)
    if unit.error is not None:
        flash(unit.error.message, "error")
    else:
        flash(f"Session moved to {when:%a %d %b, %H:%M}.", "success")
    return redirect_to(_back())
