"""Finding our payment for what a provider reports, with row locks for the writers."""

from __future__ import annotations

from sqlalchemy import select

from app.checkout.models import Order
from app.core.db import lock
from app.extensions import db
from app.payments.models import Payment, Refund
from app.payments.providers.base import PaymentFacts


def find_payment(provider: str, facts: PaymentFacts) -> Payment | None:
    """Our payment the facts are about: by provider session, provider payment, else order."""
    base = select(Payment).where(Payment.provider == provider)
    if facts.session_id:
        found = db.session.scalars(
            base.where(Payment.provider_session_id == facts.session_id)
        ).first()
        if found is not None:
            return found
    if facts.payment_id:
        found = db.session.scalars(
            base.where(Payment.provider_payment_id == facts.payment_id)
        ).first()
        if found is not None:
            return found
    if facts.order_token:
        stmt = (
            base.join(Order, Order.id == Payment.order_id)
            .where(Order.token == facts.order_token)
            .order_by(Payment.attempt.desc())
        )
        return db.session.scalars(stmt).first()
    return None


def find_refund(request_key: str) -> Refund | None:
    """The refund a request (by its key) already asked for, as committed now."""
    stmt = (
        select(Refund)
        .where(Refund.request_key == request_key)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).first()


def lock_order(order_id: int) -> Order:
    """The order, locked for this transaction: fulfilment and refunds of one order queue up.

    Writers always take the order before its payment, so they can never deadlock.
    """
    return lock(Order, order_id)


def lock_payment(payment_id: int) -> Payment:
    """The payment, locked and re-read (after its order)."""
    return lock(Payment, payment_id)


def latest_payment(order_id: int) -> Payment | None:
    """The order's most recent payment attempt."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt.desc())
    return db.session.scalars(stmt).first()
