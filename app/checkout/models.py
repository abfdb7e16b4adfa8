"""Orders with their frozen price snapshot, status history, and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.cart.pricing import PricedLine
from app.catalog.models import Course
from app.core.models import TimestampMixin, str_enum, utcnow
from app.core.money import Money
from app.core.periods import AccessPeriod
from app.core.security import new_token
from app.extensions import db


class OrderStatus(StrEnum):
    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    COMPLETED = "completed"  # free orders
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"

    # The groups callers ask about (set below the class: an enum body would make them members).
    # Placed and not yet paid or given up on: a repeated checkout of its cart lands here.
    AWAITING: ClassVar[frozenset[OrderStatus]]
    # Not paid and still inside its payment window: reconciled, and expired when it lapses.
    UNPAID: ClassVar[frozenset[OrderStatus]]
    # An attempt ended without money: the buyer may try again.
    GAVE_UP: ClassVar[frozenset[OrderStatus]]
    RETRYABLE: ClassVar[frozenset[OrderStatus]]
    # Fulfilled: paid (or free), whatever was refunded since.
    FULFILLED: ClassVar[frozenset[OrderStatus]]
    # Paid in full and nothing refunded: the buyer has everything they bought.
    SETTLED: ClassVar[frozenset[OrderStatus]]
    REFUNDABLE: ClassVar[frozenset[OrderStatus]]
    HAS_REFUNDS: ClassVar[frozenset[OrderStatus]]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


_S = OrderStatus
OrderStatus.AWAITING = frozenset({_S.PENDING, _S.AWAITING_PAYMENT})
OrderStatus.UNPAID = frozenset({_S.PENDING, _S.AWAITING_PAYMENT, _S.FAILED, _S.CANCELED})
OrderStatus.GAVE_UP = frozenset({_S.FAILED, _S.CANCELED, _S.EXPIRED})
OrderStatus.RETRYABLE = frozenset({_S.AWAITING_PAYMENT, *OrderStatus.GAVE_UP})
OrderStatus.FULFILLED = frozenset({_S.PAID, _S.PARTIALLY_REFUNDED, _S.REFUNDED, _S.COMPLETED})
OrderStatus.SETTLED = frozenset({_S.PAID, _S.COMPLETED})
OrderStatus.REFUNDABLE = frozenset({_S.PAID, _S.PARTIALLY_REFUNDED})
OrderStatus.HAS_REFUNDS = frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED})

# Kept for callers written before the groups moved onto the enum.
PAID_STATUSES = tuple(OrderStatus.FULFILLED)
AWAITING = tuple(OrderStatus.AWAITING)


class LineKind(StrEnum):
    """What an order line sells; checkout grants and revokes each kind in one place."""

    COURSE = "course"
    TUTORING = "tutoring"  # a package of live sessions: a purchase in tutoring


class Order(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36), unique=True, default=new_token, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "order_status"), default=OrderStatus.PENDING, index=True
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    sale_discount_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    coupon_discount_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    tax_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    total_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    tax_country: Mapped[str | None] = mapped_column(String(2))
    tax_name: Mapped[str] = mapped_column(String(40), default="Tax", nullable=False)
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    provider: Mapped[str | None] = mapped_column(String(20))
    # The cart it was placed from: a second checkout of that cart finds this order.
    cart_token: Mapped[str | None] = mapped_column(String(36), index=True)
    # Seed 002's analytics_data ([{key, value}]), copied from the cart the order was placed from.
    analytics_data: Mapped[list[dict[str, str]] | None] = mapped_column(JSONB)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Webhook received -> enrollments created, for the latency figure admins watch.
    first_webhook_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The buyer as the invoice names them, entered at checkout (tax id and Indian state optional).
    buyer_name: Mapped[str | None] = mapped_column(String(200))
    buyer_tax_id: Mapped[str | None] = mapped_column(String(32))
    buyer_region: Mapped[str | None] = mapped_column(String(8))
    # Assigned when the order is paid, from invoice_counters: gap-free per series and year.
    invoice_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    invoiced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="raise")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id", lazy="raise"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        cascade="all, delete-orphan", order_by="OrderEvent.id", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= total_minor", name="refund_range"
        ),
    )

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)

    @property
    def is_paid(self) -> bool:
        return self.status in OrderStatus.FULFILLED

    @property
    def is_awaiting_payment(self) -> bool:
        return self.status is OrderStatus.AWAITING_PAYMENT

    @property
    def is_canceled(self) -> bool:
        return self.status is OrderStatus.CANCELED

    @property
    def is_expired(self) -> bool:
        return self.status is OrderStatus.EXPIRED

    @property
    def is_settled(self) -> bool:
        """Paid (or free) and nothing refunded: everything bought is the buyer's."""
        return self.status in OrderStatus.SETTLED

    @property
    def can_retry(self) -> bool:
        """A payment attempt ended without money: "Try again" may start another."""
        return self.status in OrderStatus.GAVE_UP

    @property
    def can_refund(self) -> bool:
        return self.status in OrderStatus.REFUNDABLE

    @property
    def has_refunds(self) -> bool:
        return self.status in OrderStatus.HAS_REFUNDS

    @property
    def discount_minor(self) -> int:
        return self.sale_discount_minor + self.coupon_discount_minor


