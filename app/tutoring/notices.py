"""Notices about sessions that moved: a trainer's time off put some of their sessions in
pending reassignment, and each student concerned and the trainer hear about it; a student
moved or canceled one, and the trainer hears about it (the student has it confirmed). Jobs
(ids in); non-critical: a failure is logged and retried on its own and never undoes the
change."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import Course
from app.core.models import utcnow
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.notifications.models import NotificationKind
from app.notifications.services import notify
from app.tutoring import calendar
from app.tutoring.models import Trainer, TutoringPurchase, TutoringSession

log = logging.getLogger(__name__)

SESSIONS_MOVED = NotificationKind.SESSIONS_MOVED


def _when(instant: datetime, zone: str) -> str:
    return f"{instant.astimezone(ZoneInfo(zone)):%a %d %b %Y, %H:%M}"


def _key(trainer_id: int, session_ids: Sequence[int]) -> str:
    """One notice per person and set of moved sessions, however often the job runs."""
    digest = hashlib.sha256(",".join(map(str, sorted(session_ids))).encode()).hexdigest()[:16]
    return f"sessions_moved:{trainer_id}:{digest}"


def _rows(session_ids: Sequence[int]) -> list[Any]:
    return list(
        db.session.execute(
            select(TutoringSession, TutoringPurchase, Course.title, User)
            .join(TutoringPurchase, TutoringPurchase.id == TutoringSession.purchase_id)
            .join(Course, Course.id == TutoringPurchase.course_id)
            .join(User, User.id == TutoringSession.student_id)
            .where(TutoringSession.id.in_(session_ids))
            .order_by(TutoringSession.starts_at)
        )
    )


def send_sessions_moved(trainer_id: int, session_ids: list[int]) -> None:
    """Each student whose sessions moved (times in their zone) and the trainer (in theirs):
    the sessions are waiting for another trainer. Once per person and set of sessions."""
    trainer = db.session.get(Trainer, trainer_id)
    rows = _rows(session_ids) if session_ids else []
    if trainer is None or not rows:
        return
    trainer_user = db.session.get(User, trainer.user_id)
    assert trainer_user is not None  # the trainer's foreign key
    key = _key(trainer_id, session_ids)
    by_student: dict[int, list[Any]] = {}
    for row in rows:
        by_student.setdefault(row[3].id, []).append(row)
    with committing():
        for student_rows in by_student.values():
            student, zone = student_rows[0][3], _zone(student_rows[0][1])
            notify(
                student,
                f"{key}:student",
                SESSIONS_MOVED,
                link=absolute_url("learning.my_learning"),
                for_trainer=False,
                trainer_name=trainer_user.name,
                sessions=[_line(r, zone, with_student=False) for r in student_rows],
                timezone=zone,
            )
        notify(
            trainer_user,
            f"{key}:trainer",
            SESSIONS_MOVED,
            link=absolute_url("tutoring.desk"),
            for_trainer=True,
            trainer_name=trainer_user.name,
            sessions=[_line(r, trainer.timezone, with_student=True) for r in rows],
            timezone=trainer.timezone,
        )
    log.info("event=tutoring_sessions_moved_notices trainer=%s sessions=%d", trainer_id, len(rows))


def _zone(purchase: TutoringPurchase) -> str:
    return str(purchase.details.get("timezone") or "UTC")


def _line(row: Any, zone: str, *, with_student: bool) -> str:
    session, purchase, title, student = row
    number = (
        f"session {session.number} (a replacement)"
        if session.number > purchase.tier
        else f"session {session.number} of {purchase.tier}"
    )
    text = f"{_when(session.starts_at, zone)} — {title}, {number}"
    return f"{text} with {student.name}" if with_student else text


# -- a student's changes -------------------------------------------------------------------------

SESSION_CHANGED = NotificationKind.SESSION_CHANGED


def send_session_moved(session_id: int, old_start: str, new_start: str) -> None:
    """The trainer hears that the student moved the session from `old_start` to `new_start`
    (ISO instants, as they were at the change), and the student has it confirmed, each on
    their own clock with the session's updated .ics. Once per person and move."""
    old, new = datetime.fromisoformat(old_start), datetime.fromisoformat(new_start)
    key = f"session:{session_id}:moved:{int(old.timestamp())}:{int(new.timestamp())}"
    _send_change(key, session_id, old, new, replacement_id=None)


