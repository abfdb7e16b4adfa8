"""An admin's side of allocations (issue 13; seed 003's approve / allocate / retry): approve the
trainer a pending allocation suggests, allocate any accepting trainer by hand, or run the
automatic assignment again; and the console's list of allocations.

Every write locks the purchase first, then the trainer (auto_assign's order, so they never
deadlock), and checks the trainer's free place and free time again under that lock: a manual
choice may pass over specialty, weekly availability, distance or a gender preference, never a
full trainer or a double-booked hour. Services never commit; the notices leave after commit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased, defer

from app.accounts.models import User
from app.catalog.models import Course
from app.core.db import lock
from app.core.errors import DomainError, NotFound
from app.core.pagination import Page, paginate
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.tutoring.assignment import (
    Plan,
    approve_with,
    auto_assign,
    current_allocation,
    load_candidates,
    plan_sessions,
)
from app.tutoring.models import AllocationStatus, Trainer, TrainerAllocation, TutoringPurchase
from app.tutoring.purchases import stored_choice

# By name: app.tutoring.jobs imports the assignment this module builds on.
NOTICES_JOB = "app.tutoring.jobs.send_allocation_notices"


class AllocationConflict(DomainError):
    """The allocation or the trainer is not in a state that allows this (anymore)."""

    code = "allocation_conflict"
    status = 409


class AllocationRefused(DomainError):
    code = "allocation_refused"
    status = 422


@dataclass(frozen=True)
class Preview:
    """What allocating this trainer would do: their load and the package's session starts."""

    trainer_id: int
    trainer_name: str
    active_students: int
    capacity: int
    starts: list[datetime]
    timezone: str  # the student's
    overrides: list[str]  # the filters this trainer failed when the allocation was scored


def get_allocation(allocation_id: int) -> TrainerAllocation:
    allocation = db.session.get(TrainerAllocation, allocation_id)
    if allocation is None:
        raise NotFound("No such allocation.")
    return allocation


def _trainer_name(trainer: Trainer) -> str:
    return str(db.session.scalar(select(User.name).where(User.id == trainer.user_id)) or "")


def _open(purchase: TutoringPurchase) -> None:
    if not purchase.active:
        ended = f" ({purchase.ended_reason})" if purchase.ended_reason else ""
        raise AllocationConflict(
            f"This purchase has ended{ended}: there is nothing to allocate.", code="ended"
        )


def _not_allocated(purchase_id: int) -> TrainerAllocation | None:
    """The purchase's pending allocation, if any; refused when one is approved already."""
    current = current_allocation(purchase_id)
    if current is not None and current.status is AllocationStatus.APPROVED:
        trainer = db.session.get(Trainer, current.trainer_id) if current.trainer_id else None
        who = f" to {_trainer_name(trainer)}" if trainer else ""
        raise AllocationConflict(
            f"This purchase is already allocated{who}.", code="already_allocated"
        )
    return current


def _placement(purchase: TutoringPurchase, trainer: Trainer, name: str) -> list[datetime]:
    """The package's session starts with this trainer, or a refusal: not accepting, full, or
    their time taken (time off and other sessions leave no room for every session)."""
    if not trainer.accepting:
        raise AllocationConflict(f"{name} is not accepting students now.", code="not_accepting")
    if trainer.active_students >= trainer.capacity:
        raise AllocationConflict(
            f"{name} is full ({trainer.active_students} of {trainer.capacity} students): "
            "choose another trainer.",
            code="trainer_full",
        )
    choice = stored_choice(purchase)
    candidate = next((c for c in load_candidates(choice) if c.trainer_id == trainer.id), None)
    if candidate is None:  # load_candidates leaves out a deactivated account
        raise AllocationConflict(f"{name} is not accepting students now.", code="not_accepting")
    starts = plan_sessions(choice, purchase.tier, candidate)
    if not starts:
        raise AllocationConflict(
            f"{name}'s time is taken: the {purchase.tier} sessions cannot all be placed "
            "around their other sessions and time off.",
            code="time_taken",
        )
    return starts


