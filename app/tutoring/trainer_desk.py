"""The trainer's desk: their agenda and students, marking a session done or no-show, and time
off (which moves the sessions it covers to pending reassignment and tells everyone concerned).
The profile and weekly availability live in trainer_profile.py.

Times are stored in UTC and handed to the pages on the trainer's own wall clock
(Trainer.timezone), so an agenda day is the trainer's day, not UTC's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select

from app.accounts.models import User
from app.catalog.models import Course
from app.core.db import lock
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.jobs.queues import CRITICAL_RETRY, NOTIFY_RETRY, enqueue_after_commit
from app.tutoring.lifecycle import finish_if_used_up
from app.tutoring.models import (
    AllocationStatus,
    SessionStatus,
    Trainer,
    TrainerAllocation,
    TrainerTimeOff,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.notices import send_sessions_moved

log = logging.getLogger(__name__)
SUBSTITUTE_JOB = "app.tutoring.jobs.substitute_sessions"

AGENDA_DAYS, MAX_AGENDA_DAYS = 14, 120  # the agenda's window, and how far "show more" goes
TO_MARK_LIMIT = 50  # started, unmarked sessions listed at once (oldest first)
MARKS = (SessionStatus.DONE, SessionStatus.NO_SHOW)
NOTE_LENGTH = 1000
LONGEST_SESSION = timedelta(minutes=90)  # schedule.DURATIONS' longest: bounds overlap queries
LONGEST_TIME_OFF = timedelta(days=366)


class MarkRefused(DomainError):
    code = "cannot_mark"
    status = 422


class TimeOffRefused(DomainError):
    code = "invalid_time_off"
    status = 422


def zone_of(trainer: Trainer) -> ZoneInfo:
    return ZoneInfo(trainer.timezone)


def get_trainer(user_id: int) -> Trainer | None:
    """The user's trainer profile, if they have set one up."""
    return db.session.scalars(select(Trainer).where(Trainer.user_id == user_id)).one_or_none()


def list_trainers() -> list[tuple[Trainer, str]]:
    """Every trainer with their name, for an admin choosing whose desk to look at."""
    rows = db.session.execute(
        select(Trainer, User.name).join(User, User.id == Trainer.user_id).order_by(User.name)
    )
    return [(t, str(name)) for t, name in rows]


# --- reading the agenda ------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """A session as the trainer sees it; times on the trainer's wall clock."""

    id: int
    number: int
    tier: int
    starts_at: datetime
    duration_min: int
    status: SessionStatus
    note: str
    student_name: str
    course_title: str
    marked_at: datetime | None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_min)

    def can_mark(self, now: datetime) -> bool:
        return self.status is SessionStatus.SCHEDULED and self.starts_at <= now

    def waits_to_start(self, now: datetime) -> bool:
        return self.status is SessionStatus.SCHEDULED and self.starts_at > now


def _session_rows(
    trainer: Trainer, *where: ColumnElement[bool], limit: int = 500
) -> list[SessionRow]:
    zone = zone_of(trainer)
    rows = db.session.execute(
        select(TutoringSession, User.name, Course.title, TutoringPurchase.tier)
        .join(TutoringPurchase, TutoringPurchase.id == TutoringSession.purchase_id)
        .join(User, User.id == TutoringSession.student_id)
        .join(Course, Course.id == TutoringPurchase.course_id)
        .where(TutoringSession.trainer_id == trainer.id, *where)
        .order_by(TutoringSession.starts_at, TutoringSession.id)
        .limit(limit)
    )
    return [
        SessionRow(
            id=s.id,
            number=s.number,
            tier=int(tier),
            starts_at=s.starts_at.astimezone(zone),
            duration_min=s.duration_min,
            status=s.status,
            note=s.note,
            student_name=str(name),
            course_title=str(title),
            marked_at=s.marked_at.astimezone(zone) if s.marked_at else None,
        )
        for s, name, title, tier in rows
    ]


@dataclass(frozen=True)
class AgendaDay:
    day: date
    sessions: list[SessionRow]


@dataclass(frozen=True)
class Agenda:
    days: list[AgendaDay]
    window: int  # days shown from now
    more: bool  # sessions exist after the window
    today: date  # the trainer's today


