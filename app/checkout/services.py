"""Order rules: frozen snapshots, recorded status transitions, free enrollment."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import Course
from app.checkout.models import Order, OrderEvent, OrderItem, OrderStatus
from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db
from app.learning.models import EnrollmentSource
from app.learning.queries import owned_course_ids
from app.learning.services import grant_enrollment

S = OrderStatus
ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    S.PENDING: {S.AWAITING_PAYMENT, S.PAID, S.COMPLETED, S.FAILED, S.CANCELED, S.EXPIRED},
    S.AWAITING_PAYMENT: {S.AWAITING_PAYMENT, S.PAID, S.FAILED, S.CANCELED, S.EXPIRED},
    S.FAILED: {S.AWAITING_PAYMENT, S.PAID, S.CANCELED, S.EXPIRED},
    # Money can still arrive after we gave up on an order: it must be honoured, never lost.
    S.EXPIRED: {S.PAID, S.AWAITING_PAYMENT},
    S.CANCELED: {S.PAID, S.AWAITING_PAYMENT},
    S.PAID: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.COMPLETED: set(),
    S.REFUNDED: set(),
}


class OrderError(DomainError):
    status = 422


def transition(order: Order, to: OrderStatus, note: str = "") -> Order:
    """Move the order to a new status and record when and why; refuses impossible moves."""
    if to not in ALLOWED[order.status]:
        raise OrderError(
            f"An order that is {order.status.label.lower()} cannot become {to.label.lower()}.",
            code="bad_transition",
        )
    db.session.add(
        OrderEvent(order_id=order.id, from_status=order.status.value, to_status=to.value, note=note)
    )
    order.status = to
    if to is S.PAID and order.paid_at is None:
        order.paid_at = utcnow()
    return order


def enroll_free(user: User, course: Course, currency: str) -> Order:
    """Enroll at once in a free course; a completed order of total 0 records it."""
    if not course.is_published or not course.is_free:
        raise OrderError(
            "Only published free courses can be enrolled in for free.", code="not_free"
        )
    if owned_course_ids(user.id, [course.id]):
        raise OrderError("You are already enrolled in this course.", code="already_owned")
    order = Order(
        user_id=user.id, currency=currency, subtotal_minor=0, total_minor=0, status=S.PENDING,
    )  # fmt: skip
    db.session.add(order)
    db.session.flush()
    db.session.add(
        OrderItem(order_id=order.id, course_id=course.id, title=course.title, base_minor=0,
                  sale_minor=0, total_minor=0)
    )  # fmt: skip
    db.session.add(OrderEvent(order_id=order.id, from_status=None, to_status=S.PENDING.value))
    grant_enrollment(user.id, course.id, EnrollmentSource.FREE, order.id)
    transition(order, S.COMPLETED, "free course")
    order.fulfilled_at = utcnow()
    db.session.flush()
    return order


def get_order_for(token: str, user: User) -> Order | None:
    """The order with this token if the user may see it (its owner or an admin)."""
    order = db.session.scalars(select(Order).where(Order.token == token)).first()
    if order is None or (order.user_id != user.id and not user.is_admin):
        return None
    return order
