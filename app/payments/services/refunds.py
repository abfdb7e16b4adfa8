"""Refunds per order line (seed 000 flow 5): plan, confirm, refund at the provider, settle.

A refund of one course drops exactly that course's enrollment; the others stay. Tax comes
back pro rata with the amount of each line. A plan is computed (and shown) before anything
moves; the refund row is committed before the provider is called, so a retry reuses the same
idempotency key and can never refund twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from rq import Retry
from sqlalchemy import select

from app.accounts.models import User
from app.cart.pricing import allocate, half_up_div
from app.checkout.models import Order, OrderItem, OrderItemStatus, OrderStatus
from app.checkout.services import load_items, transition
from app.core.db import lock
from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import enqueue_after_commit
from app.learning.queries import get_enrollment
from app.learning.services import drop_enrollment
from app.payments.models import (
    CAPTURED,
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundSource,
    RefundStatus,
)
from app.payments.providers import get_provider
from app.payments.providers.base import ProviderError, RefundFacts
from app.payments.services.fulfilment import fulfil_payment
from app.payments.services.lookup import find_payment, lock_order, lock_payment

log = logging.getLogger(__name__)
REFUNDABLE_ORDERS = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


class RefundError(DomainError):
    code = "refund_refused"
    status = 422


@dataclass(frozen=True)
class PlanLine:
    item: OrderItem
    amount: int
    tax: int
    drops_access: bool


@dataclass(frozen=True)
class RefundPlan:
    order: Order
    payment: Payment
    lines: tuple[PlanLine, ...]

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def dropped_course_ids(self) -> list[int]:
        return [line.item.course_id for line in self.lines if line.drops_access]


def captured_payment(order: Order) -> Payment:
    """The payment that paid the order."""
    stmt = select(Payment).where(Payment.order_id == order.id, Payment.status.in_(CAPTURED))
    payment = db.session.scalars(stmt.order_by(Payment.succeeded_at)).first()
    if payment is None:
        raise RefundError("This order has no captured payment to refund.")
    return payment


def plan_refund(
    order: Order, course_ids: Sequence[int] = (), amount: int | None = None
) -> RefundPlan:
    """What a refund would give back per line, and whose access it would end."""
    if order.status not in REFUNDABLE_ORDERS:
        raise RefundError(f"An order that is {order.status.label.lower()} cannot be refunded.")
    items = [i for i in load_items(order.id) if i.refundable_minor > 0]
    if course_ids:
        chosen = [i for i in items if i.course_id in set(course_ids)]
        if len(chosen) != len(set(course_ids)):
            raise RefundError("A chosen course is not in this order or was refunded already.")
    else:
        chosen = items
    left = sum(i.refundable_minor for i in chosen)
    wanted = left if amount is None else amount
    if wanted <= 0:
        raise RefundError("There is nothing left to refund.")
    if wanted > left:
        raise RefundError(f"That is more than was paid: at most {left} can be refunded here.")
    shares = allocate(wanted, [i.refundable_minor for i in chosen])
    lines = tuple(
        PlanLine(
            item=i,
            amount=share,
            tax=half_up_div(share * i.tax_minor, i.total_minor) if i.total_minor else 0,
            drops_access=share == i.refundable_minor,
        )
        for i, share in zip(chosen, shares, strict=True)
        if share > 0
    )
    return RefundPlan(order=order, payment=captured_payment(order), lines=lines)


def check_refund_policy(plan: RefundPlan, now: datetime | None = None) -> None:
    """Students may refund within the window and below the progress limit, whole courses only."""
    now = now or utcnow()
    days = current_app.config["REFUND_WINDOW_DAYS"]
    limit = current_app.config["REFUND_MAX_PROGRESS"]
    if plan.order.paid_at is None or now - plan.order.paid_at > timedelta(days=days):
        raise RefundError(f"Refunds can be asked for within {days} days of payment.")
    for line in plan.lines:
        if not line.drops_access:
            raise RefundError("Self-service refunds are for whole courses.")
        enrollment = get_enrollment(plan.order.user_id, line.item.course_id)
        if enrollment is not None and enrollment.progress >= limit:
            raise RefundError(
                f"“{line.item.title}” is {enrollment.progress}% watched; "
                f"refunds need under {limit}%."
            )


def request_refund(
    plan: RefundPlan,
    source: RefundSource,
    reason: str,
    request_key: str,
    requested_by: User | None = None,
) -> Refund:
    """The refund row for the plan; the same request key finds the first one again."""
    existing = db.session.scalars(select(Refund).where(Refund.request_key == request_key)).first()
    if existing is not None:
        return existing
    refund = Refund(
        order_id=plan.order.id,
        payment_id=plan.payment.id,
        amount_minor=plan.amount,
        tax_minor=plan.tax,
        currency=plan.order.currency,
        source=source,
        reason=reason,
        request_key=request_key,
        requested_by_id=requested_by.id if requested_by else None,
    )
    refund.lines = [
        RefundLine(order_item_id=ln.item.id, amount_minor=ln.amount, tax_minor=ln.tax)
        for ln in plan.lines
    ]
    db.session.add(refund)
    db.session.flush()
    return refund


def execute_refund(refund: Refund) -> Refund:
    """Ask the provider to refund (idempotent per refund) and settle our books on success."""
    lock_order(refund.order_id)  # always order, then payment: the order fulfilment locks too
    payment = lock_payment(refund.payment_id)
    refund = lock(Refund, refund.id)
    if refund.status is not RefundStatus.PENDING:
        return refund
    try:
        result = get_provider(payment.provider).refund(
            payment, refund.amount_minor, refund.idempotency_key
        )
    except ProviderError as err:
        refund.status, refund.failure_reason = RefundStatus.FAILED, err.message
        log.error("event=refund_failed refund=%s reason=%s", refund.token, err.message)
        return refund
    refund.provider_refund_id = result.refund_id
    if result.succeeded or result.pending:  # a pending provider refund is committed to happen
        settle_refund(refund)
    return refund


def settle_refund(refund: Refund) -> None:
    """Record a refund the provider made: lines, enrollments, payment and order statuses."""
    order = lock_order(refund.order_id)
    payment = lock_payment(refund.payment_id)
    refund.status = RefundStatus.SUCCEEDED
    lines = db.session.scalars(select(RefundLine).where(RefundLine.refund_id == refund.id)).all()
    for line in lines:
        item = db.session.get(OrderItem, line.order_item_id)
        assert item is not None
        item.refunded_minor += line.amount_minor
        if item.refunded_minor >= item.total_minor:
            item.status = OrderItemStatus.REFUNDED
            drop_enrollment(order.user_id, item.course_id)
    payment.refunded_minor += refund.amount_minor
    order.refunded_minor += refund.amount_minor
    full = order.refunded_minor >= order.total_minor
    payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    target = OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
    transition(order, target, f"refund {refund.token[:8]} of {refund.amount_minor}")
    from app.payments.jobs import send_refund_notice  # the job module imports this one

    enqueue_after_commit(send_refund_notice, refund.id, retry=Retry(max=3, interval=[2, 4, 8]))


def apply_provider_refund(provider: str, facts: RefundFacts) -> Refund | None:
    """A refund made at the provider (its dashboard, or ours echoed back), recorded once."""
    payment = find_payment(provider, facts.payment)
    if payment is None:
        return None
    if payment.status not in CAPTURED:
        # The refund proves the payment happened: an out-of-order event must not lose it.
        fulfil_payment(payment, facts.payment)
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if facts.refund_id and db.session.scalar(
        select(Refund.id).where(
            Refund.payment_id == payment.id, Refund.provider_refund_id == facts.refund_id
        )
    ):
        return None
    amount = (
        facts.amount
        if facts.amount is not None
        else (facts.cumulative or 0) - payment.refunded_minor
    )
    if amount <= 0:
        return None
    plan = plan_refund(order, amount=min(amount, order.total_minor - order.refunded_minor))
    marker = facts.refund_id or f"{payment.token}:{payment.refunded_minor + amount}"
    key = f"provider:{provider}:{marker}"
    refund = request_refund(plan, RefundSource.PROVIDER, "Refunded at the payment provider", key)
    refund.provider_refund_id = facts.refund_id
    settle_refund(refund)
    return refund
