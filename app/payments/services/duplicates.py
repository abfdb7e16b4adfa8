"""Charged twice: money for what the buyer already has goes back by itself, and is flagged.

Two ways to pay twice survive every lock: a second capture of an order that is already paid
(two payment tabs of one order), and an order for courses the buyer got meanwhile through
another order. Either way the buyer keeps exactly one enrollment per course, the duplicate
amount is refunded through the ordinary refund rows, the payment is flagged for the admin
console, and the order's history says so. The provider is called by a job after the
webhook's transaction commits, never inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from app.checkout.lifecycle import record_event
from app.checkout.models import Order, OrderItem
from app.core.models import utcnow
from app.core.money import Money
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.payments.models import Payment, PaymentFlag, Refund, RefundSource
from app.payments.services.refunds import (
    EXECUTE_REFUND,
    plan_refund,
    plan_surplus_refund,
    request_refund,
)

log = logging.getLogger(__name__)


def duplicate_key(payment: Payment) -> str:
    """One automatic refund per payment, however often its capture is reported."""
    return f"duplicate:{payment.token}"


def refund_duplicate(order: Order, payment: Payment, owned: Sequence[OrderItem] = ()) -> Refund:
    """Flag the payment and queue the refund of what it paid twice.

    With `owned` lines, those lines come back (the buyer had them through another order);
    without, the whole payment does (the order was already paid by another payment).
    """
    if owned:
        plan = plan_refund(order, [item.course_id for item in owned], payment=payment)
        what = ", ".join(f"“{item.title}”" for item in owned)
        why = f"{what} already bought in another order"
    else:
        plan = plan_surplus_refund(order, payment)
        why = "the order was already paid by another payment"
    amount = Money(plan.amount, order.currency)
    reason = f"Charged twice: {why}; {amount} refunded automatically."
    refund = request_refund(plan, RefundSource.DUPLICATE, reason, duplicate_key(payment))
    payment.flag, payment.flagged_at, payment.flag_reason = PaymentFlag.DUPLICATE, utcnow(), reason
    record_event(order, f"charged twice: refunded automatically ({why}, {amount})")
    # Reached from the webhook job, the return view and reconciliation alike: the one job that
    # makes every refund is named by its path (the job module imports this one).
    enqueue_after_commit(EXECUTE_REFUND, refund.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY)
    log.warning(
        "event=duplicate_payment order=%s payment=%s refund=%s amount=%s",
        order.token,
        payment.token,
        refund.token,
        plan.amount,
    )
    return refund
