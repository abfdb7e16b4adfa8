"""The end of a purchase: a refund of its line cancels its future sessions, ends its
allocation and gives the trainer's place back."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from app.core.db import lock
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.tutoring.models import (
    AllocationStatus,
    SessionStatus,
    Trainer,
    TrainerAllocation,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import purchase_for_line

log = logging.getLogger(__name__)
NOTICE_JOB = "app.tutoring.notices.send_package_ended"


def end_purchase(purchase: TutoringPurchase, reason: str, now: datetime | None = None) -> int:
    """The purchase ends: its future sessions are canceled, its allocation is ended and the
    trainer's place freed; how many sessions were canceled. Idempotent."""
    now = now or utcnow()
    purchase = lock(TutoringPurchase, purchase.id)
    if not purchase.active:
        return 0
    purchase.active = False
    purchase.ended_reason = reason[:200]
    canceled = db.session.execute(
        update(TutoringSession)
        .where(
            TutoringSession.purchase_id == purchase.id,
            TutoringSession.status.in_(SessionStatus.OPEN),  # type: ignore[attr-defined]
            TutoringSession.starts_at > now,
        )
        .values(status=SessionStatus.CANCELED, note=reason[:200], marked_at=now)
    ).rowcount
    allocations = db.session.scalars(
        select(TrainerAllocation).where(
            TrainerAllocation.purchase_id == purchase.id,
            TrainerAllocation.status != AllocationStatus.REJECTED,
        )
    ).all()
    for allocation in allocations:
        if allocation.status is AllocationStatus.APPROVED and allocation.trainer_id is not None:
            trainer = lock(Trainer, allocation.trainer_id)
            trainer.active_students = max(0, trainer.active_students - 1)
            enqueue_after_commit(
                NOTICE_JOB, purchase.id, trainer.id, int(canceled or 0), retry=NOTIFY_RETRY
            )
        allocation.status = AllocationStatus.REJECTED
        allocation.note = f"Ended: {reason}"[:300]
    log.info("event=tutoring_purchase_ended purchase=%s canceled=%s", purchase.id, canceled)
    return int(canceled or 0)


def end_purchase_of_line(order_item_id: int, reason: str) -> None:
    purchase = purchase_for_line(order_item_id)
    if purchase is not None:
        end_purchase(purchase, reason)


def finish_if_used_up(purchase_id: int, now: datetime | None = None) -> bool:
    """Every session of the package has been held (or canceled): the package is complete and
    the trainer's place is given back for a new student. True when it was completed now."""
    waiting = (SessionStatus.SCHEDULED, SessionStatus.PENDING_REASSIGNMENT)
    open_sessions = db.session.scalar(
        select(TutoringSession.id)
        .where(TutoringSession.purchase_id == purchase_id, TutoringSession.status.in_(waiting))
        .limit(1)
    )
    if open_sessions is not None:
        return False
    purchase = lock(TutoringPurchase, purchase_id)
    if not purchase.active:
        return False
    purchase.active = False
    purchase.ended_reason = "all sessions held"
    approved = db.session.scalars(
        select(TrainerAllocation).where(
            TrainerAllocation.purchase_id == purchase_id,
            TrainerAllocation.status == AllocationStatus.APPROVED,
        )
    ).first()
    if approved is not None and approved.trainer_id is not None:
        trainer = lock(Trainer, approved.trainer_id)
        trainer.active_students = max(0, trainer.active_students - 1)
    log.info("event=tutoring_purchase_completed purchase=%s at=%s", purchase_id, now or utcnow())
    return True
