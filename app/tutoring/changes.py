"""A student changing a session: cancel it or move it, up to CHANGE_NOTICE before it starts.

Canceling in time returns the credit: the session is canceled and a replacement is added
after the package's last session, on the next day the schedule allows with the same trainer
free (the package keeps its number of sessions). Moving it picks another start that lies in
the trainer's weekly window and overlaps nothing of theirs. Later than CHANGE_NOTICE, the
session stands (the trainer may still mark it a no-show)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.core.db import lock
from app.core.errors import DomainError, NotFound
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.tutoring.assignment import busy_intervals
from app.tutoring.models import (
    SessionStatus,
    Trainer,
    TrainerSlot,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.notices import send_session_canceled, send_session_moved
from app.tutoring.purchases import stored_choice
from app.tutoring.schedule import Interval, overlaps, session_starts
from app.tutoring.scoring import WeeklySlot

CHANGE_NOTICE = timedelta(hours=24)


class SessionChangeRefused(DomainError):
    code = "session_change_refused"
    status = 409


def _own_session(session_id: int, student_id: int) -> TutoringSession:
    session = db.session.get(TutoringSession, session_id)
    if session is None or session.student_id != student_id:
        raise NotFound("No such session.")
    return lock(TutoringSession, session_id)


def _check_notice(session: TutoringSession, now: datetime) -> None:
    if session.status is not SessionStatus.SCHEDULED:
        raise SessionChangeRefused(f"This session is {session.status.label.lower()}.")
    if session.starts_at - now < CHANGE_NOTICE:
        hours = int(CHANGE_NOTICE.total_seconds() // 3600)
        raise SessionChangeRefused(
            f"Sessions can be changed up to {hours} hours before they start; this one stands."
        )


def _busy(trainer_id: int, around: datetime) -> list[Interval]:
    """The trainer's open sessions and time off from a day before `around` onward."""
    window = busy_intervals([trainer_id], around - timedelta(days=1), around + timedelta(days=400))
    return window[trainer_id]


def cancel_session(
    session_id: int, student_id: int, now: datetime | None = None
) -> TutoringSession:
    """Cancel a session in time; its credit comes back as a session after the last one (the
    replacement, returned). Refused (409) inside CHANGE_NOTICE or when not scheduled."""
    now = now or utcnow()
    session = _own_session(session_id, student_id)
    _check_notice(session, now)
    purchase = lock(TutoringPurchase, session.purchase_id)
    session.status = SessionStatus.CANCELED
    session.note = "Canceled by the student in time; the session was added at the end."
    session.marked_at = now
    last = db.session.scalar(
        select(func.max(TutoringSession.starts_at)).where(
            TutoringSession.purchase_id == purchase.id,
            TutoringSession.status != SessionStatus.CANCELED,
        )
    )
    trainer_id = session.trainer_id
    if trainer_id is None:
        raise SessionChangeRefused("This session has no trainer yet.")
    lock(Trainer, trainer_id)  # the hour chosen below stays theirs
    choice = stored_choice(purchase)
    after = (last or session.starts_at).date()
    starts = session_starts(choice.schedule, 1, blocked=_busy(trainer_id, now), after=after)
    if not starts:
        raise SessionChangeRefused("No free time is left with your trainer for a replacement.")
    number = db.session.scalar(
        select(func.max(TutoringSession.number)).where(TutoringSession.purchase_id == purchase.id)
    )
    replacement = TutoringSession(
        purchase_id=purchase.id,
        trainer_id=trainer_id,
        student_id=session.student_id,
        number=int(number or 0) + 1,
        starts_at=starts[0],
        duration_min=session.duration_min,
        status=SessionStatus.SCHEDULED,
    )
    db.session.add(replacement)
    db.session.flush()
    # The trainer is told (and the student has it confirmed) once this commits.
    enqueue_after_commit(send_session_canceled, session.id, replacement.id, retry=NOTIFY_RETRY)
    return replacement


def reschedule_session(
    session_id: int, student_id: int, new_start: datetime, now: datetime | None = None
) -> TutoringSession:
    """Move a session in time to `new_start` (aware), inside the trainer's weekly window and
    clear of their other sessions and time off."""
    now = now or utcnow()
    session = _own_session(session_id, student_id)
    _check_notice(session, now)
    if new_start.tzinfo is None:
        raise SessionChangeRefused("Give the new time with its time zone.")
    if new_start - now < CHANGE_NOTICE:
        raise SessionChangeRefused("Choose a new time at least 24 hours from now.")
    if session.trainer_id is None:
        raise SessionChangeRefused("This session has no trainer yet.")
    trainer = lock(Trainer, session.trainer_id)
    end = new_start + timedelta(minutes=session.duration_min)
    if not _in_window(trainer, new_start, end):
        raise SessionChangeRefused("Your trainer does not teach at that time.")
    busy = [b for b in _busy(trainer.id, now) if b[0] != session.starts_at]
    if overlaps(new_start, end, busy):
        raise SessionChangeRefused("Your trainer is busy then: choose another time.")
    old_start = session.starts_at
    session.starts_at = new_start
    session.note = "Moved by the student."
    db.session.flush()
    # Both instants travel with the job: a second move before it runs must not blur this one.
    enqueue_after_commit(
        send_session_moved,
        session.id,
        old_start.isoformat(),
        new_start.isoformat(),
        retry=NOTIFY_RETRY,
    )
    return session


def _in_window(trainer: Trainer, start: datetime, end: datetime) -> bool:
    zone = ZoneInfo(trainer.timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    slots = db.session.scalars(
        select(TrainerSlot).where(TrainerSlot.trainer_id == trainer.id)
    ).all()
    return any(
        WeeklySlot(s.weekday, s.starts, s.ends).slack(local_start, local_end) is not None
        for s in slots
    )
