"""Tutoring jobs. `assign_trainer` is critical (2/4/8 s retries, then the failed registry,
from which the console retries it); the notices are not: a failure is logged and retried on
its own, and never touches the purchase or its allocation. The "trainer assigned" emails
carry the package as `sessions.ics`; `send_session_reminders` runs from cron."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import aliased

from app.accounts.models import Role, User
from app.catalog.models import Course
from app.core.metrics import count_tutoring_assignment
from app.core.models import utcnow
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.notifications.mail import Attachment
from app.notifications.models import Notification, NotificationKind
from app.notifications.services import notify
from app.tutoring import calendar
from app.tutoring.assignment import auto_assign
from app.tutoring.models import (
    AllocationStatus,
    SessionStatus,
    Trainer,
    TrainerAllocation,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.notices import send_substitutes
from app.tutoring.substitutes import find_substitutes

log = logging.getLogger(__name__)


def assign_trainer(purchase_id: int) -> str:
    """Allocate a trainer to the purchase (or leave it pending for an admin); its status.
    Every attempt is counted, after its commit: approved, pending, or failed (raised)."""
    try:
        with committing():
            allocation = auto_assign(purchase_id)
            enqueue_after_commit(send_allocation_notices, allocation.id, retry=NOTIFY_RETRY)
    except Exception:
        count_tutoring_assignment("failed")
        raise  # RQ retries it (2/4/8 s), then the failed registry
    count_tutoring_assignment(allocation.status.value)
    return allocation.status.value


def _when(instant: datetime, zone: str) -> str:
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M}"


def send_allocation_notices(allocation_id: int) -> None:
    """Approved: the student (with why this trainer) and the trainer; pending: every admin.
    One notification per person and allocation, however often this runs."""
    allocation = db.session.get(TrainerAllocation, allocation_id)
    if allocation is None:
        return
    purchase = db.session.get(TutoringPurchase, allocation.purchase_id)
    assert purchase is not None  # the allocation's foreign key
    student = db.session.get(User, purchase.user_id)
    course = db.session.get(Course, purchase.course_id)
    assert student is not None
    assert course is not None
    common: dict[str, Any] = {
        "course_title": course.title,
        "tier": purchase.tier,
        "student_name": student.name,
    }
    with committing():
        if allocation.status is AllocationStatus.APPROVED:
            _approved(allocation, purchase, student, common)
        elif allocation.status is AllocationStatus.PENDING:
            for admin in db.session.scalars(
                select(User).where(User.role == Role.ADMIN, User.active.is_(True))
            ):
                notify(
                    admin,
                    f"allocation:{allocation.id}:pending",
                    NotificationKind.ALLOCATION_PENDING,
                    note=allocation.note,
                    **common,
                )
    log.info("event=tutoring_notices allocation=%s status=%s", allocation.id, allocation.status)


def _approved(
    allocation: TrainerAllocation,
    purchase: TutoringPurchase,
    student: User,
    common: dict[str, Any],
) -> None:
    trainer = db.session.get(Trainer, allocation.trainer_id)
    assert trainer is not None
    trainer_user = db.session.get(User, trainer.user_id)
    assert trainer_user is not None
    rows = calendar.list_package_rows(purchase.id)
    first = rows[0].session.starts_at if rows else None
    student_zone = str(purchase.details.get("timezone") or "UTC")
    notify(
        student,
        f"allocation:{allocation.id}:student",
        NotificationKind.TRAINER_ASSIGNED,
        link=absolute_url("learning.my_learning"),
        attachments=_package_ics(rows, student.id, common["course_title"]),
        calendar=bool(rows),
        trainer_name=trainer_user.name,
        reasons=allocation.reasons,
        first_session=_when(first, student_zone) if first else "to be scheduled",
        timezone=student_zone,
        **common,
    )
    theirs = [r for r in rows if r.trainer_user_id == trainer_user.id]
    notify(
        trainer_user,
        f"allocation:{allocation.id}:trainer",
        NotificationKind.NEW_STUDENT,
        attachments=_package_ics(theirs, trainer_user.id, common["course_title"]),
        calendar=bool(theirs),
        first_session=_when(first, trainer.timezone) if first else "to be scheduled",
        timezone=trainer.timezone,
        **common,
    )


def _package_ics(rows: list[calendar.SessionRow], viewer_id: int, title: str) -> list[Attachment]:
    """The package's sessions as `sessions.ics` (none when there are no sessions yet)."""
    if not rows:
        return []
    text = calendar.sessions_calendar(rows, viewer_id, title, utcnow())
    return [calendar.calendar_attachment(text)]


# -- reminders ----------------------------------------------------------------------------------

