"""Order reads for pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.checkout.models import Order, OrderItem, OrderItemStatus, OrderStatus
from app.core.money import Money
from app.extensions import db
from app.learning.queries import list_enrollments_for_order


def list_orders(user_id: int, limit: int = 100) -> list[Order]:
    """The user's orders, newest first, with their lines."""
    stmt = (
        select(Order)
        .where(Order.user_id == user_id)
        .options(selectinload(Order.items))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def load_order(order_id: int) -> Order:
    """An order with its lines and status history."""
    stmt = (
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.items), selectinload(Order.events))
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).one()


def load_items(order_id: int) -> list[OrderItem]:
    """The order's lines, in order."""
    stmt = select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
    return list(db.session.scalars(stmt))


def get_order_for(token: str, user: User | None) -> Order | None:
    """The order with this token if the user may see it (its owner or an admin); else None."""
    order = db.session.scalars(select(Order).where(Order.token == token)).first()
    if order is None or user is None or (order.user_id != user.id and not user.is_admin):
        return None
    return order


def get_order_by_token(token: str) -> Order:
    """The order with this token (callers have checked who may see it)."""
    return db.session.scalars(select(Order).where(Order.token == token)).one()


def get_awaiting_order_for_cart(user_id: int, cart_token: str) -> Order | None:
    """The user's newest order placed from this cart that still waits for its payment."""
    stmt = (
        select(Order)
        .where(
            Order.user_id == user_id,
            Order.cart_token == cart_token,
            Order.status.in_(OrderStatus.AWAITING),
        )
        .order_by(Order.id.desc())
    )
    return db.session.scalars(stmt).first()


def order_payload(order: Order, redirect: str) -> dict[str, object]:
    """Seed 002's order object; amounts in minor units.

    `subtotal` is before tax and after every discount, as in seed 002 (1197600 + tax 215568
    = total 1413168, with discount_amount 1200000 off the undiscounted `base_subtotal`)."""
    payload: dict[str, object] = {
        "order_token": order.token,
        "status": order.status.value,
        "currency": order.currency,
        "subtotal": order.total_minor - order.tax_minor,
        "base_subtotal": order.subtotal_minor,
        "sale_discount": order.sale_discount_minor,
        "coupon_discount": order.coupon_discount_minor,
        "coupon_code": order.coupon_code,
        "discount_amount": order.discount_minor,
        "tax_amount": order.tax_minor,
        "tax_rate": order.tax_rate_bp // 100
        if order.tax_rate_bp % 100 == 0
        else order.tax_rate_bp / 100,
        "total": order.total_minor,
        "checkout_url": redirect,
        "analytics_data": order.analytics_data,
    }
    enrollments = list_enrollments_for_order(order.id)
    if enrollments:
        payload["enrollment_id"] = enrollments[0].id
        payload["enrollment_ids"] = [e.id for e in enrollments]
    return payload


def refund_titles(order_id: int) -> dict[int, list[str]]:
    """Refund id -> titles of the order's courses it refunded (refund rows belong to payments,
    which checkout may not import: the two tables are joined by name)."""
    rows = db.session.execute(
        text(
            "SELECT rl.refund_id, oi.title FROM refund_lines rl"
            " JOIN order_items oi ON oi.id = rl.order_item_id"
            " WHERE oi.order_id = :order_id ORDER BY rl.id"
        ),
        {"order_id": order_id},
    )
    titles: dict[int, list[str]] = {}
    for refund_id, title in rows:
        titles.setdefault(refund_id, []).append(title)
    return titles


def revenue_by_course(course_ids: Sequence[int]) -> dict[int, list[Money]]:
    """What each course's order lines were paid, per currency, net of what was refunded (tax
    included, as the buyer paid it), over fulfilled orders; currencies sorted."""
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(
            OrderItem.course_id,
            Order.currency,
            func.sum(OrderItem.total_minor - OrderItem.refunded_minor),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            OrderItem.course_id.in_(list(course_ids)),
            Order.status.in_(list(OrderStatus.FULFILLED)),
        )
        .group_by(OrderItem.course_id, Order.currency)
        .order_by(OrderItem.course_id, Order.currency)
    )
    revenue: dict[int, list[Money]] = {}
    for course_id, currency, amount in rows:
        revenue.setdefault(course_id, []).append(Money(int(amount or 0), currency))
    return revenue


def get_earlier_course_order(user_id: int, course_id: int, before_order_id: int) -> int | None:
    """The latest other paid order whose line for the course still stands (not refunded):
    the one whose access remains when a later extension of it is refunded."""
    stmt = (
        select(Order.id)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(
            Order.user_id == user_id,
            Order.id != before_order_id,
            Order.status.in_(OrderStatus.FULFILLED),
            OrderItem.course_id == course_id,
            OrderItem.status == OrderItemStatus.ACTIVE,
        )
        .order_by(Order.paid_at.desc().nulls_last(), Order.id.desc())
        .limit(1)
    )
    return db.session.scalar(stmt)