def _trainer(trainer_id: int | None) -> Trainer:
    trainer = db.session.get(Trainer, trainer_id) if trainer_id is not None else None
    if trainer is None:
        raise NotFound("No such trainer.", field="trainer_id")
    return trainer


def _overrides(allocation: TrainerAllocation | None, trainer_id: int) -> list[str]:
    scored = next(
        (c for c in (allocation.candidates if allocation else []) if c["trainer_id"] == trainer_id),
        None,
    )
    if scored is None:
        return ["not among the trainers scored for this allocation"]
    return [f["note"] for f in scored["factors"] if not f["passed"] and f["name"] != "capacity"]


def preview(purchase_id: int, trainer_id: int | None) -> Preview:
    """What allocating the trainer would do, or the refusal the allocation itself would give
    (read only: the admin sees it before confirming; the write checks again under lock)."""
    purchase = db.session.get(TutoringPurchase, purchase_id)
    if purchase is None:
        raise NotFound("No such tutoring purchase.")
    _open(purchase)
    current = _not_allocated(purchase.id)
    if trainer_id is None:
        raise AllocationRefused(
            "No trainer was suggested: choose one with “Allocate to…”.", code="no_suggestion"
        )
    trainer = _trainer(trainer_id)
    name = _trainer_name(trainer)
    starts = _placement(purchase, trainer, name)
    zone = str(purchase.details.get("timezone") or "UTC")
    overrides = _overrides(current, trainer.id)
    return Preview(
        trainer.id, name, trainer.active_students, trainer.capacity, starts, zone, overrides
    )


def preview_approval(allocation_id: int) -> Preview:
    """preview() for the trainer a pending allocation suggests."""
    allocation = get_allocation(allocation_id)
    _pending_only(allocation)
    return preview(allocation.purchase_id, allocation.trainer_id)


def check_retry(purchase_id: int) -> None:
    """Refuse a retry before it is confirmed: an ended or an allocated purchase."""
    purchase = db.session.get(TutoringPurchase, purchase_id)
    if purchase is None:
        raise NotFound("No such tutoring purchase.")
    _open(purchase)
    _not_allocated(purchase.id)


def _pending_only(allocation: TrainerAllocation) -> None:
    if allocation.status is not AllocationStatus.PENDING:
        raise AllocationConflict(
            f"This allocation is {allocation.status.value}: only a pending one can be approved.",
            code="not_pending",
        )


def _place(
    purchase: TutoringPurchase,
    existing: TrainerAllocation | None,
    trainer_id: int | None,
    admin_id: int,
) -> TrainerAllocation:
    """Approve the trainer under their row lock (the purchase's is held), with the notices."""
    trainer = lock(Trainer, _trainer(trainer_id).id)
    starts = _placement(purchase, trainer, _trainer_name(trainer))
    allocation = approve_with(
        purchase, trainer, Plan(starts, pick=None, scored=(), decided_by=admin_id), existing
    )
    enqueue_after_commit(NOTICES_JOB, allocation.id, retry=NOTIFY_RETRY)
    return allocation


def approve(allocation_id: int, admin_id: int) -> TrainerAllocation:
    """Approve the trainer a pending allocation suggests: sessions written, both told after
    commit. The suggestion's score and reasons stay (the student reads them)."""
    purchase = lock(TutoringPurchase, get_allocation(allocation_id).purchase_id)
    allocation = lock(TrainerAllocation, allocation_id)  # its state under the purchase's lock
    _open(purchase)
    _pending_only(allocation)
    if allocation.trainer_id is None:
        raise AllocationRefused(
            "No trainer was suggested: choose one with “Allocate to…”.", code="no_suggestion"
        )
    score, reasons = allocation.score, list(allocation.reasons)
    approved = _place(purchase, allocation, allocation.trainer_id, admin_id)
    approved.score, approved.reasons = score, reasons
    approved.note = "Suggested trainer approved by an admin."
    return approved


