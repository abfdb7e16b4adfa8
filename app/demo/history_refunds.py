"""Refunds in the demo history: a paid order given back in full, by one line, or by part of a
line, left as settle_refund leaves it — the refund with its lines (tax back pro rata, by the
credit note's rule), the credit note, the lines', order's and payment's refunded amounts and
statuses, and the enrollment of a whole line given back ended. Dated in the past, no notice."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from app.checkout.invoices import issue_credit_note, returned_tax
from app.checkout.models import OrderEvent, OrderItemStatus, OrderStatus
from app.core.security import new_token
from app.demo.history_orders import Placed
from app.extensions import db
from app.learning.models import EnrollmentStatus
from app.payments.models import PaymentStatus, Refund, RefundLine, RefundSource, RefundStatus
from app.payments.providers.sandbox.models import SandboxSession

REASONS = {
    RefundSource.STUDENT: "Not what I expected",
    RefundSource.ADMIN: "Goodwill refund: a lecture's audio was broken",
}


def refund_order(
    placed: Placed, amounts: Mapping[int, int], at: datetime, source: RefundSource
) -> Refund:
    """Give back `amounts` (order item id -> minor units) of the paid order at `at`."""
    order, payment = placed.order, placed.payments[-1]  # the last attempt is the one that paid
    items = {item.id: item for item in order.items}
    token = new_token()
    total = sum(amounts.values())
    note = f"refund {token[:8]} of {total}"
    refund = Refund(
        token=token,
        order_id=order.id,
        payment_id=payment.id,
        amount_minor=total,
        tax_minor=sum(returned_tax(items[i], a) for i, a in amounts.items()),
        currency=order.currency,
        status=RefundStatus.SUCCEEDED,
        source=source,
        reason=REASONS[source],
        request_key=f"demo-history:{order.token}:{len(amounts)}:{total}",
        provider_refund_id=f"sbx_re_{secrets.token_hex(10)}",
        requested_by_id=order.user_id if source is RefundSource.STUDENT else None,
        created_at=at - timedelta(seconds=3),
        updated_at=at,
    )
    refund.lines = [
        RefundLine(order_item_id=i, amount_minor=a, tax_minor=returned_tax(items[i], a))
        for i, a in amounts.items()
    ]
    db.session.add(refund)
    issue_credit_note(order, amounts, note, at)  # first: it reads what the lines had before
    full = _settle_lines(placed, amounts, at)
    to = OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status.value,
            to_status=to.value,
            note=note,
            created_at=at,
        )
    )
    order.status, order.updated_at = to, at
    payment.refunded_minor += total
    payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    payment.updated_at = at
    _sandbox_books(payment.provider_session_id, refund, at)
    return refund


def _settle_lines(placed: Placed, amounts: Mapping[int, int], at: datetime) -> bool:
    """Lines' refunded amounts grow; a line given back whole loses its enrollment. True when
    the whole order is refunded now."""
    order = placed.order
    for item in order.items:
        item.refunded_minor += amounts.get(item.id, 0)
        if item.refunded_minor < item.total_minor or item.is_refunded:
            continue
        item.status = OrderItemStatus.REFUNDED
        for enrollment in placed.enrollments:
            if enrollment.course_id == item.course_id:
                enrollment.status = EnrollmentStatus.DROPPED
                enrollment.dropped_at = enrollment.updated_at = at
    order.refunded_minor += sum(amounts.values())
    return order.refunded_minor >= order.total_minor


def _sandbox_books(session_id: str | None, refund: Refund, at: datetime) -> None:
    """The sandbox's own record of the refund (so a later refund there adds up)."""
    session = db.session.get(SandboxSession, session_id) if session_id else None
    if session is None:
        return
    session.refunded_minor += refund.amount_minor
    session.refunds = {**session.refunds, refund.idempotency_key: refund.provider_refund_id}
    session.updated_at = at
