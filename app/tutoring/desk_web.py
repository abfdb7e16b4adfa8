"""Who may use the trainer's desk, and what its pages share: each page's context and how a
mark answers (the fragment for HTMX, a 303 back to the page without JavaScript).

A trainer uses their own desk; an admin may look at any trainer's desk and sessions, read
only. Everyone else signed in gets 403, a visitor goes to log in. Sessions and time off are
always loaded through their trainer: another trainer's answers 404."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, request, url_for
from flask.wrappers import Response
from sqlalchemy import select

from app.accounts.access import viewer
from app.accounts.models import Role, User
from app.core.errors import DomainError, NotFound
from app.core.htmx import render, wants_partial
from app.extensions import db
from app.tutoring import trainer_desk as desk
from app.tutoring.areas import area
from app.tutoring.desk_forms import MarkForm
from app.tutoring.models import Trainer, TutoringMode, TutoringPurchase, TutoringSession
from app.tutoring.trainer_profile import WEEKDAYS, RawSlot

F = TypeVar("F", bound=Callable[..., Any])

DESK_ROLES = (Role.TRAINER, Role.ADMIN)
DESK_PAGE = "tutoring/desk.html"
SESSION_PAGE = "tutoring/desk_session.html"
TO_MARK_PARTIAL = "tutoring/partials/desk_to_mark.html"
SESSION_PARTIAL = "tutoring/partials/desk_session.html"


def can_tutor(user: User | None) -> bool:
    """The header's Tutoring link: trainers (admins reach desks from the console)."""
    return user is not None and user.role is Role.TRAINER


def _signed_in(roles: tuple[Role, ...]) -> User:
    user = viewer()
    if user is None:
        from app.extensions import login_manager

        abort(login_manager.unauthorized())
    if user.role not in roles:
        abort(403)
    return user


def desk_user() -> User:
    """The signed-in trainer or admin (a visitor goes to log in, anyone else gets 403)."""
    return _signed_in(DESK_ROLES)


def trainer_user() -> User:
    """The signed-in trainer: what changes a desk is theirs alone (an admin gets 403)."""
    return _signed_in((Role.TRAINER,))


def _required(check: Callable[[], User]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            check()
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


desk_required = _required(desk_user)
trainer_required = _required(trainer_user)


def my_trainer() -> Trainer:
    """The signed-in trainer's profile; NotFound before they have set one up."""
    trainer = desk.get_trainer(trainer_user().id)
    if trainer is None:
        raise NotFound("Set up your trainer profile first.")
    return trainer


def viewed_trainer(user: User) -> Trainer | None:
    """Whose desk the page shows: a trainer's own, or for an admin the one in ?trainer=."""
    if user.role is not Role.ADMIN:
        return desk.get_trainer(user.id)
    trainer_id = request.args.get("trainer", type=int)
    if trainer_id is None:
        return None
    trainer = db.session.get(Trainer, trainer_id)
    if trainer is None:
        raise NotFound("No such trainer.")
    return trainer


def trainer_name(trainer: Trainer) -> str:
    return str(db.session.scalar(select(User.name).where(User.id == trainer.user_id)) or "")


def desk_context(trainer: Trainer, user: User, now: datetime, days: int) -> dict[str, Any]:
    editable = trainer.user_id == user.id
    return {
        "trainer": trainer,
        "trainer_name": trainer_name(trainer),
        "editable": editable,
        "now": now.astimezone(desk.zone_of(trainer)),
        "agenda": desk.get_agenda(trainer, now, days),
        "to_mark": desk.list_to_mark(trainer, now),
        "students": desk.list_students(trainer, now),
        "more_days": min(days + desk.AGENDA_DAYS, desk.MAX_AGENDA_DAYS),
        "mark_form": MarkForm(formdata=None),
        "back": "desk",
    }


def session_context(
    trainer: Trainer, session: TutoringSession, user: User, now: datetime
) -> dict[str, Any]:
    purchase = db.session.get(TutoringPurchase, session.purchase_id)
    assert purchase is not None  # the session's foreign key
    student = db.session.get(User, session.student_id)
    place = area(purchase.details.get("area")) if purchase.mode is TutoringMode.IN_PERSON else None
    student_zone = str(purchase.details.get("timezone") or "UTC")
    return {
        "trainer": trainer,
        "editable": trainer.user_id == user.id,
        "now": now.astimezone(desk.zone_of(trainer)),
        "s": desk.session_row(trainer, session.id),
        "student": student,
        "purchase": purchase,
        "place": place,
        "student_zone": student_zone,
        "student_time": session.starts_at.astimezone(ZoneInfo(student_zone)),
        "package": desk.list_package_sessions(trainer, session.purchase_id),
        "mark_form": MarkForm(formdata=None),
        "back": "session",
    }


def profile_context(
    form: Any, rows: Sequence[RawSlot], trainer: Trainer | None, slot_error: Any = None
) -> dict[str, Any]:
    """The profile form's page: the form, the weekly rows shown, a weekly row's error."""
    return {
        "form": form,
        "rows": rows,
        "trainer": trainer,
        "slot_error": slot_error,
        "setup": trainer is None,
        "weekdays": WEEKDAYS,
    }


def time_off_context(trainer: Trainer, form: Any, now: datetime, done: str = "") -> dict[str, Any]:
    return {
        "trainer": trainer,
        "form": form,
        "items": desk.list_time_off(trainer, now),
        "zone": desk.zone_of(trainer),
        "done": done,
    }


def mark_answer(
    trainer: Trainer,
    session_id: int,
    error: DomainError | None,
    message: str,
    now: datetime,
) -> Response:
    """After a mark: HTMX gets the list (or the session's card) it came from, 422 with the
    error in it; a plain form post goes back to that page with the message flashed."""
    user = trainer_user()
    on_session = request.form.get("back") == "session"
    if not wants_partial():
        flash(error.message if error else message, "error" if error else "success")
        target = (
            url_for("tutoring.session_page", session_id=session_id)
            if on_session
            else url_for("tutoring.desk")
        )
        return redirect(target, 303)  # type: ignore[return-value]
    status = 422 if error else 200
    if on_session:
        session = desk.own_session(trainer, session_id)
        context = session_context(trainer, session, user, now)
        return render(SESSION_PAGE, SESSION_PARTIAL, status, error=error, done=message, **context)
    context = desk_context(trainer, user, now, desk.AGENDA_DAYS)
    context |= {"error": error, "done": message, "oob": True}
    return render(DESK_PAGE, TO_MARK_PARTIAL, status, **context)
