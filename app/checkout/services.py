"""Placing orders: frozen price snapshots, coupon reservations, free enrollment."""

from __future__ import annotations

from datetime import datetime

from app.accounts.models import User
from app.cart.models import Cart, Coupon
from app.cart.services import (
    CartView,
    empty_cart,
    lock_cart,
    lock_coupon,
    reserve_coupon,
    view_cart,
)
from app.catalog.models import Course
from app.checkout.carts import reclaim_from_cart, restore_cart
from app.checkout.errors import CartAlreadyOrdered, OrderError
from app.checkout.lifecycle import fulfil_order, record_event, redeem_order_coupon, transition
from app.checkout.models import Order, OrderEvent, OrderItem, OrderStatus
from app.checkout.queries import get_awaiting_order_for_cart, load_items
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db
from app.learning.expiry import held_for_good

# The lifecycle moved to lifecycle.py and carts.py; these names stay importable from here.
__all__ = [
    "CartAlreadyOrdered",
    "OrderError",
    "enroll_free",
    "load_items",
    "place_order",
    "reclaim_from_cart",
    "record_event",
    "redeem_order_coupon",
    "restore_cart",
    "transition",
]
S = OrderStatus
FREE = "nothing to pay"


def enroll_free(user: User, course: Course, currency: str) -> Order:
    """Enroll at once in a free course; a completed order of total 0 records it."""
    if not course.is_published or not course.is_free:
        raise OrderError(
            "Only published free courses can be enrolled in for free.", code="not_free"
        )
    # An enrollment with an end (running out, or ended before the daily job ran) becomes
    # lifetime: a free course has nothing to extend.
    if held_for_good(user.id, [course.id]):
        raise OrderError("You are already enrolled in this course.", code="already_owned")
    order = Order(
        user_id=user.id,
        currency=currency,
        subtotal_minor=0,
        total_minor=0,
        status=S.PENDING,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(
        OrderItem(
            order_id=order.id,
            course_id=course.id,
            title=course.title,
            base_minor=0,
            sale_minor=0,
            total_minor=0,
        )
    )
    db.session.add(OrderEvent(order_id=order.id, from_status=None, to_status=S.PENDING.value))
    fulfil_order(order, FREE)
    db.session.flush()
    return order


def place_order(user: User, cart: Cart, now: datetime | None = None) -> Order:
    """Turn the cart into an order with a frozen price snapshot, reserving its coupon use.

    Every amount is recomputed here from the database; nothing the browser says about prices
    is used. A total of 0 completes the order and enrolls at once; the cart is emptied.
    The cart row is locked first, so concurrent checkouts of one cart (two tabs, each with
    its own idempotency key) take turns: the later one finds the cart emptied and gets
    CartAlreadyOrdered with the first order, never a second order.
    """
    now = now or utcnow()
    lock_cart(cart.id)
    view = view_cart(cart, user, now)
    if view.coupon_error:
        raise OrderError(
            f"Coupon {view.cart.coupon.code}: {view.coupon_error} "  # type: ignore[union-attr]
            "Remove it to continue.",
            code="coupon_invalid",
        )
    breakdown = view.breakdown
    if not breakdown.lines:
        earlier = get_awaiting_order_for_cart(user.id, view.cart.token)
        if earlier is not None:
            raise CartAlreadyOrdered(earlier)
        raise OrderError("Your cart is empty.", code="cart_empty")
    # A time-limited or ended enrollment may be bought again: the order extends or renews it.
    if held_for_good(user.id, [line.course_id for line in breakdown.lines]):
        raise OrderError("You already own a course in your cart; remove it first.", code="owned")
    coupon = view.cart.coupon if breakdown.coupon_discount else None
    if coupon is not None:
        lock_coupon(coupon.id)  # before the order row references it
    order = _snapshot(user, view, now)
    if coupon is not None:
        discount = Money(breakdown.coupon_discount, breakdown.currency)
        reserve_coupon(coupon.id, user.id, order.id, discount, now)
    if order.total_minor == 0:
        fulfil_order(order, FREE)
    empty_cart(view.cart)
    return order


def _snapshot(user: User, view: CartView, now: datetime) -> Order:
    """The order as the cart prices it now: amounts, tax and each line's access period (read
    from the prices the cart was loaded with), frozen."""
    cart, b = view.cart, view.breakdown
    coupon: Coupon | None = cart.coupon
    order = Order(
        user_id=user.id,
        cart_token=cart.token,
        analytics_data=cart.analytics_data,
        currency=cart.currency,
        subtotal_minor=b.sub_total,
        sale_discount_minor=b.sale_discount,
        coupon_discount_minor=b.coupon_discount,
        tax_minor=b.tax_total,
        total_minor=b.total,
        coupon_id=coupon.id if coupon is not None and b.coupon_discount else None,
        coupon_code=b.coupon_code if b.coupon_discount else None,
        tax_country=b.tax.country or None,
        tax_name=b.tax.name,
        tax_rate_bp=b.tax.rate_bp,
        tax_inclusive=b.tax.inclusive,
        status=S.PENDING,
        created_at=now,
    )
    db.session.add(order)
    db.session.flush()
    items = {item.course_id: item for item in cart.items}
    for line in b.lines:
        period = view.access_period(line.course_id)
        item = items[line.course_id]
        package = item.package
        db.session.add(
            OrderItem.priced(
                line,
                None if package else period,
                order_id=order.id,
                sessions=package.sessions if package else None,
                package_id=item.package_id,
                details=item.details,
            )
        )
    db.session.add(
        OrderEvent(
            order_id=order.id, from_status=None, to_status=S.PENDING.value, note="order placed"
        )
    )
    db.session.flush()
    return order
