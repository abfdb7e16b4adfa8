"""Payment reads for pages: attempts of an order, pay pages, refund previews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from app.accounts.models import User
from app.checkout.models import Order
from app.core.errors import DomainError
from app.extensions import db
from app.payments.models import Payment, Refund
from app.payments.services.refunds import RefundPlan, plan_refund


def list_payments(order_id: int) -> list[Payment]:
    """The order's payment attempts, newest first."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt.desc())
    return list(db.session.scalars(stmt))


def list_refunds(order_id: int) -> list[Refund]:
    """The order's refunds, oldest first."""
    stmt = select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
    return list(db.session.scalars(stmt))


def list_flagged_payments(limit: int = 200) -> list[Payment]:
    """Payments an admin should look at (charged twice, ...), newest first."""
    stmt = (
        select(Payment)
        .where(Payment.flag.is_not(None))
        .order_by(Payment.flagged_at.desc(), Payment.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def get_payment_for(token: str, user: User | None) -> Payment | None:
    """A payment of the user's own order (admins see any)."""
    stmt = select(Payment).join(Order, Order.id == Payment.order_id).where(Payment.token == token)
    payment = db.session.scalars(stmt).first()
    if payment is None or user is None:
        return None
    order = db.session.get(Order, payment.order_id)
    if order is None or (order.user_id != user.id and not user.is_admin):
        return None
    return payment


def order_token_for_return(
    provider: str, params: Mapping[str, str], payment: Payment | None = None
) -> str | None:
    """The order a provider's return is about: the payment's, else by the session id it brings."""
    if payment is not None:
        return db.session.scalar(select(Order.token).where(Order.id == payment.order_id))
    session_id = params.get("session_id") or params.get("razorpay_order_id")
    if not session_id:
        return None
    stmt = (
        select(Order.token)
        .join(Payment, Payment.order_id == Order.id)
        .where(Payment.provider == provider, Payment.provider_session_id == session_id)
    )
    return db.session.scalar(stmt)


def refundable_choices(order: Order) -> list[tuple[int, str]]:
    """(course id, title) of the lines that can still be refunded."""
    from app.checkout.services import load_items

    return [(i.course_id, i.title) for i in load_items(order.id) if i.refundable_minor > 0]


def preview_refund(order: Order, course_ids: Sequence[int]) -> tuple[RefundPlan | None, str | None]:
    """The plan for refunding these courses, or why there can be none."""
    if not course_ids:
        return None, None
    try:
        return plan_refund(order, course_ids), None
    except DomainError as err:
        return None, err.message
