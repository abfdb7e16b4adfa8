"""Seed 003's critical path: payment captured -> checkout fulfils the order.

Called by the webhook job and by the return handler; both idempotent, so whichever comes
first does the work and the other finds it done. The order row is locked for the whole
transaction, and enrollments are unique per (user, course) in PostgreSQL. A capture for
what the buyer already has is refunded automatically (see duplicates.py), never kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from app.checkout.lifecycle import close_order, fulfil_order, note_first_webhook
from app.checkout.models import Order, OrderStatus
from app.core.metrics import count_payment, observe_webhook_to_enrollment
from app.core.models import utcnow
from app.payments.models import Payment, PaymentStatus
from app.payments.providers import get_provider
from app.payments.providers.base import FactStatus, PaymentFacts
from app.payments.services.duplicates import refund_duplicate
from app.payments.services.lookup import find_payment, latest_payment, lock_order, lock_payment

log = logging.getLogger(__name__)


def apply_payment_facts(
    provider: str,
    facts: PaymentFacts,
    payment: Payment | None = None,
    webhook_at: datetime | None = None,
) -> Payment | None:
    """Act on what the provider says about a payment (found here unless the caller has it);
    None when it is not one of ours. `webhook_at`: when the webhook saying so arrived."""
    payment = payment or find_payment(provider, facts)
    if payment is None:
        return None
    if facts.status is FactStatus.PAID:
        return fulfil_payment(payment, facts, webhook_at=webhook_at)
    if facts.status is FactStatus.FAILED:
        return close_payment(payment, PaymentStatus.FAILED, facts.reason or "The payment failed.")
    if facts.status is FactStatus.EXPIRED:
        return close_payment(payment, PaymentStatus.EXPIRED, "The payment page expired.")
    if facts.status is FactStatus.CANCELED:
        return close_payment(payment, PaymentStatus.CANCELED, "The payment was canceled.")
    return payment


def fulfil_payment(
    payment: Payment,
    facts: PaymentFacts,
    now: datetime | None = None,
    webhook_at: datetime | None = None,
) -> Payment:
    """Payment captured for the order's amount: checkout fulfils the order; money for what the
    buyer already has (the order paid twice, a course bought in another order) goes back.
    `webhook_at` (a webhook said so) starts the order's webhook → enrollment clock."""
    now = now or utcnow()
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if webhook_at is not None:
        # The latency runs from the webhook saying "paid": a declined first attempt and the
        # buyer's minutes before retrying are not the worker's delay.
        note_first_webhook(order, webhook_at)
    if payment.status.is_captured or payment.status is PaymentStatus.AMOUNT_MISMATCH:
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
    count_payment(payment.provider, payment.status)
    if order.is_paid:  # a second capture of a paid order (two payment tabs): all of it back
        refund_duplicate(order, payment)
        return payment
    done = fulfil_order(order, f"{payment.provider} {facts.payment_id or ''}".strip(), now)
    # (a line that cost nothing has nothing to give back)
    owned_elsewhere = [item for item in done.held_elsewhere if item.refundable_minor > 0]
    if owned_elsewhere:
        refund_duplicate(order, payment, owned_elsewhere)
    _log_latency(order, payment.provider)
    return payment


def _amount_mismatch(order: Order, payment: Payment, facts: PaymentFacts) -> Payment:
    payment.status = PaymentStatus.AMOUNT_MISMATCH
    count_payment(payment.provider, payment.status)
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


def _log_latency(order: Order, provider: str) -> None:
    if order.first_webhook_at and order.fulfilled_at:
        ms = (order.fulfilled_at - order.first_webhook_at).total_seconds() * 1000
        observe_webhook_to_enrollment(provider, ms / 1000)
        log.info("event=fulfilled order=%s webhook_to_enrollment_ms=%.0f", order.token, ms)
    else:
        log.info("event=fulfilled order=%s via=return", order.token)


def close_payment(payment: Payment, status: PaymentStatus, reason: str) -> Payment:
    """A payment attempt that will not be paid; the order can be tried again."""
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if not payment.status.is_open:
        return payment
    payment.status, payment.failure_reason = status, reason
    count_payment(payment.provider, status)
    latest = latest_payment(order.id)
    if latest is not None and latest.id == payment.id:  # an older attempt closing changes nothing
        target = OrderStatus.CANCELED if status is PaymentStatus.CANCELED else OrderStatus.FAILED
        close_order(order, target, reason)
    return payment


@dataclass(frozen=True)
class Verification:
    """What verifying a payment for an app found: the payment as it now stands and, when it is
    not paid, the provider's reason (or why nothing was proven)."""

    payment: Payment
    reason: str | None = None

    @property
    def paid(self) -> bool:
        return self.payment.status.is_captured

    def matches(self, gateway_id: str) -> bool | None:
        """Whether the app's gateway id is one of the provider's ids for this payment (None
        when it sent none): reported to the app, never used to find or pay anything."""
        if not gateway_id:
            return None
        ids = {self.payment.provider_session_id, self.payment.provider_payment_id}
        return gateway_id in ids - {None}


NOT_PROVEN = "What was sent does not prove the payment (its signature does not verify)."


def verify_payment(
    payment: Payment, gateway_id: str, signature: str, test_card: str = ""
) -> Verification:
    """Seed 000's verify call: the provider is asked about OUR payment (the app's gateway id
    and signature are checked, never trusted); what it says is applied as a webhook's facts
    would be, so a captured payment is fulfilled by fulfil_payment (idempotent) and a failed
    one closed. A payment captured already is only reported."""
    if payment.status.is_captured:
        return Verification(payment)
    facts = get_provider(payment.provider).verify_payment(payment, gateway_id, signature, test_card)
    if facts is None or (facts.session_id and facts.session_id != payment.provider_session_id):
        return Verification(payment, NOT_PROVEN)
    payment = apply_payment_facts(payment.provider, facts, payment) or payment
    if payment.status.is_open:
        return Verification(payment, facts.reason or "The payment is not complete yet.")
    return Verification(payment, payment.failure_reason or facts.reason)