def list_to_mark(trainer: Trainer, now: datetime) -> list[SessionRow]:
    """Sessions that have started and still wait for done / no-show, oldest first."""
    return _session_rows(
        trainer,
        TutoringSession.status == SessionStatus.SCHEDULED,
        TutoringSession.starts_at <= now,
        limit=TO_MARK_LIMIT,
    )


def get_agenda(trainer: Trainer, now: datetime, days: int = AGENDA_DAYS) -> Agenda:
    """The sessions starting in the next `days` days, grouped by the trainer's local day."""
    days = max(1, min(days, MAX_AGENDA_DAYS))
    until = now + timedelta(days=days)
    window = (TutoringSession.starts_at > now, TutoringSession.starts_at < until)
    rows = _session_rows(trainer, *window)
    grouped: dict[date, list[SessionRow]] = {}
    for row in rows:
        grouped.setdefault(row.starts_at.date(), []).append(row)
    later = db.session.scalar(
        select(TutoringSession.id)
        .where(TutoringSession.trainer_id == trainer.id, TutoringSession.starts_at >= until)
        .limit(1)
    )
    today = now.astimezone(zone_of(trainer)).date()
    return Agenda([AgendaDay(d, s) for d, s in grouped.items()], days, later is not None, today)


@dataclass(frozen=True)
class StudentRow:
    purchase_id: int
    student_name: str
    student_email: str
    course_title: str
    attended: int
    bought: int
    next_session: datetime | None  # on the trainer's wall clock


def list_students(trainer: Trainer, now: datetime) -> list[StudentRow]:
    """The trainer's active allocations: who, which course, sessions attended of bought, and
    the next session still to come (three aggregates in one query)."""
    done = func.count(TutoringSession.id).filter(TutoringSession.status == SessionStatus.DONE)
    upcoming = and_(
        TutoringSession.starts_at > now,
        TutoringSession.status.in_(SessionStatus.OPEN),  # type: ignore[attr-defined]
    )
    rows = db.session.execute(
        select(
            TutoringPurchase.id,
            User.name,
            User.email,
            Course.title,
            TutoringPurchase.tier,
            done,
            func.min(TutoringSession.starts_at).filter(upcoming),
        )
        .select_from(TrainerAllocation)
        .join(TutoringPurchase, TutoringPurchase.id == TrainerAllocation.purchase_id)
        .join(User, User.id == TutoringPurchase.user_id)
        .join(Course, Course.id == TutoringPurchase.course_id)
        .outerjoin(TutoringSession, TutoringSession.purchase_id == TutoringPurchase.id)
        .where(
            TrainerAllocation.trainer_id == trainer.id,
            TrainerAllocation.status == AllocationStatus.APPROVED,
            TutoringPurchase.active.is_(True),
        )
        .group_by(TutoringPurchase.id, User.name, User.email, Course.title)
        .order_by(User.name, TutoringPurchase.id)
    )
    zone = zone_of(trainer)
    return [
        StudentRow(pid, name, email, title, int(n), int(tier), nxt and nxt.astimezone(zone))
        for pid, name, email, title, tier, n, nxt in rows
    ]


# --- one session ---------------------------------------------------------------------------


def own_session(
    trainer: Trainer | None, session_id: int, *, for_update: bool = False
) -> TutoringSession:
    """The trainer's session; NotFound for anyone else's (an admin, trainer None, sees any)."""
    stmt = select(TutoringSession).where(TutoringSession.id == session_id)
    if for_update:
        stmt = stmt.with_for_update()
    session = db.session.scalars(stmt).one_or_none()
    if session is None or (trainer is not None and session.trainer_id != trainer.id):
        raise NotFound("No such session on your desk.")
    return session


def session_row(trainer: Trainer, session_id: int) -> SessionRow:
    return _session_rows(trainer, TutoringSession.id == session_id)[0]


def list_package_sessions(trainer: Trainer, purchase_id: int) -> list[SessionRow]:
    """Every session of the purchase this trainer teaches (for the session's page)."""
    return _session_rows(trainer, TutoringSession.purchase_id == purchase_id)