SOON = timedelta(hours=1)  # the "1 h" reminder: the session starts within this
AHEAD = timedelta(hours=24)  # the "24 h" one: within this (and later than SOON)
REMINDER = NotificationKind.SESSION_REMINDER


@dataclass(frozen=True)
class _Reminder:
    person: User
    key: str
    soon: bool
    for_trainer: bool
    zone: str
    session: TutoringSession
    title: str
    tier: int
    other_name: str


def _upcoming(now: datetime) -> list[Any]:
    """Scheduled sessions with a trainer starting within AHEAD: one query, people included."""
    student, trainer_user = aliased(User), aliased(User)
    return list(
        db.session.execute(
            select(
                TutoringSession,
                TutoringPurchase.tier,
                TutoringPurchase.details,
                Course.title,
                student,
                trainer_user,
                Trainer.timezone,
            )
            .join(TutoringPurchase, TutoringPurchase.id == TutoringSession.purchase_id)
            .join(Course, Course.id == TutoringPurchase.course_id)
            .join(student, student.id == TutoringSession.student_id)
            .join(Trainer, Trainer.id == TutoringSession.trainer_id)
            .join(trainer_user, trainer_user.id == Trainer.user_id)
            .where(
                TutoringSession.status == SessionStatus.SCHEDULED,
                TutoringSession.starts_at > now,
                TutoringSession.starts_at <= now + AHEAD,
            )
            .order_by(TutoringSession.starts_at, TutoringSession.id)
        )
    )


def _reminders(rows: list[Any], now: datetime) -> list[_Reminder]:
    due: list[_Reminder] = []
    for session, tier, details, title, student, trainer_user, trainer_zone in rows:
        # A window missed entirely (booked 30 min ahead) sends only the one still ahead.
        soon = session.starts_at - now <= SOON
        key = f"session:{session.id}:reminder:{'1h' if soon else '24h'}"
        student_zone = str(details.get("timezone") or "UTC")
        sides = (
            (student, False, student_zone, trainer_user.name),
            (trainer_user, True, trainer_zone, student.name),
        )
        due += [
            _Reminder(person, key, soon, for_trainer, zone, session, title, tier, other)
            for person, for_trainer, zone, other in sides
        ]
    return due


def _already_sent(due: list[_Reminder]) -> set[tuple[int, str]]:
    """The (user, key) pairs whose reminder went out: one query, however many are due."""
    if not due:
        return set()
    pairs = [(r.person.id, r.key) for r in due]
    stmt = select(Notification.user_id, Notification.dedupe_key).where(
        tuple_(Notification.user_id, Notification.dedupe_key).in_(pairs),
        Notification.emailed_at.is_not(None),
    )
    return {(user_id, key) for user_id, key in db.session.execute(stmt)}


def _remind(reminder: _Reminder) -> None:
    session = reminder.session
    notify(
        reminder.person,
        reminder.key,
        REMINDER,
        link=absolute_url("tutoring.session_page", session_id=session.id)
        if reminder.for_trainer
        else absolute_url("learning.my_learning"),
        soon=reminder.soon,
        for_trainer=reminder.for_trainer,
        when=_when(session.starts_at, reminder.zone),
        timezone=reminder.zone,
        course_title=reminder.title,
        number=session.number,
        tier=reminder.tier,
        duration=session.duration_min,
        other_name=reminder.other_name,
    )


def send_session_reminders(now: datetime | None = None) -> int:
    """Every 5 minutes: the student and the trainer of each scheduled session hear about it
    within 24 h and again within 1 h, once each (one notification per person, session and
    reminder). A failing email is logged and tried again on the next run; it never holds up
    the others. Returns how many went out."""
    now = now or utcnow()
    due = _reminders(_upcoming(now), now)
    done = _already_sent(due)
    sent = 0
    with committing():
        for reminder in due:
            if (reminder.person.id, reminder.key) in done:
                continue
            try:
                # A savepoint each: a failure undoes its own row only (retried next run).
                with db.session.begin_nested():
                    _remind(reminder)
            except Exception:
                log.exception(
                    "event=tutoring_reminder_failed user=%s key=%s",
                    reminder.person.id,
                    reminder.key,
                )
                continue
            sent += 1
    log.info("event=tutoring_reminders due=%d sent=%d", len(due), sent)
    return sent


def substitute_sessions(session_ids: list[int]) -> int:
    """After a trainer's time off: a substitute for each session it left waiting (those
    nobody can take keep waiting, for an admin); the students and substitutes are told."""
    with committing():
        found = find_substitutes(session_ids)
        if found:
            enqueue_after_commit(send_substitutes, found, retry=NOTIFY_RETRY)
    log.info("event=tutoring_substitutes asked=%d found=%d", len(session_ids), len(found))
    return len(found)
