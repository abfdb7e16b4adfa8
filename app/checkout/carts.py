"""An unpaid order and the buyer's cart: its courses go back when it fails, and leave again
when it is paid after all."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.cart.models import Cart
from app.cart.queries import cart_course_ids, get_user_cart
from app.cart.services import (
    CartError,
    add_course,
    lock_cart,
    open_cart,
    release_coupon,
    remove_course,
    set_currency,
    view_cart,
)
from app.checkout.errors import OrderError
from app.checkout.models import Order, OrderStatus
from app.checkout.queries import load_items
from app.extensions import db
from app.learning.expiry import held_for_good


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
    owned = held_for_good(order.user_id, [i.course_id for i in items])
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
                Order.status.in_([*OrderStatus.AWAITING, *OrderStatus.FULFILLED]),
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