def mark_session(
    session: TutoringSession, trainer: Trainer, status: str, note: str, now: datetime
) -> TutoringSession:
    """A started, scheduled session becomes done or no-show, with the note and when."""
    try:
        mark = SessionStatus(status)
    except ValueError:
        mark = SessionStatus.SCHEDULED
    if mark not in MARKS:
        raise MarkRefused("Mark the session done or no-show.", field="status")
    if session.starts_at > now:
        when = session.starts_at.astimezone(zone_of(trainer))
        raise MarkRefused(
            f"This session hasn't started yet: you can mark it from {when:%a %d %b, %H:%M}."
        )
    if session.status is not SessionStatus.SCHEDULED:
        raise MarkRefused(f"This session is already marked: {session.status.label}.")
    session.status = mark
    session.note = note.strip()[:NOTE_LENGTH]
    session.marked_at = now
    db.session.flush()
    finish_if_used_up(session.purchase_id, now)  # the last one frees the trainer's place
    log.info("event=tutoring_session_marked session=%s status=%s", session.id, mark.value)
    return session


# --- time off ------------------------------------------------------------------------------


def list_time_off(trainer: Trainer, now: datetime) -> list[TrainerTimeOff]:
    """Time off not over yet, soonest first."""
    return list(
        db.session.scalars(
            select(TrainerTimeOff)
            .where(TrainerTimeOff.trainer_id == trainer.id, TrainerTimeOff.ends_at > now)
            .order_by(TrainerTimeOff.starts_at)
        )
    )


def local_instant(raw: str, zone: ZoneInfo, field: str) -> datetime:
    """A datetime-local value ("2026-03-01T09:00") on the trainer's clock, as UTC."""
    try:
        naive = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise TimeOffRefused("Choose a date and time.", field=field) from None
    if naive.tzinfo is not None:
        raise TimeOffRefused("Choose a date and time.", field=field)
    return naive.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class TimeOffAdded:
    time_off: TrainerTimeOff
    moved: Sequence[int]  # the sessions now pending reassignment


def add_time_off(
    trainer: Trainer, starts: str, ends: str, reason: str, now: datetime
) -> TimeOffAdded:
    """Time off from `starts` to `ends` (the trainer's local time). Scheduled sessions it
    overlaps go to pending reassignment, and the students and the trainer are told after the
    commit. The trainer's row is locked first, as assignment does, so a purchase being
    assigned meanwhile either sees this time off or has its sessions moved by it."""
    zone = zone_of(trainer)
    start, end = local_instant(starts, zone, "starts"), local_instant(ends, zone, "ends")
    if end <= start:
        raise TimeOffRefused("The end must be after the start.", field="ends")
    if start < now.replace(second=0, microsecond=0):
        raise TimeOffRefused("Time off can't start in the past.", field="starts")
    if end - start > LONGEST_TIME_OFF:
        raise TimeOffRefused("Add time off of at most a year at once.", field="ends")
    lock(Trainer, trainer.id)
    time_off = TrainerTimeOff(
        trainer_id=trainer.id, starts_at=start, ends_at=end, reason=reason.strip()[:200]
    )
    db.session.add(time_off)
    moved = _move_sessions(trainer.id, start, end)
    db.session.flush()
    if moved:
        enqueue_after_commit(send_sessions_moved, trainer.id, moved, retry=NOTIFY_RETRY)
        # Then a substitute for each, at the same time (a job: it scores every trainer).
        enqueue_after_commit(SUBSTITUTE_JOB, moved, retry=CRITICAL_RETRY)
    log.info("event=tutoring_time_off trainer=%s moved=%d", trainer.id, len(moved))
    return TimeOffAdded(time_off, moved)


def _move_sessions(trainer_id: int, start: datetime, end: datetime) -> list[int]:
    """The trainer's scheduled sessions overlapping [start, end) → pending reassignment."""
    candidates = db.session.scalars(
        select(TutoringSession)
        .where(
            TutoringSession.trainer_id == trainer_id,
            TutoringSession.status == SessionStatus.SCHEDULED,
            TutoringSession.starts_at < end,
            TutoringSession.starts_at > start - LONGEST_SESSION,
        )
        .order_by(TutoringSession.starts_at)
        .with_for_update()
    ).all()
    moved = []
    for session in candidates:
        if session.starts_at + timedelta(minutes=session.duration_min) > start:
            session.status = SessionStatus.PENDING_REASSIGNMENT
            moved.append(session.id)
    return moved


def delete_time_off(trainer: Trainer, time_off_id: int) -> None:
    """The trainer's time off is removed (sessions it moved stay pending reassignment)."""
    time_off = db.session.get(TrainerTimeOff, time_off_id)
    if time_off is None or time_off.trainer_id != trainer.id:
        raise NotFound("No such time off.")
    db.session.delete(time_off)
    db.session.flush()
