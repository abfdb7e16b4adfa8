"""An order's history in words for its page: each recorded event gets a kind and the facts
that go with it (the payment attempt, the refund), read from the rows those events are about.

Nothing here reads the free-text notes: they are internal (ids, minor units) and shown only to
admins, as a tooltip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.checkout.models import Order, OrderEvent, OrderStatus
from app.core.money import Money

S = OrderStatus
PAID_WITH = {
    "sandbox": "with the test card",
    "stripe": "by card (Stripe)",
    "razorpay": "with Razorpay",
}
STARTED_WITH = {
    "sandbox": "the test card (sandbox)",
    "stripe": "card (Stripe)",
    "razorpay": "Razorpay",
}


class PaymentRow(Protocol):  # payments.models.Payment (checkout may not import payments)
    @property
    def attempt(self) -> int: ...
    @property
    def provider(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def failure_reason(self) -> str | None: ...


class RefundRow(Protocol):  # payments.models.Refund
    @property
    def id(self) -> int: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def succeeded(self) -> bool: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: str
    text: str
    internal: str  # the raw note, for admins only


@dataclass
class _Story:
    """The facts the events are told with, and what the events so far have used up: payment
    attempts and refunds come in order."""

    by_attempt: Mapping[int, PaymentRow]
    refunds: Sequence[RefundRow]
    titles: Mapping[int, list[str]]
    attempt: int = 0
    refund: int = 0


def order_history(
    order: Order,
    payments: Sequence[PaymentRow],
    refunds: Sequence[RefundRow],
    refund_titles: Mapping[int, list[str]],
) -> list[HistoryLine]:
    """The order's events, oldest first, each said in words with amounts formatted."""
    done = [r for r in sorted(refunds, key=lambda r: r.id) if r.succeeded]
    story = _Story({p.attempt: p for p in payments}, done, refund_titles)
    lines = []
    for event in order.events:
        kind, text = _describe(order, event, story)
        if kind:
            lines.append(HistoryLine(event.created_at, kind, text, event.note))
    return lines


def _describe(order: Order, event: OrderEvent, story: _Story) -> tuple[str, str]:
    to = S(event.to_status)
    if event.from_status is None:
        return "placed", f"Order placed for {order.money(order.total_minor)}"
    if event.from_status == event.to_status and to is not S.AWAITING_PAYMENT:
        return "note", "Checked by our team"
    if to is S.AWAITING_PAYMENT:
        story.attempt += 1
        payment = story.by_attempt.get(story.attempt)
        how = STARTED_WITH.get(payment.provider, payment.provider) if payment else "card"
        return "payment_started", f"Payment started with {how}"
    if to in S.HAS_REFUNDS:
        return "refund", _refund_text(order, story)
    return _outcome(order, to, story.by_attempt.get(story.attempt))


def _outcome(order: Order, to: OrderStatus, payment: PaymentRow | None) -> tuple[str, str]:
    if to is S.PAID:
        how = PAID_WITH.get(payment.provider, "") if payment else ""
        amount = order.money(payment.amount_minor if payment else order.total_minor)
        return "paid", f"Paid {amount} {how}".strip()
    if to is S.COMPLETED:
        return "completed", "Enrolled for free: nothing to pay"
    if to is S.CANCELED:
        return "canceled", "You left the payment page without paying"
    if to is S.EXPIRED:
        return "expired", "Not paid in time: the order expired"
    if to is S.FAILED:
        reason = payment.failure_reason if payment and payment.failure_reason else ""
        return "failed", f"Payment failed. {reason}".strip()
    return to.value, to.label


def _refund_text(order: Order, story: _Story) -> str:
    if story.refund >= len(story.refunds):
        return "Refunded"
    refund = story.refunds[story.refund]
    story.refund += 1
    what = ", ".join(f"“{t}”" for t in story.titles.get(refund.id, []))
    text = f"Refund of {Money(refund.amount_minor, order.currency)}"
    text += f" for {what}" if what else ""
    return text + (
        " (charged twice: refunded automatically)" if refund.source == "duplicate" else ""
    )
