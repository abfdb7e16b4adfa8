"""Tutoring pages (the trainer's agenda, the student's sessions) register here.

The trainer's desk (thin routes: parse, call a service, commit once, render): the agenda and
students, a session's page and its mark, the profile with weekly availability, time off."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from app.accounts.models import Role
from app.core.forms import attach_error, text
from app.core.htmx import redirect_to, render, wants_partial
from app.core.models import utcnow
from app.core.unit import committing
from app.extensions import db

# student_views registers the student's session changes on the blueprint when imported, and
# calendar_views the calendar feed (and its URL for templates).
from app.tutoring import bp, calendar_views, student_views  # noqa: F401
from app.tutoring import trainer_desk as desks
from app.tutoring import trainer_profile as profiles
from app.tutoring.desk_forms import MarkForm, TimeOffForm, posted_rows, profile_form, saved_rows
from app.tutoring.desk_web import (
    DESK_PAGE,
    SESSION_PAGE,
    can_tutor,
    desk_context,
    desk_required,
    desk_user,
    mark_answer,
    my_trainer,
    profile_context,
    session_context,
    time_off_context,
    trainer_required,
    trainer_user,
    viewed_trainer,
)
from app.tutoring.models import Trainer

bp.add_app_template_global(can_tutor, "can_tutor")
PROFILE_PAGE = "tutoring/desk_profile.html"
PROFILE_PARTIAL = "tutoring/partials/desk_profile.html"
TIME_OFF_PAGE = "tutoring/desk_time_off.html"
TIME_OFF_PARTIAL = "tutoring/partials/desk_time_off.html"


@bp.get("/tutoring/")
@desk_required
def desk() -> ResponseReturnValue:
    user = desk_user()
    trainer = viewed_trainer(user)
    if trainer is None and user.role is Role.ADMIN:
        page = "tutoring/desk_trainers.html"
        return render(page, page, trainers=desks.list_trainers())
    if trainer is None:  # a trainer account without a profile yet: set it up here
        form = profile_form(None, profiles.specialty_choices())
        return render(PROFILE_PAGE, PROFILE_PAGE, **profile_context(form, saved_rows([]), None))
    days = request.args.get("days", desks.AGENDA_DAYS, type=int)
    return render(DESK_PAGE, DESK_PAGE, **desk_context(trainer, user, utcnow(), days))


@bp.get("/tutoring/sessions/<int:session_id>")
@desk_required
def session_page(session_id: int) -> ResponseReturnValue:
    user = desk_user()
    mine = desks.get_trainer(user.id) if user.role is Role.TRAINER else None
    if user.role is Role.TRAINER and mine is None:
        return redirect(url_for("tutoring.desk"), 303)
    session = desks.own_session(mine, session_id)
    trainer = mine or db.get_or_404(Trainer, session.trainer_id or 0)
    context = session_context(trainer, session, user, utcnow())
    return render(SESSION_PAGE, SESSION_PAGE, **context)


@bp.post("/tutoring/sessions/<int:session_id>/mark")
@trainer_required
def mark_session(session_id: int) -> ResponseReturnValue:
    trainer = my_trainer()
    session = desks.own_session(trainer, session_id, for_update=True)
    form = MarkForm()
    now = utcnow()
    message = ""
    with committing(catch=True) as unit:
        if not form.validate():
            raise desks.MarkRefused("Keep the note under 1000 characters.", field="note")
        marked = desks.mark_session(session, trainer, text(form.status), text(form.note), now)
        message = f"Session {marked.number} marked {marked.status.label.lower()}."
    return mark_answer(trainer, session_id, unit.error, message, now)


@bp.route("/tutoring/profile", methods=["GET", "POST"])
@trainer_required
def profile() -> ResponseReturnValue:
    user = trainer_user()
    trainer = desks.get_trainer(user.id)
    form = profile_form(trainer, profiles.specialty_choices())
    slot_error = None
    rows = posted_rows(request.form) if request.method == "POST" else None
    if form.validate_on_submit():
        with committing(catch=True) as unit:
            profiles.save_profile(user.id, trainer, form.profile(), rows or [])
        if unit.ok:
            flash("Your profile is saved." if trainer else "Your profile is set up.", "success")
            return redirect_to(url_for("tutoring.profile" if trainer else "tutoring.desk"))
        slot_error = unit.error if isinstance(unit.error, profiles.SlotRefused) else None
        if unit.error is not None and slot_error is None:
            attach_error(form, unit.error)
    if rows is None:
        rows = saved_rows(profiles.list_week(trainer.id) if trainer else [])
    status = 422 if form.errors or form.form_errors or slot_error else 200
    context = profile_context(form, rows, trainer, slot_error)
    return render(PROFILE_PAGE, PROFILE_PARTIAL, status, **context)


@bp.route("/tutoring/time-off", methods=["GET", "POST"])
@trainer_required
def time_off() -> ResponseReturnValue:
    trainer = my_trainer()
    form = TimeOffForm()
    done = ""
    if form.validate_on_submit():
        with committing(form) as unit:
            added = desks.add_time_off(
                trainer, text(form.starts), text(form.ends), text(form.reason), utcnow()
            )
            done = _moved_note(len(added.moved))
        if unit.ok and not wants_partial():
            flash(done, "success")
            return redirect(url_for("tutoring.time_off"), 303)
        if unit.ok:
            form = TimeOffForm(formdata=None)
    status = 422 if form.errors or form.form_errors else 200
    context = time_off_context(trainer, form, utcnow(), done)
    return render(TIME_OFF_PAGE, TIME_OFF_PARTIAL, status, **context)


def _moved_note(moved: int) -> str:
    if not moved:
        return "Time off added. No session falls in it."
    sessions = "1 session falls" if moved == 1 else f"{moved} sessions fall"
    return f"Time off added. {sessions} in it: each now waits for another trainer (students told)."


@bp.post("/tutoring/time-off/<int:time_off_id>/delete")
@trainer_required
def delete_time_off(time_off_id: int) -> ResponseReturnValue:
    trainer = my_trainer()
    with committing():
        desks.delete_time_off(trainer, time_off_id)
    if not wants_partial():
        flash("Time off removed.", "success")
        return redirect(url_for("tutoring.time_off"), 303)
    context = time_off_context(trainer, TimeOffForm(formdata=None), utcnow(), "Time off removed.")
    return render(TIME_OFF_PAGE, TIME_OFF_PARTIAL, **context)
