"""Notices about sessions that moved: a trainer's time off put some of their sessions in
pending reassignment, and each student concerned and the trainer hear about it. A job (ids
in); non-critical: a failure is logged and retried on its own and never undoes the move."""

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
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.notifications.models import NotificationKind
from app.notifications.services import notify
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
    number = f"session {session.number} of {purchase.tier}"
    text = f"{_when(session.starts_at, zone)} — {title}, {number}"
    return f"{text} with {student.name}" if with_student else text
