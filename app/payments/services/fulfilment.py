"""Fulfilment (seed 003's critical path): payment succeeded -> order paid -> enrollments.

Called by the webhook job and by the return handler; both idempotent, so whichever comes
first does the work and the other finds it done. The order row is locked for the whole
transaction, and enrollments are unique per (user, course) in PostgreSQL. A capture for
what the buyer already has is refunded automatically (see duplicates.py), never kept.
"""

from __future__ import annotations

import logging
from datetime import datetime

from rq import Retry

from app.cart.services import release_coupon
from app.checkout.jobs import record_conversion, send_order_receipt
from app.checkout.models import Order, OrderItem, OrderItemStatus, OrderStatus
from app.checkout.services import load_items, redeem_order_coupon, restore_cart, transition
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import QueueName, enqueue_after_commit
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from app.payments.models import CAPTURED, OPEN_PAYMENT, Payment, PaymentStatus
from app.payments.providers.base import FactStatus, PaymentFacts
from app.payments.services.duplicates import refund_duplicate
from app.payments.services.lookup import find_payment, latest_payment, lock_order, lock_payment

log = logging.getLogger(__name__)
NOTIFY_RETRY = Retry(max=3, interval=[2, 4, 8])


def apply_payment_facts(provider: str, facts: PaymentFacts) -> Payment | None:
    """Act on what the provider says about a payment; None when it is not one of ours."""
    payment = find_payment(provider, facts)
    if payment is None:
        return None
    if facts.status is FactStatus.PAID:
        return fulfil_payment(payment, facts)
    if facts.status is FactStatus.FAILED:
        return close_payment(payment, PaymentStatus.FAILED, facts.reason or "The payment failed.")
    if facts.status is FactStatus.EXPIRED:
        return close_payment(payment, PaymentStatus.EXPIRED, "The payment page expired.")
    if facts.status is FactStatus.CANCELED:
        return close_payment(payment, PaymentStatus.CANCELED, "The payment was canceled.")
    return payment


def fulfil_payment(payment: Payment, facts: PaymentFacts, now: datetime | None = None) -> Payment:
    """Payment succeeded: the order is paid, its courses enrolled, its coupon use final."""
    now = now or utcnow()
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if payment.status in (*CAPTURED, PaymentStatus.AMOUNT_MISMATCH):
        return payment  # done already (the webhook or the return handler came first)
    payment.provider_payment_id = payment.provider_payment_id or facts.payment_id
    payment.paid_amount_minor, payment.paid_currency = facts.amount, facts.currency
    if facts.amount != order.total_minor or (facts.currency or "").upper() != order.currency:
        return _amount_mismatch(order, payment, facts)
    payment.status, payment.succeeded_at, payment.failure_reason = (
        PaymentStatus.SUCCEEDED,
        now,
        None,
    )
    if order.is_paid:  # a second capture of a paid order (two payment tabs): all of it back
        refund_duplicate(order, payment)
        return payment
    transition(order, OrderStatus.PAID, f"{payment.provider} {facts.payment_id or ''}".strip())
    granted, owned_elsewhere = _grant_lines(order)
    if granted:
        redeem_order_coupon(order)
    else:  # every course came from another order: nothing is kept, so the use goes back
        release_coupon(order.id)
    order.fulfilled_at = now
    if owned_elsewhere:
        refund_duplicate(order, payment, owned_elsewhere)
    _log_latency(order)
    enqueue_after_commit(send_order_receipt, order.id, retry=NOTIFY_RETRY)
    enqueue_after_commit(record_conversion, order.id, queue=QueueName.LOW)
    return payment


def _grant_lines(order: Order) -> tuple[int, list[OrderItem]]:
    """Enroll in every line: how many this order granted, and the lines the buyer already had
    through another order (to refund).

    Decided from the enrollment row after the upsert (which waits for a concurrent grant),
    so two orders of one course paid at the same moment still end with one of them refunded.
    """
    granted, owned_elsewhere = 0, []
    for item in load_items(order.id):
        if item.status is not OrderItemStatus.ACTIVE:
            continue
        enrollment = grant_enrollment(
            order.user_id, item.course_id, EnrollmentSource.PURCHASE, order.id
        )
        if enrollment.order_id == order.id:
            granted += 1
        elif item.refundable_minor > 0:  # (a line that cost nothing has nothing to give back)
            owned_elsewhere.append(item)
    return granted, owned_elsewhere


def _amount_mismatch(order: Order, payment: Payment, facts: PaymentFacts) -> Payment:
    payment.status = PaymentStatus.AMOUNT_MISMATCH
    payment.failure_reason = (
        f"Paid {facts.amount} {facts.currency} for an order of {order.total_minor} "
        f"{order.currency}."
    )
    log.error(
        "event=amount_mismatch order=%s payment=%s paid=%s %s expected=%s %s",
        order.token,
        payment.token,
        facts.amount,
        facts.currency,
        order.total_minor,
        order.currency,
    )
    return payment


def _log_latency(order: Order) -> None:
    if order.first_webhook_at and order.fulfilled_at:
        ms = (order.fulfilled_at - order.first_webhook_at).total_seconds() * 1000
        log.info("event=fulfilled order=%s webhook_to_enrollment_ms=%.0f", order.token, ms)
    else:
        log.info("event=fulfilled order=%s via=return", order.token)


def close_payment(payment: Payment, status: PaymentStatus, reason: str) -> Payment:
    """A payment attempt that will not be paid; the order can be tried again."""
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if payment.status not in OPEN_PAYMENT:
        return payment
    payment.status, payment.failure_reason = status, reason
    latest = latest_payment(order.id)
    if (
        order.status is OrderStatus.AWAITING_PAYMENT
        and latest is not None
        and latest.id == payment.id
    ):
        target = OrderStatus.CANCELED if status is PaymentStatus.CANCELED else OrderStatus.FAILED
        transition(order, target, reason)
        # Here, not when the browser comes back: a decline by webhook or a buyer who closes
        # the tab must leave the courses in the cart all the same.
        restore_cart(order)
    return payment


def note_webhook(order_id: int, received_at: datetime) -> None:
    """Remember when the first webhook about the order arrived (for the latency figure)."""
    order = db.session.get(Order, order_id)
    if order is not None and (
        order.first_webhook_at is None or received_at < order.first_webhook_at
    ):
        order.first_webhook_at = received_at
