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
from sqlalchemy import func, select

from app.accounts.models import User
from app.cart.pricing import allocate
from app.checkout.invoices import returned_tax
from app.checkout.lifecycle import record_event, record_refund
from app.checkout.models import Order, OrderItem, OrderStatus
from app.checkout.queries import load_items
from app.core.db import lock
from app.core.errors import DomainError
from app.core.metrics import count_refund
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import CRITICAL_RETRY, NOTIFY_RETRY, QueueName, enqueue_after_commit
from app.learning.queries import get_enrollment
from app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundSource,
    RefundStatus,
)
from app.payments.providers import get_provider
from app.payments.providers.base import ProviderError
from app.payments.services.lookup import find_refund, lock_order, lock_payment

log = logging.getLogger(__name__)
# The jobs, by dotted path: the job module imports this one, so it is never imported here.
EXECUTE_REFUND = "app.payments.jobs.execute_refund"
SEND_REFUND_NOTICE = "app.payments.jobs.send_refund_notice"


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
    # A payment the order did not need (a second capture): given back, touching no line.
    surplus: int = 0

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines) + self.surplus

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def dropped_course_ids(self) -> list[int]:
        return [line.item.course_id for line in self.lines if line.drops_access]


def captured_payment(order: Order) -> Payment:
    """The payment that paid the order."""
    stmt = select(Payment).where(
        Payment.order_id == order.id, Payment.status.in_(PaymentStatus.CAPTURED)
    )
    payment = db.session.scalars(stmt.order_by(Payment.succeeded_at)).first()
    if payment is None:
        raise RefundError("This order has no captured payment to refund.")
    return payment


def plan_refund(
    order: Order,
    course_ids: Sequence[int] = (),
    amount: int | None = None,
    payment: Payment | None = None,
) -> RefundPlan:
    """What a refund would give back per line, and whose access it would end.

    The money goes back on the payment that paid the order, unless another one is given.
    """
    if order.status is OrderStatus.REFUNDED:
        raise RefundError("This order was already refunded in full.")
    if not order.can_refund:
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
            # The credit note's rule (on the line's running refunded total), so a line given
            # back in parts returns exactly its tax and each refund matches its credit note.
            tax=returned_tax(i, share),
            drops_access=share == i.refundable_minor,
        )
        for i, share in zip(chosen, shares, strict=True)
        if share > 0
    )
    return RefundPlan(order=order, payment=payment or captured_payment(order), lines=lines)


def plan_surplus_refund(order: Order, payment: Payment) -> RefundPlan:
    """Give back the whole of a payment the order did not need (it was paid already)."""
    left = (payment.paid_amount_minor or payment.amount_minor) - payment.refunded_minor
    if left <= 0:
        raise RefundError("There is nothing left to refund on this payment.")
    return RefundPlan(order=order, payment=payment, lines=(), surplus=left)


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
    return claim_refund(plan, source, reason, request_key, requested_by)[0]


def claim_refund(
    plan: RefundPlan,
    source: RefundSource,
    reason: str,
    request_key: str,
    requested_by: User | None = None,
) -> tuple[Refund, bool]:
    """The refund row for the plan and whether this call made it.

    The order row is locked before the request key is looked up, so the same form sent ten
    times at once queues up here: the first inserts, the others find its row (instead of
    colliding on the unique key). A plan made before the lock is checked again under it, so
    two requests for one course (two tabs) never become two refunds.
    """
    lock_order(plan.order.id)
    existing = find_refund(request_key)
    if existing is not None:
        return existing, False
    if source is not RefundSource.PROVIDER:  # one the provider already made is recorded anyway
        _check_still_refundable(plan)
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
    return refund, True


def _check_still_refundable(plan: RefundPlan) -> None:
    """Refuse lines another refund took (or is taking) since the plan was made."""
    ids = [line.item.id for line in plan.lines]
    if not ids:
        return
    refunded = dict(  # columns, not entities: the values as committed now, not as first read
        db.session.execute(
            select(OrderItem.id, OrderItem.refunded_minor).where(OrderItem.id.in_(ids))
        ).all()
    )
    pending = dict(
        db.session.execute(
            select(RefundLine.order_item_id, func.sum(RefundLine.amount_minor))
            .join(Refund, Refund.id == RefundLine.refund_id)
            .where(RefundLine.order_item_id.in_(ids), Refund.status == RefundStatus.PENDING)
            .group_by(RefundLine.order_item_id)
        ).all()
    )
    for line in plan.lines:
        left = line.item.total_minor - refunded[line.item.id] - int(pending.get(line.item.id, 0))
        if line.amount > left:
            raise RefundError(
                f"A refund of “{line.item.title}” was already asked for.", code="refund_exists"
            )