class OrderItemStatus(StrEnum):
    ACTIVE = "active"
    REFUNDED = "refunded"


class OrderItem(db.Model):  # type: ignore[name-defined,misc]
    """One course of an order, with the prices frozen when the order was placed."""

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    base_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    sale_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    sale_slug: Mapped[str | None] = mapped_column(String(80))
    coupon_discount_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    tax_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    total_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    status: Mapped[OrderItemStatus] = mapped_column(
        str_enum(OrderItemStatus, "order_item_status"), default=OrderItemStatus.ACTIVE
    )
    # The price's access period when the order was placed (None: access for good).
    access_period_value: Mapped[int | None] = mapped_column(Integer)
    access_period_unit: Mapped[str | None] = mapped_column(String(5))
    # A tutoring package line: its sessions (10/20/30) and the student's schedule for them.
    sessions: Mapped[int | None] = mapped_column(Integer)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("tutoring_packages.id", ondelete="SET NULL")
    )
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("order_id", "course_id"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= total_minor", name="refund_range"
        ),
        CheckConstraint("sessions IS NULL OR sessions IN (10, 20, 30)", name="sessions_tier"),
    )

    @classmethod
    def priced(cls, line: PricedLine, period: AccessPeriod | None, **fields: Any) -> OrderItem:
        """The line as the pricing engine priced it, frozen (period: the access it sells)."""
        return cls(
            course_id=line.course_id,
            title=line.title,
            base_minor=line.base_price,
            sale_minor=line.sale_price,
            sale_slug=line.sale_slug,
            coupon_discount_minor=line.coupon_discount,
            tax_minor=line.tax_total,
            total_minor=line.total,
            access_period_value=period.value if period else None,
            access_period_unit=period.unit if period else None,
            **fields,
        )

    @property
    def access_period(self) -> AccessPeriod | None:
        """The access this line bought: None for good."""
        return AccessPeriod.of(self.access_period_value, self.access_period_unit)

    @property
    def refundable_minor(self) -> int:
        return self.total_minor - self.refunded_minor

    @property
    def is_refunded(self) -> bool:
        return self.status is OrderItemStatus.REFUNDED

    @property
    def kind(self) -> LineKind:
        """What the line sells: a course (an enrollment) or a tutoring package (a purchase)."""
        return LineKind.TUTORING if self.sessions is not None else LineKind.COURSE


class OrderEvent(db.Model):  # type: ignore[name-defined,misc]
    """Every status change of an order, with when and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


class IdempotencyKey(db.Model):  # type: ignore[name-defined,misc]
    """The first response to a key, replayed for the same request and refused for another."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    scope: Mapped[str] = mapped_column(String(40), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )

    __table_args__ = (UniqueConstraint("user_id", "scope", "key"),)


class InvoiceCounter(db.Model):  # type: ignore[name-defined,misc]
    """The last number issued in a series ("INV", "CN") for a seller and year. Taken with
    UPDATE ... RETURNING inside the paying transaction: the row lock serialises concurrent
    payments and a rollback gives the number back, so the sequence has no gaps."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class CreditNote(db.Model):  # type: ignore[name-defined,misc]
    """Money given back on an invoiced order, as the document a tax office expects: its own
    gap-free number, the amount and tax returned per line (`lines`: item id -> minor units)."""

    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    tax_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    lines: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    issued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)
