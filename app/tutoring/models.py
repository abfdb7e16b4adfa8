"""Tutoring: packages of live sessions (a tier of 10, 20 or 30 with a price per currency),
trainers with their weekly availability and time off, the purchases students make, the
allocation of a trainer to each purchase (with every candidate's factor scores), and the
sessions themselves. Progress is derived from sessions (seed 003: read-only), never stored."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Course
from app.core.models import TimestampMixin, str_enum, utcnow
from app.extensions import db


class TutoringMode(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return "Online" if self is TutoringMode.ONLINE else "In person"


class PurchaseSource(StrEnum):
    PURCHASE = "purchase"  # a paid order line
    ADMIN = "admin"  # an admin's fix-up (seed 001 flow 2)


class AllocationStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"  # no trainer qualified, or the best score was low: an admin decides
    REJECTED = "rejected"  # replaced by another allocation, or ended by a refund

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELED = "canceled"
    PENDING_REASSIGNMENT = "pending_reassignment"  # the trainer took time off over it

    @property
    def label(self) -> str:
        return {"no_show": "No-show", "pending_reassignment": "Awaiting a trainer"}.get(
            self.value, self.value.capitalize()
        )


SessionStatus.OPEN = frozenset({SessionStatus.SCHEDULED, SessionStatus.PENDING_REASSIGNMENT})  # type: ignore[attr-defined]


class TutoringPackage(db.Model):  # type: ignore[name-defined,misc]
    """A tutoring course sold as `sessions` live sessions, with one price per currency."""

    __tablename__ = "tutoring_packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sessions: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    course: Mapped[Course] = relationship(lazy="raise")
    prices: Mapped[list[TutoringPackagePrice]] = relationship(
        cascade="all, delete-orphan", lazy="raise"
    )

    __table_args__ = (
        UniqueConstraint("course_id", "sessions"),
        CheckConstraint("sessions IN (10, 20, 30)", name="sessions_tier"),
    )


class TutoringPackagePrice(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tutoring_package_prices"

    package_id: Mapped[int] = mapped_column(
        ForeignKey("tutoring_packages.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)


class Trainer(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A trainer account's tutoring profile. `active_students` counts approved allocations
    with sessions still to come; it changes only under this row's lock, and the CHECK keeps
    two racing assignments from both taking the last place."""

    __tablename__ = "trainers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    specialties: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, nullable=False)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list, nullable=False)
    gender: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(60), nullable=False)
    online: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    in_person: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    area: Mapped[str | None] = mapped_column(String(80))  # where they teach in person
    # Coordinates of `area` (not money: floats are fine for distances).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    max_distance_km: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int] = mapped_column(Integer, default=8, nullable=False)
    active_students: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    accepting: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    bio: Mapped[str] = mapped_column(Text, default="", nullable=False)

    user: Mapped[User] = relationship(lazy="raise")
    slots: Mapped[list[TrainerSlot]] = relationship(
        cascade="all, delete-orphan", order_by="(TrainerSlot.weekday, TrainerSlot.starts)",
        lazy="raise",
    )  # fmt: skip
    time_off: Mapped[list[TrainerTimeOff]] = relationship(
        cascade="all, delete-orphan", order_by="TrainerTimeOff.starts_at", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "active_students >= 0 AND active_students <= capacity", name="within_capacity"
        ),
        CheckConstraint("gender IN ('female', 'male', 'other')", name="gender_known"),
    )


class TrainerSlot(db.Model):  # type: ignore[name-defined,misc]
    """A weekly window the trainer teaches in, on their own wall clock."""

    __tablename__ = "trainer_availability"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainer_id: Mapped[int] = mapped_column(
        ForeignKey("trainers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)  # ISO 1=Mon..7=Sun
    starts: Mapped[time] = mapped_column(Time, nullable=False)
    ends: Mapped[time] = mapped_column(Time, nullable=False)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        CheckConstraint("ends > starts", name="ends_after_start"),
    )


class TrainerTimeOff(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "trainer_time_off"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainer_id: Mapped[int] = mapped_column(
        ForeignKey("trainers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), default="", nullable=False)

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class TutoringPurchase(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A student's package (seed 003's student_course_purchases). `key` makes creating it
    idempotent whoever asks: `line:<order item id>` for a paid line, `admin:<form key>` for an
    admin's; a second call with the same key finds this row."""

    __tablename__ = "tutoring_purchases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False, index=True)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("tutoring_packages.id", ondelete="SET NULL")
    )
    tier: Mapped[int] = mapped_column(Integer, nullable=False)
    # The validated schedule and preferences in the seed's names (timeSlot, date, ...).
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)
    mode: Mapped[TutoringMode] = mapped_column(
        str_enum(TutoringMode, "tutoring_mode"), default=TutoringMode.ONLINE
    )
    source: Mapped[PurchaseSource] = mapped_column(
        str_enum(PurchaseSource, "purchase_source"), default=PurchaseSource.PURCHASE
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id"), unique=True)
    purchased_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    ended_reason: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship(lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")

    __table_args__ = (CheckConstraint("tier IN (10, 20, 30)", name="tier_known"),)


class TrainerAllocation(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """Who teaches a purchase. `candidates` keeps every trainer considered with each factor's
    score and note (why this one, why not the others); at most one is approved per purchase."""

    __tablename__ = "trainer_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("tutoring_purchases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("trainers.id"), index=True)
    status: Mapped[AllocationStatus] = mapped_column(
        str_enum(AllocationStatus, "allocation_status"), default=AllocationStatus.PENDING
    )
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list, nullable=False)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, nullable=False)
    note: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: automatic

    trainer: Mapped[Trainer | None] = relationship(lazy="raise")

    __table_args__ = (
        Index(
            "uq_trainer_allocations_one_approved",
            "purchase_id",
            unique=True,
            postgresql_where=text("status = 'approved'"),
        ),
    )


class TutoringSession(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tutoring_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("tutoring_purchases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("trainers.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1.. within the purchase
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_min: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "tutoring_session_status"), default=SessionStatus.SCHEDULED
    )
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    trainer: Mapped[Trainer | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("purchase_id", "number"),
        CheckConstraint("duration_min IN (45, 60, 90)", name="duration_known"),
        Index("ix_tutoring_sessions_trainer_starts", "trainer_id", "starts_at"),
    )
