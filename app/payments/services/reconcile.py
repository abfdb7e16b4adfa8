"""Scheduled bookkeeping: reconcile stale payments, expire unpaid orders, the daily report."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.cart.queries import count_coupon_events
from app.checkout.lifecycle import expire_order
from app.checkout.models import Order, OrderStatus
from app.core.metrics import count_payment
from app.core.models import utcnow
from app.extensions import db
from app.payments.models import (
    DailyReport,
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundStatus,
)
from app.payments.providers import configured
from app.payments.providers.base import ProviderError
from app.payments.services.fulfilment import apply_payment_facts
from app.payments.services.lookup import lock_order

log = logging.getLogger(__name__)


def stale_payments(older_than: timedelta, now: datetime | None = None) -> list[int]:
    """Payments still pending at the provider after a while (their webhook never came)."""
    cutoff = (now or utcnow()) - older_than
    stmt = (
        select(Payment.id)
        .join(Order, Order.id == Payment.order_id)
        .where(
            Payment.status == PaymentStatus.PENDING,
            Payment.created_at < cutoff,
            Order.status.in_(OrderStatus.UNPAID),
        )
        .order_by(Payment.id)
    )
    return list(db.session.scalars(stmt))


def reconcile_payment(payment_id: int) -> PaymentStatus | None:
    """Ask the provider where the payment stands and act on it (seed 002: sync payment status)."""
    payment = db.session.get(Payment, payment_id)
    provider = configured().get(payment.provider) if payment else None
    if payment is None or provider is None:
        return None
    try:
        facts = provider.fetch_status(payment)
    except ProviderError as err:
        log.warning("event=reconcile_failed payment=%s reason=%s", payment.token, err.message)
        return payment.status
    updated = apply_payment_facts(payment.provider, facts)
    return updated.status if updated else None


def expire_orders(now: datetime | None = None) -> int:
    """Unpaid orders past their payment window expire and give back their coupon use."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(Order.id).where(Order.status.in_(OrderStatus.UNPAID), Order.expires_at < now)
    ).all()
    for order_id in ids:
        if not expire_order(lock_order(order_id)):
            continue  # paid or given up on since it was listed
        for payment in db.session.scalars(select(Payment).where(Payment.order_id == order_id)):
            if payment.status.is_open:
                payment.status = PaymentStatus.EXPIRED
                count_payment(payment.provider, payment.status)
    return len(ids)


def build_daily_report(day: date) -> DailyReport:
    """Orders, revenue and refunds per currency and the payment success rate of one UTC day."""
    start = datetime.combine(day, time.min).replace(tzinfo=utcnow().tzinfo)
    end = start + timedelta(days=1)
    paid = db.session.execute(
        select(Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total_minor), 0))
        .where(Order.paid_at >= start, Order.paid_at < end, Order.total_minor > 0)
        .group_by(Order.currency)
    ).all()
    free = db.session.scalar(
        select(func.count(Order.id)).where(
            Order.status == OrderStatus.COMPLETED, Order.created_at >= start, Order.created_at < end
        )
    )
    refunds = _refunds(start, end)
    started = (
        db.session.scalar(
            select(func.count(Payment.id)).where(
                Payment.created_at >= start, Payment.created_at < end
            )
        )
        or 0
    )
    succeeded = (
        db.session.scalar(
            select(func.count(Payment.id)).where(
                Payment.succeeded_at >= start, Payment.succeeded_at < end
            )
        )
        or 0
    )
    values = {
        "day": day,
        "orders_paid": sum(int(r[1]) for r in paid),
        "orders_free": int(free or 0),
        "revenue": {r[0]: int(r[2]) for r in paid},
        "refunds": dict(refunds),
        "payments_started": int(started),
        "payments_succeeded": int(succeeded),
        "success_rate": round(succeeded / started, 4) if started else None,
        "coupon_overages": count_coupon_events(start, end),
        "created_at": utcnow(),
    }
    stmt = insert(DailyReport).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day"], set_={k: v for k, v in values.items() if k != "day"}
    )
    db.session.execute(stmt)
    return db.session.scalars(select(DailyReport).where(DailyReport.day == day)).one()


def _refunds(start: datetime, end: datetime) -> dict[str, int]:
    # A refund of a surplus payment (no lines) gives back money revenue never counted.
    refunds: dict[str, int] = defaultdict(int)
    for currency, amount in db.session.execute(
        select(Refund.currency, func.sum(Refund.amount_minor))
        .where(
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.updated_at >= start,
            Refund.updated_at < end,
            select(RefundLine.id).where(RefundLine.refund_id == Refund.id).exists(),
        )
        .group_by(Refund.currency)
    ):
        refunds[currency] = int(amount)
    return dict(refunds)
