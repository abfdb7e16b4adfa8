"""Payments (one per attempt), refunds with their lines, webhook events and daily reports."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.checkout.models import Order, OrderItem
from app.core.models import TimestampMixin, str_enum, utcnow
from app.core.security import new_token
from app.extensions import db


class PaymentStatus(StrEnum):
    CREATED = "created"  # row written, provider session not created yet
    PENDING = "pending"  # the buyer is on the provider's page
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    AMOUNT_MISMATCH = "amount_mismatch"  # paid, but not what the order says: for an admin
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"

    # Still waiting for the buyer or the provider (set below the class, see OrderStatus).
    OPEN: ClassVar[frozenset[PaymentStatus]]
    # Money was taken (and may have been given back since).
    CAPTURED: ClassVar[frozenset[PaymentStatus]]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self in PaymentStatus.OPEN

    @property
    def is_captured(self) -> bool:
        return self in PaymentStatus.CAPTURED


PaymentStatus.OPEN = frozenset({PaymentStatus.CREATED, PaymentStatus.PENDING})
PaymentStatus.CAPTURED = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


class PaymentFlag(StrEnum):
    """Why an admin should look at a payment (the console lists flagged payments)."""

    DUPLICATE = "duplicate"  # paid for what the buyer already had: refunded automatically

    @property
    def label(self) -> str:
        return "Charged twice" if self is PaymentFlag.DUPLICATE else self.value.capitalize()


# Kept for callers written before the groups moved onto the enum.
OPEN_PAYMENT = tuple(PaymentStatus.OPEN)
CAPTURED = tuple(PaymentStatus.CAPTURED)


class Payment(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """One attempt to pay an order with one provider."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36), unique=True, default=new_token, nullable=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus, "payment_status"), default=PaymentStatus.CREATED, index=True
    )
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Stripe Checkout Session id / Razorpay order id / sandbox session id.
    provider_session_id: Mapped[str | None] = mapped_column(String(120))
    # Stripe PaymentIntent id / Razorpay payment id / sandbox charge id.
    provider_payment_id: Mapped[str | None] = mapped_column(String(120))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    # What a pay page needs to open the provider's own checkout (Razorpay's modal).
    client_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    paid_amount_minor: Mapped[int | None] = mapped_column(Integer)
    paid_currency: Mapped[str | None] = mapped_column(String(3))
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    flag: Mapped[PaymentFlag | None] = mapped_column(
        str_enum(PaymentFlag, "payment_flag"), index=True
    )
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    flag_reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("order_id", "attempt"),
        Index(
            "uq_payments_provider_session",
            "provider",
            "provider_session_id",
            unique=True,
            postgresql_where=text("provider_session_id IS NOT NULL"),
        ),
        Index(
            "uq_payments_provider_payment",
            "provider",
            "provider_payment_id",
            unique=True,
            postgresql_where=text("provider_payment_id IS NOT NULL"),
        ),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
    )


class RefundStatus(StrEnum):
    PENDING = "pending"  # the row exists; the job has not made it at the provider yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_final(self) -> bool:
        """Made or refused: running the refund again does nothing."""
        return self is not RefundStatus.PENDING


class RefundSource(StrEnum):
    ADMIN = "admin"
    STUDENT = "student"
    PROVIDER = "provider"  # made in the provider's dashboard, learned from a webhook
    DUPLICATE = "duplicate"  # by the shop itself: the buyer was charged twice


class Refund(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36), unique=True, default=new_token, nullable=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), nullable=False, index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    tax_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus, "refund_status"), default=RefundStatus.PENDING
    )
    source: Mapped[RefundSource] = mapped_column(str_enum(RefundSource, "refund_source"))
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # The request that asked for it: the same request twice finds this row, not a new refund.
    request_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    provider_refund_id: Mapped[str | None] = mapped_column(String(120))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lines: Mapped[list[RefundLine]] = relationship(
        cascade="all, delete-orphan", order_by="RefundLine.id", lazy="raise"
    )

    __table_args__ = (
        Index(
            "uq_refunds_provider_refund",
            "payment_id",
            "provider_refund_id",
            unique=True,
            postgresql_where=text("provider_refund_id IS NOT NULL"),
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    @property
    def is_pending(self) -> bool:
        return self.status is RefundStatus.PENDING

    @property
    def succeeded(self) -> bool:
        return self.status is RefundStatus.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status is RefundStatus.FAILED

    @property
    def idempotency_key(self) -> str:
        """The key sent to the provider: one per refund, the same on every retry."""
        return f"refund-{self.token}"


class RefundLine(db.Model):  # type: ignore[name-defined,misc]
    """The part of a refund that goes back on one order line, with the tax it reverses."""

    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refund_id: Mapped[int] = mapped_column(
        ForeignKey("refunds.id", ondelete="CASCADE"), nullable=False, index=True
    )
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"), nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    tax_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    order_item: Mapped[OrderItem] = relationship(lazy="raise")


class WebhookStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class WebhookEvent(db.Model):  # type: ignore[name-defined,misc]
    """Every verified webhook, stored before anything else happens: the outbox of paid orders."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    event_id: Mapped[str] = mapped_column(String(200), nullable=False)
    type: Mapped[str] = mapped_column(String(80), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[WebhookStatus] = mapped_column(
        str_enum(WebhookStatus, "webhook_status"), default=WebhookStatus.RECEIVED, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)

    __table_args__ = (UniqueConstraint("provider", "event_id"),)


class DailyReport(db.Model):  # type: ignore[name-defined,misc]
    """One row a day: orders, revenue and refunds per currency, payment success rate."""

    __tablename__ = "daily_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    orders_paid: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    orders_free: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    revenue: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, nullable=False)
    refunds: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, nullable=False)
    payments_started: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    payments_succeeded: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    success_rate: Mapped[float | None] = mapped_column()  # a ratio for a report, not money
    # Coupon uses honoured past a limit that day (late payments of expired orders).
    coupon_overages: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


# The sandbox provider keeps its own table in its package; listed here with the domain's tables
# (for Alembic and create_all) and for older imports. Nothing on that import path needs this
# module at run time, so importing it last closes no circle (tests/payments/test_pay_page.py).
from app.payments.providers.sandbox.models import (  # noqa: E402
    SandboxSession as SandboxSession,
)
from app.payments.providers.sandbox.models import (  # noqa: E402
    SandboxStatus as SandboxStatus,
)
