"""What a tutoring course page offers, and what an order page shows of a package bought.

Before paying, the student sees which start times have a trainer free (each accepting
trainer of the course's specialty with a place left, their weekly windows shown on the
student's clock for the coming week), and a schedule nobody can teach is refused when it
goes in the cart (`check_bookable`), not discovered after the payment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.money import Money
from app.extensions import db
from app.tutoring.areas import AREAS, Area
from app.tutoring.assignment import (
    current_allocation,
    load_candidates,
    plan_sessions,
    request_for,
    specialty_of,
    weights,
)
from app.tutoring.changes import CHANGE_NOTICE
from app.tutoring.models import (
    AllocationStatus,
    Trainer,
    TrainerAllocation,
    TrainerSlot,
    TutoringPackage,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import PackageChoice, Progress, progress
from app.tutoring.schedule import (
    DURATIONS,
    FIRST_SLOT,
    LAST_SLOT,
    ScheduleError,
    valid_timezone,
)
from app.tutoring.scoring import score_candidates

DAY_NAMES = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Where a visitor's clock is unknown, the currency's home zone is the best first guess.
CURRENCY_ZONES = {"INR": "Asia/Kolkata", "USD": "America/New_York", "EUR": "Europe/Berlin"}
ZONES = (
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Singapore",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
)


@dataclass(frozen=True)
class PackageOffer:
    package_id: int
    sessions: int
    price: Money


@dataclass(frozen=True)
class OpenDay:
    weekday: int
    name: str
    times: tuple[str, ...]  # "HH:MM" starts with a trainer free, on the student's clock


@dataclass(frozen=True)
class Offer:
    packages: list[PackageOffer]
    timezone: str
    days: list[OpenDay]
    durations: tuple[int, ...] = DURATIONS
    areas: tuple[Area, ...] = tuple(AREAS.values())
    zones: tuple[str, ...] = ZONES
    slots: tuple[str, ...] = field(default_factory=tuple)  # every start the form offers

    @property
    def open_times(self) -> frozenset[str]:
        return frozenset(t for d in self.days for t in d.times)


def visitor_zone(requested: str | None, currency: str) -> str:
    if requested and valid_timezone(requested):
        return requested
    return CURRENCY_ZONES.get(currency, "UTC")


def _every_slot() -> tuple[str, ...]:
    out, t = [], datetime.combine(date.min, FIRST_SLOT)
    while t.time() <= LAST_SLOT:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=30)
    return tuple(out)


def open_days(specialty: str, zone: str, minutes: int = 60) -> list[OpenDay]:
    """Each weekday's start times (on `zone`'s clock, the coming week) at which some
    accepting trainer of the specialty with a place left has a window for a session."""
    rows = db.session.execute(
        select(Trainer.timezone, TrainerSlot.weekday, TrainerSlot.starts, TrainerSlot.ends)
        .join(TrainerSlot, TrainerSlot.trainer_id == Trainer.id)
        .join(User, User.id == Trainer.user_id)
        .where(
            Trainer.accepting.is_(True),
            User.active.is_(True),
            Trainer.active_students < Trainer.capacity,
            Trainer.specialties.any(specialty),  # type: ignore[arg-type]
        )
    ).all()
    viewer = ZoneInfo(zone)
    monday = datetime.now(UTC).date() + timedelta(days=7 - datetime.now(UTC).weekday())
    length = timedelta(minutes=minutes)
    found: dict[int, set[str]] = defaultdict(set)
    for trainer_zone, weekday, starts, ends in rows:
        day = monday + timedelta(days=weekday - 1)
        local = ZoneInfo(trainer_zone)
        opens = datetime.combine(day, starts, local)
        closes = datetime.combine(day, ends, local)
        moment = opens
        while moment + length <= closes:
            mine = moment.astimezone(viewer)
            if FIRST_SLOT <= mine.time() <= LAST_SLOT and mine.minute in (0, 30):
                found[mine.isoweekday()].add(mine.strftime("%H:%M"))
            moment += timedelta(minutes=30)
    return [OpenDay(d, DAY_NAMES[d], tuple(sorted(found[d]))) for d in range(1, 8) if found.get(d)]


def tutoring_offer(course_id: int, currency: str, zone: str) -> Offer:
    """The course's packages priced in the currency, and the open start times on `zone`."""
    packages = db.session.scalars(
        select(TutoringPackage)
        .where(TutoringPackage.course_id == course_id, TutoringPackage.active.is_(True))
        .options(selectinload(TutoringPackage.prices))
        .order_by(TutoringPackage.sessions)
    ).all()
    offers = [
        PackageOffer(p.id, p.sessions, Money(price.amount_minor, currency))
        for p in packages
        for price in p.prices
        if price.currency == currency
    ]
    return Offer(offers, zone, open_days(specialty_of(course_id), zone), slots=_every_slot())


def check_bookable(course_id: int, tier: int, choice: PackageChoice) -> None:
    """Refuse (ScheduleError on timeSlot) a schedule no trainer could teach today: nobody
    passes every filter for it. Capacity may still change before the payment lands; then
    the allocation waits for an admin, the payment is never at risk."""
    request = request_for(course_id, choice)
    scored = score_candidates(
        request, load_candidates(choice), lambda c: plan_sessions(choice, tier, c), weights()
    )
    if not any(s.qualified for s in scored):
        raise ScheduleError(
            "timeSlot",
            "No trainer is free for that schedule: pick one of the times listed as open, "
            "another day, or online sessions.",
        )


@dataclass(frozen=True)
class PackageStatus:
    """A bought package as its order page shows it."""

    purchase: TutoringPurchase
    allocation: TrainerAllocation | None
    trainer_name: str | None
    sessions: list[TutoringSession]
    progress: Progress
    timezone: str

    @property
    def assigned(self) -> bool:
        return self.allocation is not None and self.allocation.status is AllocationStatus.APPROVED

    @property
    def pending(self) -> bool:
        return self.allocation is not None and self.allocation.status is AllocationStatus.PENDING

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(ZoneInfo(self.timezone))

    def changeable(self, session: TutoringSession) -> bool:
        """Whether the student may still move or cancel it (CHANGE_NOTICE before it starts)."""
        return session.starts_at - datetime.now(UTC) >= CHANGE_NOTICE


def package_status(order_item_ids: list[int]) -> dict[int, PackageStatus]:
    """The purchases of these order lines with their trainer and sessions, by line id."""
    if not order_item_ids:
        return {}
    purchases = db.session.scalars(
        select(TutoringPurchase).where(TutoringPurchase.order_item_id.in_(order_item_ids))
    ).all()
    shown: dict[int, PackageStatus] = {}
    for purchase in purchases:  # one purchase per line; an order has a handful of lines
        allocation = current_allocation(purchase.id)
        name = None
        if allocation is not None and allocation.trainer_id is not None:
            name = db.session.scalar(
                select(User.name)
                .join(Trainer, Trainer.user_id == User.id)
                .where(Trainer.id == allocation.trainer_id)
            )
        sessions = db.session.scalars(
            select(TutoringSession)
            .where(TutoringSession.purchase_id == purchase.id)
            .order_by(TutoringSession.starts_at)
        ).all()
        assert purchase.order_item_id is not None  # selected by it
        shown[purchase.order_item_id] = PackageStatus(
            purchase,
            allocation,
            name,
            list(sessions),
            progress(purchase),
            str(purchase.details.get("timezone") or "UTC"),
        )
    return shown
