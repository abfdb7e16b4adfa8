"""Tutoring jobs. `assign_trainer` is critical (2/4/8 s retries, then the failed registry,
from which the console retries it); the notices are not: a failure is logged and retried on
its own, and never touches the purchase or its allocation."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import Role, User
from app.catalog.models import Course
from app.core.metrics import count_tutoring_assignment
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.notifications.models import NotificationKind
from app.notifications.services import notify
from app.tutoring.assignment import auto_assign
from app.tutoring.models import (
    AllocationStatus,
    Trainer,
    TrainerAllocation,
    TutoringPurchase,
    TutoringSession,
)

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
    first = db.session.scalars(
        select(TutoringSession.starts_at)
        .where(TutoringSession.purchase_id == purchase.id)
        .order_by(TutoringSession.starts_at)
        .limit(1)
    ).first()
    student_zone = str(purchase.details.get("timezone") or "UTC")
    notify(
        student,
        f"allocation:{allocation.id}:student",
        NotificationKind.TRAINER_ASSIGNED,
        link=absolute_url("learning.my_learning"),
        trainer_name=trainer_user.name,
        reasons=allocation.reasons,
        first_session=_when(first, student_zone) if first else "to be scheduled",
        timezone=student_zone,
        **common,
    )
    notify(
        trainer_user,
        f"allocation:{allocation.id}:trainer",
        NotificationKind.NEW_STUDENT,
        first_session=_when(first, trainer.timezone) if first else "to be scheduled",
        timezone=trainer.timezone,
        **common,
    )
