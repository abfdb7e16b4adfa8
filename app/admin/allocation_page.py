"""A tutoring allocation as the console shows it: the purchase (student, course, package, its
order, the schedule on the student's clock, mode, preference), the allocation with every
candidate's factors, its sessions, and the trainers an admin may pick. Reads only, a fixed
number of queries whatever the purchase holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import Course
from app.checkout.models import Order
from app.extensions import db
from app.tutoring.allocations import get_allocation
from app.tutoring.areas import area
from app.tutoring.models import (
    AllocationStatus,
    Trainer,
    TrainerAllocation,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import PackageChoice, stored_choice
from app.tutoring.schedule import WORKING_WEEK
from app.tutoring.scoring import DAY_NAMES


@dataclass(frozen=True)
class TrainerOption:
    id: int
    name: str
    active_students: int
    capacity: int

    @property
    def label(self) -> str:
        full = " — full" if self.active_students >= self.capacity else ""
        return f"{self.name} ({self.active_students} of {self.capacity} students){full}"


@dataclass(frozen=True)
class SessionLine:
    number: int
    starts: datetime  # on the student's clock
    minutes: int
    status: str


@dataclass(frozen=True)
class AllocationPage:
    allocation: TrainerAllocation
    purchase: TutoringPurchase
    student: User
    course: Course
    order_token: str | None
    trainer_name: str | None  # suggested (pending) or assigned
    decided_by: str | None  # the admin's name, None when automatic
    choice: PackageChoice
    sessions: list[SessionLine]
    trainers: list[TrainerOption]

    @property
    def pending(self) -> bool:
        return self.allocation.status is AllocationStatus.PENDING

    @property
    def actionable(self) -> bool:
        """Approve, allocate and retry apply to a pending allocation of a live purchase."""
        return self.pending and self.purchase.active

    @property
    def timezone(self) -> str:
        return self.choice.schedule.timezone

    @property
    def schedule(self) -> str:
        return describe_schedule(self.choice)

    @property
    def area_name(self) -> str | None:
        place = area(self.choice.area)
        return place.name if place else None

    @property
    def candidates(self) -> list[dict[str, Any]]:
        return self.allocation.candidates

    @property
    def qualified(self) -> int:
        return sum(1 for c in self.allocation.candidates if c.get("qualified"))


def describe_schedule(choice: PackageChoice) -> str:
    """'Sundays at 18:00, from Sun 11 Jan 2026, 60 min each (Europe/London)'."""
    s = choice.schedule
    if s.sunday_only:
        days = "Sundays"
    elif s.weekdays == WORKING_WEEK:
        days = "Weekdays"
    else:
        days = ", ".join(DAY_NAMES[d] for d in s.weekdays)
    minutes = int(s.duration.total_seconds() // 60)
    return (
        f"{days} at {s.time_slot:%H:%M}, from {s.start_date:%a %d %b %Y}, "
        f"{minutes} min each ({s.timezone})"
    )


def trainer_options() -> list[TrainerOption]:
    """Every accepting trainer with an active account, for the admin's pick (one query)."""
    rows = db.session.execute(
        select(Trainer.id, User.name, Trainer.active_students, Trainer.capacity)
        .join(User, User.id == Trainer.user_id)
        .where(Trainer.accepting.is_(True), User.active.is_(True))
        .order_by(User.name, Trainer.id)
    ).all()
    return [TrainerOption(int(i), str(n), int(a), int(c)) for i, n, a, c in rows]


def _name_of_trainer(trainer_id: int | None) -> str | None:
    if trainer_id is None:
        return None
    return db.session.scalar(
        select(User.name).join(Trainer, Trainer.user_id == User.id).where(Trainer.id == trainer_id)
    )


def _sessions(purchase: TutoringPurchase, zone: str) -> list[SessionLine]:
    rows = db.session.scalars(
        select(TutoringSession)
        .where(TutoringSession.purchase_id == purchase.id)
        .order_by(TutoringSession.number)
    )
    local = ZoneInfo(zone)
    return [
        SessionLine(s.number, s.starts_at.astimezone(local), s.duration_min, s.status.label)
        for s in rows
    ]


def get_allocation_page(allocation_id: int) -> AllocationPage:
    """The allocation with everything its page shows (eight queries)."""
    allocation = get_allocation(allocation_id)
    purchase = db.session.get(TutoringPurchase, allocation.purchase_id)
    assert purchase is not None  # the allocation's foreign key
    student = db.session.get(User, purchase.user_id)
    course = db.session.get(Course, purchase.course_id)
    assert student is not None
    assert course is not None
    token = (
        db.session.scalar(select(Order.token).where(Order.id == purchase.order_id))
        if purchase.order_id
        else None
    )
    decided = db.session.get(User, allocation.decided_by_id) if allocation.decided_by_id else None
    choice = stored_choice(purchase)
    return AllocationPage(
        allocation=allocation,
        purchase=purchase,
        student=student,
        course=course,
        order_token=token,
        trainer_name=_name_of_trainer(allocation.trainer_id),
        decided_by=decided.name if decided else None,
        choice=choice,
        sessions=_sessions(purchase, choice.schedule.timezone),
        trainers=trainer_options(),
    )