def send_session_canceled(session_id: int, replacement_id: int) -> None:
    """The trainer hears that the student canceled the session (its credit came back as
    `replacement_id` at the end of the package), and the student has it confirmed, each on
    their own clock with both sessions' .ics. Once per person and session."""
    _send_change(f"session:{session_id}:canceled", session_id, None, None, replacement_id)


def _send_change(
    key: str,
    session_id: int,
    old: datetime | None,
    new: datetime | None,
    replacement_id: int | None,
) -> None:
    ids = [session_id] if replacement_id is None else [session_id, replacement_id]
    rows = {r.session.id: r for r in calendar.list_session_rows(ids)}
    row, replacement = rows.get(session_id), rows.get(replacement_id or 0)
    if row is None or row.trainer_user_id is None or len(rows) < len(ids):
        return  # gone, or never had a trainer: nobody to tell
    trainer = db.session.get(User, row.trainer_user_id)
    student = db.session.get(User, row.session.student_id)
    assert trainer is not None  # the rows' foreign keys
    assert student is not None
    old = old or row.session.starts_at
    new = new or (replacement or row).session.starts_at
    context = _change_context(row, replacement)
    with committing():
        for person, zone in ((trainer, row.trainer_zone), (student, row.student_zone)):
            for_trainer, zone = person is trainer, zone or "UTC"
            ics = calendar.sessions_calendar(rows.values(), person.id, row.course_title, utcnow())
            notify(
                person,
                f"{key}:{'trainer' if for_trainer else 'student'}",
                SESSION_CHANGED,
                link=absolute_url("tutoring.desk" if for_trainer else "learning.my_learning"),
                attachments=[calendar.calendar_attachment(ics, "session.ics")],
                for_trainer=for_trainer,
                old_when=_when(old, zone),
                new_when=_when(new, zone),
                timezone=zone,
                **context,
            )
    log.info("event=tutoring_session_change_notices key=%s", key)


def _change_context(
    row: calendar.SessionRow, replacement: calendar.SessionRow | None
) -> dict[str, Any]:
    return {
        "canceled": replacement is not None,
        "number": row.session.number,
        "new_number": (replacement or row).session.number,
        "tier": row.tier,
        "course_title": row.course_title,
        "student_name": row.student_name,
        "trainer_name": row.trainer_name,
    }


def send_package_ended(purchase_id: int, trainer_id: int, canceled: int) -> None:
    """A refund ended the package: its trainer hears that the sessions still to come are off."""
    purchase = db.session.get(TutoringPurchase, purchase_id)
    trainer = db.session.get(Trainer, trainer_id)
    if purchase is None or trainer is None:
        return
    trainer_user = db.session.get(User, trainer.user_id)
    student = db.session.get(User, purchase.user_id)
    course = db.session.get(Course, purchase.course_id)
    if trainer_user is None or student is None or course is None:
        return
    with committing():
        notify(
            trainer_user,
            f"purchase:{purchase.id}:ended",
            NotificationKind.PACKAGE_ENDED,
            link=absolute_url("tutoring.desk"),
            student_name=student.name,
            course_title=course.title,
            canceled=canceled,
            reason=purchase.ended_reason or "refunded",
        )
    log.info("event=tutoring_package_ended_notice purchase=%s trainer=%s", purchase.id, trainer.id)


def send_substitutes(found: dict[int, int]) -> None:
    """Each substituted session: its student hears who teaches it, the substitute hears of it."""
    with committing():
        for raw_id, trainer_id in found.items():
            session = db.session.get(TutoringSession, int(raw_id))
            trainer = db.session.get(Trainer, trainer_id)
            if session is None or trainer is None or session.trainer_id != trainer.id:
                continue  # changed again since: that change sends its own notice
            purchase = db.session.get(TutoringPurchase, session.purchase_id)
            student = db.session.get(User, session.student_id)
            substitute = db.session.get(User, trainer.user_id)
            course = db.session.get(Course, purchase.course_id) if purchase else None
            if purchase is None or student is None or substitute is None or course is None:
                continue
            common: dict[str, Any] = {"course_title": course.title, "number": session.number,
                      "tier": purchase.tier, "student_name": student.name,
                      "trainer_name": substitute.name}  # fmt: skip
            for person, zone, for_trainer in (
                (student, _zone(purchase), False),
                (substitute, trainer.timezone, True),
            ):
                notify(
                    person,
                    f"session:{session.id}:substitute:{trainer.id}",
                    NotificationKind.SUBSTITUTE_ASSIGNED,
                    when=_when(session.starts_at, zone),
                    timezone=zone,
                    for_trainer=for_trainer,
                    **common,
                )
