"""Tutoring purchases: one idempotent path whoever creates them (seed 001's recommendation).

A paid order line and an admin's "create purchase" both call `create_purchase` with a key
(`line:<order item id>` or `admin:<form key>`); the INSERT does nothing when the key exists,
and the existing purchase is returned, so a replayed webhook or a double click creates
nothing new. A new purchase queues its trainer assignment (critical queue, 2/4/8 s retries,
then the failed registry) after the commit: a failing assignment never touches the payment or
the purchase."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.accounts.models import User
from app.catalog.models import Course, CourseKind
from app.core.errors import DomainError, NotFound
from app.core.metrics import count_tutoring_purchase
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.tutoring.areas import area
from app.tutoring.models import (
    PurchaseSource,
    SessionStatus,
    TutoringMode,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.schedule import HORIZON, TIERS, Schedule, ScheduleError, parse_schedule

GENDERS = ("female", "male", "other")
ASSIGN_JOB = "app.tutoring.jobs.assign_trainer"


@dataclass(frozen=True)
class PackageChoice:
    """What the student chose with the package, stored as the purchase's details."""

    schedule: Schedule
    mode: TutoringMode = TutoringMode.ONLINE
    area: str | None = None  # an app.tutoring.areas key, for in-person sessions
    gender_preference: str | None = None

    def as_details(self) -> dict[str, Any]:
        return {
            **self.schedule.as_metadata(),
            "mode": self.mode.value,
            "area": self.area,
            "genderPreference": self.gender_preference,
        }


def parse_choice(raw: Mapping[str, Any], timezone: str, today: date | None) -> PackageChoice:
    """The student's choices (seed names: timeSlot, date, isSundayOnly, sessionDuration, plus
    weekdays, mode, area, genderPreference); ScheduleError (422) names the bad field."""
    schedule = parse_schedule(raw, timezone, today)
    try:
        mode = TutoringMode(str(raw.get("mode") or TutoringMode.ONLINE.value))
    except ValueError:
        raise ScheduleError("mode", "Choose online or in person.") from None
    place = raw.get("area") or None
    if mode is TutoringMode.IN_PERSON and area(place) is None:
        raise ScheduleError("area", "Choose the area where the sessions take place.")
    gender = raw.get("genderPreference") or None
    if gender is not None and gender not in GENDERS:
        raise ScheduleError("genderPreference", "Choose female, male, other or no preference.")
    return PackageChoice(schedule, mode, place if mode is TutoringMode.IN_PERSON else None, gender)


def stored_choice(purchase: TutoringPurchase) -> PackageChoice:
    details = purchase.details
    return parse_choice(details, str(details.get("timezone") or ""), None)


@dataclass(frozen=True)
class PurchaseRequest:
    key: str
    user_id: int
    course_id: int
    tier: int
    choice: PackageChoice
    source: PurchaseSource = PurchaseSource.PURCHASE
    package_id: int | None = None
    order_id: int | None = None
    order_item_id: int | None = None
    purchased_at: datetime | None = None


class NotATutoringCourse(DomainError):
    code = "not_tutoring"
    status = 422


def line_key(order_item_id: int) -> str:
    return f"line:{order_item_id}"


def create_purchase(req: PurchaseRequest) -> tuple[TutoringPurchase, bool]:
    """The purchase for this key, created if new (True) with its assignment queued."""
    if req.tier not in TIERS:
        raise ScheduleError("purchaseTier", "A package has 10, 20 or 30 sessions.")
    if db.session.get(User, req.user_id) is None:
        raise NotFound("No such student.", field="studentId")
    kind = db.session.scalar(select(Course.kind).where(Course.id == req.course_id))
    if kind is None:
        raise NotFound("No such course.")
    if kind is not CourseKind.TUTORING:
        raise NotATutoringCourse("That course is not a tutoring course.")
    bought = req.purchased_at or utcnow()
    stmt = (
        insert(TutoringPurchase)
        .values(
            key=req.key,
            user_id=req.user_id,
            course_id=req.course_id,
            package_id=req.package_id,
            tier=req.tier,
            details=req.choice.as_details(),
            mode=req.choice.mode,
            source=req.source,
            order_id=req.order_id,
            order_item_id=req.order_item_id,
            purchased_at=bought,
            expires_at=bought + HORIZON,
            active=True,
            created_at=bought,
            updated_at=bought,
        )
        .on_conflict_do_nothing(index_elements=[TutoringPurchase.key])
        .returning(TutoringPurchase.id)
    )
    new_id = db.session.execute(stmt).scalar()
    purchase = db.session.scalars(
        select(TutoringPurchase).where(TutoringPurchase.key == req.key)
    ).one()
    if new_id is not None:
        enqueue_after_commit(
            ASSIGN_JOB, purchase.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
        )
    count_tutoring_purchase("created" if new_id is not None else "existing")
    return purchase, new_id is not None


def get_purchase(purchase_id: int) -> TutoringPurchase:
    purchase = db.session.get(TutoringPurchase, purchase_id)
    if purchase is None:
        raise NotFound("No such tutoring purchase.")
    return purchase


def purchase_for_line(order_item_id: int) -> TutoringPurchase | None:
    return db.session.scalars(
        select(TutoringPurchase).where(TutoringPurchase.order_item_id == order_item_id)
    ).one_or_none()


@dataclass(frozen=True)
class Progress:
    attended: int
    bought: int

    @property
    def percent(self) -> int:
        return round(100 * self.attended / self.bought) if self.bought else 0


def progress(purchase: TutoringPurchase) -> Progress:
    """Sessions attended of sessions bought, counted from the sessions (never stored)."""
    done = db.session.scalar(
        select(func.count(TutoringSession.id)).where(
            TutoringSession.purchase_id == purchase.id,
            TutoringSession.status == SessionStatus.DONE,
        )
    )
    return Progress(int(done or 0), purchase.tier)