def allocate(purchase_id: int, trainer_id: int, admin_id: int) -> TrainerAllocation:
    """An admin's choice of any accepting trainer for a purchase not yet allocated (its pending
    allocation is reused, else one is made); capacity and free time are still checked."""
    if db.session.get(TutoringPurchase, purchase_id) is None:
        raise NotFound("No such tutoring purchase.")
    purchase = lock(TutoringPurchase, purchase_id)
    _open(purchase)
    existing = _not_allocated(purchase.id)
    overrides = _overrides(existing, trainer_id) if existing else []
    allocation = _place(purchase, existing, trainer_id, admin_id)
    if overrides:
        allocation.note = f"Allocated by an admin over: {'; '.join(overrides)}"[:300]
    return allocation


def retry_auto_assign(purchase_id: int) -> TrainerAllocation:
    """Run the automatic assignment again (approved, or still pending with fresh scores), the
    notices after commit. An allocated purchase is refused with a 409 ("already allocated")
    rather than returned: the admin's retry then did nothing, and says so."""
    if db.session.get(TutoringPurchase, purchase_id) is None:
        raise NotFound("No such tutoring purchase.")
    purchase = lock(TutoringPurchase, purchase_id)
    _open(purchase)
    _not_allocated(purchase.id)
    allocation = auto_assign(purchase.id)
    enqueue_after_commit(NOTICES_JOB, allocation.id, retry=NOTIFY_RETRY)
    return allocation


# The console's list.


@dataclass(frozen=True)
class AllocationRow:
    allocation: TrainerAllocation  # `candidates` not loaded (raises): the list never shows it
    purchase: TutoringPurchase
    student_name: str
    student_email: str
    course_title: str
    trainer_name: str | None  # the suggested (pending) or assigned trainer

    @property
    def suggested(self) -> bool:
        return self.allocation.status is AllocationStatus.PENDING


def _status(raw: str | None) -> AllocationStatus | None:
    return AllocationStatus(raw) if raw in {s.value for s in AllocationStatus} else None


def allocation_statement(status: str | None, q: str) -> Select[Any]:
    """Allocations, newest first, with purchase, student, course and trainer name (one query);
    `q` matches the student's email or name or the course's title; status None: all."""
    trainer_user = aliased(User)
    stmt = (
        select(TrainerAllocation, TutoringPurchase, User.name, User.email, Course.title)
        .add_columns(trainer_user.name)
        .join(TutoringPurchase, TutoringPurchase.id == TrainerAllocation.purchase_id)
        .join(User, User.id == TutoringPurchase.user_id)
        .join(Course, Course.id == TutoringPurchase.course_id)
        .outerjoin(Trainer, Trainer.id == TrainerAllocation.trainer_id)
        .outerjoin(trainer_user, trainer_user.id == Trainer.user_id)
        .options(defer(TrainerAllocation.candidates, raiseload=True))
        .order_by(TrainerAllocation.created_at.desc(), TrainerAllocation.id.desc())
    )
    wanted = _status(status)
    if wanted is not None:
        stmt = stmt.where(TrainerAllocation.status == wanted)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(User.email.ilike(like), User.name.ilike(like), Course.title.ilike(like))
        )
    return stmt


def _row(found: Any) -> AllocationRow:
    allocation, purchase, name, email, title, trainer = found
    return AllocationRow(allocation, purchase, name, email, title, trainer)


def list_allocations(status: str | None, q: str, page: int, per_page: int) -> Page[AllocationRow]:
    """One page of allocations (two queries: the count and the page)."""
    rows = paginate(db.session, allocation_statement(status, q), page, per_page)
    return Page([_row(r) for r in rows.items], rows.page, rows.per_page, rows.total)


ALLOCATION_CSV_HEADER = (
    "id", "status", "created", "purchase", "student", "email", "course", "sessions",
    "trainer", "score", "decided by admin", "note",
)  # fmt: skip


def allocation_csv_rows(status: str | None, q: str, limit: int) -> Iterator[tuple[Any, ...]]:
    for found in db.session.execute(allocation_statement(status, q).limit(limit)):
        row = _row(found)
        a = row.allocation
        yield (
            a.id,
            a.status.value,
            a.created_at.isoformat(),
            row.purchase.id,
            row.student_name,
            row.student_email,
            row.course_title,
            row.purchase.tier,
            row.trainer_name or "",
            "" if a.score is None else f"{a.score:.4f}",
            a.decided_by_id or "",
            a.note,
        )
