"""Order rules: frozen snapshots, recorded status transitions, free enrollment."""

from __future__ import annotations

from datetime import datetime

from rq import Retry
from sqlalchemy import select

from app.accounts.models import User
from app.cart.models import Cart, Coupon
from app.cart.pricing import Breakdown
from app.cart.queries import cart_course_ids, get_user_cart
from app.cart.services import (
    CartError,
    add_course,
    empty_cart,
    lock_cart,
    lock_coupon,
    open_cart,
    redeem_coupon,
    release_coupon,
    remove_course,
    reserve_coupon,
    set_currency,
    view_cart,
)
from app.catalog.models import Course
from app.checkout.jobs import send_order_receipt
from app.checkout.models import AWAITING, PAID_STATUSES, Order, OrderEvent, OrderItem, OrderStatus
from app.checkout.queries import get_awaiting_order_for_cart
from app.core.errors import DomainError
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db
from app.jobs.queues import enqueue_after_commit
from app.learning.models import EnrollmentSource
from app.learning.queries import owned_course_ids
from app.learning.services import grant_enrollment

S = OrderStatus
GAVE_UP = (S.FAILED, S.CANCELED, S.EXPIRED)
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


class CartAlreadyOrdered(OrderError):
    """The cart was emptied by an order that still waits for payment: that order is the answer."""

    def __init__(self, order: Order) -> None:
        super().__init__(
            "This cart was already ordered: pay for that order, or add courses again.",
            code="cart_already_ordered",
        )
        self.order = order


def record_event(order: Order, note: str) -> None:
    """Note something an admin should see in the order's history, without a status change."""
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status.value,
            to_status=order.status.value,
            note=note,
        )
    )


def transition(order: Order, to: OrderStatus, note: str = "") -> Order:
    """Move the order to a new status and record when and why; refuses impossible moves."""
    if to not in ALLOWED[order.status]:
        raise OrderError(
            f"An order that is {order.status.label.lower()} cannot become {to.label.lower()}.",
            code="bad_transition",
        )
    if to is S.AWAITING_PAYMENT and order.status in GAVE_UP:
        reclaim_from_cart(order)  # "Try again": the courses are this order's again
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
    complete_free_order(order)
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
    owned = owned_course_ids(user.id, [line.course_id for line in breakdown.lines])
    if owned:
        raise OrderError("You already own a course in your cart; remove it first.", code="owned")
    coupon = view.cart.coupon if breakdown.coupon_discount else None
    if coupon is not None:
        lock_coupon(coupon.id)  # before the order row references it
    order = _snapshot(user, view.cart, breakdown, now)
    if coupon is not None:
        discount = Money(breakdown.coupon_discount, breakdown.currency)
        reserve_coupon(coupon.id, user.id, order.id, discount, now)
    if order.total_minor == 0:
        complete_free_order(order)
    empty_cart(view.cart)
    return order


def _snapshot(user: User, cart: Cart, b: Breakdown, now: datetime) -> Order:
    coupon: Coupon | None = cart.coupon
    order = Order(
        user_id=user.id,
        cart_token=cart.token,
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
    for line in b.lines:
        db.session.add(
            OrderItem(
                order_id=order.id,
                course_id=line.course_id,
                title=line.title,
                base_minor=line.base_price,
                sale_minor=line.sale_price,
                sale_slug=line.sale_slug,
                coupon_discount_minor=line.coupon_discount,
                tax_minor=line.tax_total,
                total_minor=line.total,
            )
        )
    db.session.add(
        OrderEvent(
            order_id=order.id, from_status=None, to_status=S.PENDING.value, note="order placed"
        )
    )
    db.session.flush()
    return order


def complete_free_order(order: Order) -> None:
    """Nothing to pay: enroll in every course now and close the order."""
    for item in load_items(order.id):
        grant_enrollment(order.user_id, item.course_id, EnrollmentSource.FREE, order.id)
    redeem_order_coupon(order)
    transition(order, S.COMPLETED, "nothing to pay")
    order.fulfilled_at = utcnow()
    enqueue_after_commit(send_order_receipt, order.id, retry=Retry(max=3, interval=[2, 4, 8]))


def redeem_order_coupon(order: Order) -> None:
    """Make the order's coupon use final; a use honoured past the coupon's limit is noted."""
    redeemed = redeem_coupon(order.id)
    for event in redeemed.overages if redeemed else ():
        record_event(order, event.note)


def load_items(order_id: int) -> list[OrderItem]:
    """The order's lines, in order."""
    stmt = select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
    return list(db.session.scalars(stmt))


def _buyer_cart(order: Order) -> Cart:
    """The cart the buyer sees (theirs, locked), opened in the order's currency if none."""
    cart = get_user_cart(order.user_id)
    if cart is None:
        return open_cart(order.currency, db.session.get(User, order.user_id))
    return lock_cart(cart.id)


def restore_cart(order: Order) -> Cart:
    """A canceled or failed order's courses go back to the buyer's cart, with its coupon.

    Courses already in the cart, owned meanwhile or without a price in the cart's currency
    are skipped. The order's coupon use is given back (so the cart may use it again) and the
    coupon goes on the cart when it is still valid there; paying the order later takes the
    use again (see redeem_coupon).
    """
    cart = _buyer_cart(order)
    items = load_items(order.id)
    present = cart_course_ids(cart.id)
    if not present and cart.currency != order.currency:
        set_currency(cart, order.currency)
    owned = owned_course_ids(order.user_id, [i.course_id for i in items])
    for item in items:
        if item.course_id in present or item.course_id in owned:
            continue
        try:
            add_course(cart, item.course_id, None)  # refuses before writing anything
        except CartError:
            continue
    release_coupon(order.id)
    if order.coupon_id is not None and cart.coupon_id is None:
        _restore_coupon(cart, order)
    return cart


def _restore_coupon(cart: Cart, order: Order) -> None:
    cart.coupon_id = order.coupon_id
    db.session.flush()
    db.session.expire(cart, ["coupon"])
    view = view_cart(cart, db.session.get(User, order.user_id))
    if view.coupon_error:  # not valid here any more: the buyer may apply another
        cart.coupon_id = None


def reclaim_from_cart(order: Order) -> None:
    """Before an unpaid order is paid again, its courses leave the cart they were put back in;
    an order whose cart was ordered again since (one open order per cart) is refused."""
    if order.cart_token:
        newer = db.session.scalar(
            select(Order.token)
            .where(
                Order.user_id == order.user_id,
                Order.cart_token == order.cart_token,
                Order.id > order.id,
                Order.status.in_([*AWAITING, *PAID_STATUSES]),
            )
            .limit(1)
        )
        if newer is not None:
            raise OrderError(
                f"These courses were ordered again (order {newer[:8].upper()}): "
                "pay for that order instead.",
                code="ordered_again",
            )
    cart = get_user_cart(order.user_id)
    if cart is None:
        return
    for item in load_items(order.id):
        remove_course(cart, item.course_id)
    if order.coupon_id is not None and cart.coupon_id == order.coupon_id:
        cart.coupon_id = None