def make_refund(refund: Refund, final_attempt: bool = True) -> Refund:
    """Ask the provider to refund (idempotent per refund) and settle our books on success.

    Run by the execute_refund job only. A refund already made or refused is left alone. A
    provider error fails the refund, unless this is not the final attempt: then it is raised
    with the refund still pending, for the job to try again with the same key.
    """
    lock_order(refund.order_id)  # always order, then payment: the order fulfilment locks too
    payment = lock_payment(refund.payment_id)
    refund = lock(Refund, refund.id)
    if refund.status.is_final:
        return refund
    try:
        result = get_provider(payment.provider).refund(
            payment, refund.amount_minor, refund.idempotency_key
        )
    except ProviderError as err:
        if not final_attempt:
            raise
        refund.status, refund.failure_reason = RefundStatus.FAILED, err.message
        count_refund(payment.provider, refund.status)
        log.error("event=refund_failed refund=%s reason=%s", refund.token, err.message)
        return refund
    refund.provider_refund_id = result.refund_id
    if result.succeeded or result.pending:  # a pending provider refund is committed to happen
        settle_refund(refund)
    count_refund(payment.provider, refund.status)
    return refund


def settle_refund(refund: Refund) -> None:
    """Record a refund the provider made: the payment's books here, the order's in checkout
    (lines, access, status)."""
    order = lock_order(refund.order_id)
    payment = lock_payment(refund.payment_id)
    refund.status = RefundStatus.SUCCEEDED
    lines = db.session.scalars(select(RefundLine).where(RefundLine.refund_id == refund.id)).all()
    payment.refunded_minor += refund.amount_minor
    if not lines:
        full = _settle_surplus(order, payment, refund)
    else:
        amounts = {line.order_item_id: line.amount_minor for line in lines}
        full = record_refund(order, amounts, f"refund {refund.token[:8]} of {refund.amount_minor}")
    payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    enqueue_after_commit(SEND_REFUND_NOTICE, refund.id, retry=NOTIFY_RETRY)


def _settle_surplus(order: Order, payment: Payment, refund: Refund) -> bool:
    # The order was paid by another payment: its lines, access and status stay as they are.
    paid = payment.paid_amount_minor or payment.amount_minor
    record_event(
        order,
        f"refund {refund.token[:8]} of {refund.amount_minor}: payment "
        f"{payment.token[:8]} given back, the order stays {order.status.label.lower()}",
    )
    return payment.refunded_minor >= paid


def stale_refunds(older_than: timedelta, now: datetime | None = None) -> list[int]:
    """Refund rows still pending a while after they were made: their execution never ran."""
    cutoff = (now or utcnow()) - older_than
    stmt = (
        select(Refund.id)
        .where(Refund.status == RefundStatus.PENDING, Refund.created_at < cutoff)
        .order_by(Refund.id)
    )
    return list(db.session.scalars(stmt))


def plan_payment_refund(payment: Payment, amount: int | None = None) -> RefundPlan:
    """The plan for giving back (part of) the payment that paid its order (all that is left
    when no amount is given), spread over its lines as plan_refund does."""
    order = db.session.get(Order, payment.order_id)
    if order is None or not payment.status.is_captured:
        raise RefundError("This payment took no money to give back.")
    if captured_payment(order).id != payment.id:
        raise RefundError("This payment did not pay its order: it is given back on its own.")
    return plan_refund(order, amount=amount, payment=payment)


def request_buyer_refund(
    payment: Payment, buyer: User, amount: int | None, reason: str, request_key: str
) -> tuple[Refund, bool]:
    """A refund the buyer asks for from an app, within the self-service policy (whole courses,
    in the window, little watched); the same request key finds the first refund. The refund
    job makes it after commit, as for every refund. (refund, whether this call made it)"""
    earlier = find_refund(request_key)
    if earlier is not None:
        return earlier, False
    plan = plan_payment_refund(payment, amount)
    check_refund_policy(plan)
    refund, first = claim_refund(plan, RefundSource.STUDENT, reason, request_key, buyer)
    if first:
        enqueue_after_commit(
            EXECUTE_REFUND, refund.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
        )
    return refund, first
