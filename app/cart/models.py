"""Carts, coupons (with their reservations and redemptions) and sale campaigns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cart.pricing import CouponKind
from app.catalog.models import Course
from app.core import shared_cache
from app.core.models import TimestampMixin, str_enum, utcnow
from app.core.periods import AccessPeriod
from app.core.security import new_token
from app.extensions import db
from app.tutoring.models import TutoringPackage


class Cart(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36), unique=True, default=new_token, nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="SET NULL"))
    # Buyer country for tax, when chosen on the cart; else the profile's, else from the currency.
    country: Mapped[str | None] = mapped_column(String(2))
    # Touched on every change; carts idle for 24 hours are deleted by the cleanup job.
    touched_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )
    # Seed 002's analytics_data ([{"key", "value"}]) sent with the cart; copied onto its order.
    analytics_data: Mapped[list[dict[str, str]] | None] = mapped_column(JSONB)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id", lazy="raise"
    )
    coupon: Mapped[Coupon | None] = relationship(lazy="raise")

    __table_args__ = (
        # One cart per user; anonymous carts have none.
        Index(
            "uq_carts_user_id", "user_id", unique=True, postgresql_where=text("user_id IS NOT NULL")
        ),
    )


class CartDay(db.Model):  # type: ignore[name-defined,misc]
    """How many carts created on a day (UTC) the idle-cart cleanup has deleted since, so the
    console's funnel still counts them: carts created in a window = live ones + these."""

    __tablename__ = "cart_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    deleted: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (CheckConstraint("deleted >= 0", name="deleted_not_negative"),)


class CartItem(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "cart_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), nullable=False)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A tutoring package of the course, with the student's schedule for it (validated when
    # added; app.tutoring.purchases.PackageChoice.as_details).
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("tutoring_packages.id", ondelete="CASCADE")
    )
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Seed 002's product `period` chosen for this line (None: the price's own access period).
    period_value: Mapped[int | None] = mapped_column(Integer)
    period_unit: Mapped[str | None] = mapped_column(String(5))

    cart: Mapped[Cart] = relationship(back_populates="items", lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")
    package: Mapped[TutoringPackage | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("cart_id", "course_id"),
        CheckConstraint(
            "(period_value IS NULL AND period_unit IS NULL) OR "
            "(period_value > 0 AND period_unit IN ('day', 'week', 'month', 'year'))",
            name="period_whole",
        ),
    )

    @property
    def period(self) -> AccessPeriod | None:
        """The access period the buyer chose for this line, if they chose one."""
        return AccessPeriod.of(self.period_value, self.period_unit)


coupon_courses = Table(
    "coupon_courses",
    db.metadata,
    Column("coupon_id", ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
)


class Coupon(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """Percent or fixed amount off. Amounts (fixed, minimum, cap) are in `currency`."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    kind: Mapped[CouponKind] = mapped_column(str_enum(CouponKind, "coupon_kind"), nullable=False)
    percent_off_bp: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    amount_off_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    minimum_minor: Mapped[int | None] = mapped_column(Integer)
    max_discount_minor: Mapped[int | None] = mapped_column(Integer)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_user: Mapped[int | None] = mapped_column(Integer)
    # Reserved plus redeemed uses; reservations come back when their order fails or expires.
    # It may exceed max_uses only when a late payment honours a released reservation.
    uses: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    courses: Mapped[list[Course]] = relationship(secondary=coupon_courses, lazy="raise")

    __table_args__ = (
        Index("uq_coupons_code_upper", func.upper(code), unique=True),
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        CheckConstraint("percent_off_bp BETWEEN 0 AND 10000", name="percent_range"),
        CheckConstraint("amount_off_minor >= 0", name="amount_not_negative"),
        CheckConstraint(
            "kind <> 'fixed' OR (currency IS NOT NULL AND amount_off_minor > 0)",
            name="fixed_has_currency",
        ),
        CheckConstraint(
            "(minimum_minor IS NULL AND max_discount_minor IS NULL) OR currency IS NOT NULL",
            name="amounts_have_currency",
        ),
    )


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"
    REDEEMED = "redeemed"
    RELEASED = "released"


class CouponRedemption(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """One use of a coupon by a user for an order: reserved, then redeemed or released."""

    __tablename__ = "coupon_redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    # The order it is for (orders live in the checkout domain, above this one).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    status: Mapped[RedemptionStatus] = mapped_column(
        str_enum(RedemptionStatus, "redemption_status"), default=RedemptionStatus.RESERVED
    )
    discount_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)

    __table_args__ = (Index("ix_coupon_redemptions_coupon_user", "coupon_id", "user_id"),)


class CouponEventKind(StrEnum):
    OVERAGE = "overage"  # a use past max_uses
    USER_OVERAGE = "user_overage"  # a use past max_uses_per_user


class CouponEvent(db.Model):  # type: ignore[name-defined,misc]
    """Something about a coupon an admin should see: a use honoured past its limit."""

    __tablename__ = "coupon_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), nullable=False, index=True)
    # The order whose late payment took the use (orders live in checkout, above this domain).
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[CouponEventKind] = mapped_column(
        str_enum(CouponEventKind, "coupon_event_kind"), nullable=False
    )
    uses_before: Mapped[int] = mapped_column(Integer, nullable=False)
    use_limit: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )

    __table_args__ = (UniqueConstraint("order_id", "kind"),)


class Sale(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A sale campaign: percent off its scope, or fixed sale prices per course (SalePrice)."""

    __tablename__ = "sales"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    percent_off_bp: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    all_courses: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    courses: Mapped[list[Course]] = relationship(secondary="sale_courses", lazy="raise")
    category_ids: Mapped[list[SaleCategory]] = relationship(
        cascade="all, delete-orphan", lazy="raise"
    )
    prices: Mapped[list[SalePrice]] = relationship(cascade="all, delete-orphan", lazy="raise")

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_order"),
        CheckConstraint("percent_off_bp BETWEEN 0 AND 10000", name="percent_range"),
    )


sale_courses = Table(
    "sale_courses",
    db.metadata,
    Column("sale_id", ForeignKey("sales.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
)


class SaleCategory(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sale_categories"

    sale_id: Mapped[int] = mapped_column(
        ForeignKey("sales.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )


class SalePrice(db.Model):  # type: ignore[name-defined,misc]
    """A fixed sale price for one course in one currency during the campaign."""

    __tablename__ = "sale_prices"

    sale_id: Mapped[int] = mapped_column(
        ForeignKey("sales.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_not_negative"),)


# Writes to these end the cached running campaigns (app/cart/shared.py).
shared_cache.watch("sales", Sale, SaleCategory, SalePrice)
