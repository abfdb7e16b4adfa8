"""What an admin does to an order: refund lines or an amount (the refund job every refund runs
in), resend the receipt, reconcile its payment now. Each writes its audit row in the caller's
transaction; the work itself leaves as a job after commit."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.checkout.models import Order
from app.core.errors import DomainError
from app.jobs.queues import CRITICAL_RETRY, NOTIFY_RETRY, QueueName, enqueue_after_commit
from app.payments import services
from app.payments.models import Payment, Refund, RefundSource

RESEND_RECEIPT = "app.admin.order_jobs.resend_order_receipt"
RECONCILE_PAYMENT = "app.admin.order_jobs.reconcile_order_payment"


class OrderActionRefused(DomainError):
    code = "order_action_refused"
    status = 422


def _target(order: Order, email: str) -> Target:
    return Target("order", order.token, f"Order {order.token[:8]} ({email})")


def refund_key(order: Order, form_key: str) -> str:
    """The refund's request key: one per rendered refund form, so a double submit (or the
    confirmation sent twice) finds the first refund instead of making a second."""
    return f"admin:{order.token}:{form_key}"[:200]


def refund_order(
    plan: services.RefundPlan, reason: str, form_key: str, who: Actor, email: str
) -> Refund:
    """The pending refund row for the plan (the same form key: the first one again)."""
    order = plan.order
    before = {"status": order.status, "refunded_minor": order.refunded_minor}
    refund, created = services.claim_refund(
        plan, RefundSource.ADMIN, reason, refund_key(order, form_key), who.user
    )
    if created:
        after = {
            "refund": refund.token,
            "amount_minor": plan.amount,
            "tax_minor": plan.tax,
            "currency": order.currency,
            "lines": [line.item.title for line in plan.lines],
            "access_ends": [line.item.title for line in plan.lines if line.drops_access],
        }
        record_audit(who, "order.refund", _target(order, email), Diff(before, after), reason)
    return refund


def resend_receipt(order: Order, form_key: str, who: Actor, email: str) -> None:
    """Queue the receipt (in-app and email) once more for a fulfilled order."""
    if not order.is_paid:
        raise OrderActionRefused("Only a paid order has a receipt to send.")
    enqueue_after_commit(
        RESEND_RECEIPT, order.id, form_key[:60], queue=QueueName.DEFAULT, retry=NOTIFY_RETRY
    )
    record_audit(who, "order.resend_receipt", _target(order, email), Diff(after={"to": email}), "")


def reconcile_now(
    order: Order, payments: Sequence[Payment], who: Actor, email: str, reason: str
) -> Payment:
    """Queue the reconciliation of the order's latest payment: the provider is asked where it
    stands and the answer applied, as the 30-minute sweep would."""
    if not payments:
        raise OrderActionRefused("This order has no payment to reconcile.")
    payment = payments[-1]
    enqueue_after_commit(
        RECONCILE_PAYMENT, payment.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
    )
    before = {"status": order.status, "payment": payment.token, "payment_status": payment.status}
    record_audit(who, "order.reconcile", _target(order, email), Diff(before=before), reason)
    return payment
