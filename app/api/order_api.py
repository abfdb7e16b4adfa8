"""Seed 002's order endpoints: create from a cart (idempotent), read, cancel an unpaid one.

Only a signed-in caller (bearer token or browser session) who owns the cart or the order; a
cart token alone acts for nobody, and another user's cart or order is 404.
"""

from __future__ import annotations

from typing import Annotated

from flask import request
from flask.wrappers import Response
from pydantic import Field

from app.accounts.models import User
from app.api import bp
from app.api.auth import rate_key
from app.api.cart_api import cart_for
from app.api.cart_schemas import Token
from app.api.spec import Body, Reply, ok, operation
from app.checkout.idempotency import request_hash
from app.checkout.lifecycle import close_order
from app.checkout.models import Order, OrderStatus
from app.checkout.queries import get_order_by_token, get_order_for, order_payload
from app.core.errors import DomainError, NotFound
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import limiter
from app.payments.models import PaymentStatus
from app.payments.providers import providers_for
from app.payments.services import checkout_cart
from app.payments.services.fulfilment import close_payment
from app.payments.services.lookup import latest_payment, lock_order

TAG = "Orders"


class LoginRequired(DomainError):
    code = "login_required"
    status = 401


class OrderNotCancelable(DomainError):
    code = "order_not_cancelable"
    status = 409


class CreateOrder(Body):
    cart_token: Token
    # Or the Idempotency-Key header (which wins): the first answer to a key is replayed.
    idempotency_key: Annotated[str, Field(min_length=8, max_length=100)] | None = None
    provider: str | None = Field(default=None, min_length=1, max_length=40)


class OrderReply(Reply):
    """Seed 002's order; minor units. subtotal: after discounts, before tax."""

    order_token: str
    status: str
    currency: str
    subtotal: int
    total: int
    tax_amount: int
    discount_amount: int
    base_subtotal: int
    payment_token: str | None = None
    enrollment_id: int | None = None
    checkout_url: str


class OrderData(Reply):
    order: OrderReply


def _signed_in(user: User | None) -> User:
    if user is None:
        raise LoginRequired("Log in, then order your cart.")
    return user


def _payload(order: Order, redirect: str | None = None) -> dict[str, object]:
    payment = latest_payment(order.id)
    if redirect is None:
        open_url = payment.checkout_url if payment is not None and payment.status.is_open else None
        redirect = open_url or absolute_url("checkout.order_page", token=order.token)
    payload = order_payload(order, redirect)
    if payment is not None:
        payload["payment_token"] = payment.token
    return payload


def _provider(asked: str | None, currency: str) -> str:
    offered = [p.name for p in providers_for(currency)]
    if asked is None:
        return offered[0] if offered else ""
    if asked not in offered:
        names = ", ".join(offered) or f"none for {currency}"
        raise DomainError(
            f"provider must be one of: {names}.", code="unknown_provider", field="provider"
        )
    return asked


@operation(
    bp,
    "POST",
    "/order",
    summary="Order the caller's cart (Idempotency-Key); paid → payment_token, free → enrollment",
    tag=TAG,
    auth="optional",
    body=CreateOrder,
    response=OrderData,
    errors=(401, 404, 422, 429),
    decorators=(limiter.limit("30 per minute", key_func=rate_key, override_defaults=False),),
)
def create_order(user: User | None, body: CreateOrder) -> Response:
    owner = _signed_in(user)
    cart = cart_for(body.cart_token, owner)
    if cart.user_id != owner.id:  # an anonymous cart is claimed first (POST /cart/{t}/auth/check)
        raise NotFound("No cart with that token.", code="cart_not_found", field="cart_token")
    key = request.headers.get("Idempotency-Key") or body.idempotency_key or ""
    provider = _provider(body.provider, cart.currency)
    fingerprint = request_hash({"cart_token": cart.token, "provider": provider})
    with committing():
        result = checkout_cart(owner, cart, provider, key, fingerprint)
        order = get_order_by_token(result.order_token)
    data = {"order": _payload(order, result.redirect)}
    return ok(data | {"replayed": result.replayed, "existing": result.existing})


@operation(
    bp,
    "GET",
    "/order/<order_token>",
    summary="One of the caller's orders",
    tag=TAG,
    auth="optional",
    response=OrderData,
    errors=(401, 404),
)
def get_order(order_token: str, user: User | None) -> Response:
    order = get_order_for(order_token, _signed_in(user))
    if order is None:
        raise NotFound("No order with that token.", code="order_not_found")
    return ok({"order": _payload(order)})


@operation(
    bp,
    "POST",
    "/order/<order_token>/cancel",
    summary="Cancel one of the caller's unpaid orders; its courses go back to the cart",
    tag=TAG,
    auth="optional",
    response=OrderData,
    errors=(401, 404, 409),
)
def cancel_order(order_token: str, user: User | None) -> Response:
    caller = _signed_in(user)
    found = get_order_for(order_token, caller)
    if found is None or found.user_id != caller.id:
        raise NotFound("No order with that token.", code="order_not_found")
    with committing():
        order = lock_order(found.id)
        if order.status in OrderStatus.FULFILLED:
            raise OrderNotCancelable("This order is paid: ask for a refund instead.")
        if order.is_awaiting_payment:
            payment = latest_payment(order.id)
            reason = "Canceled by the buyer."
            if payment is not None and payment.status.is_open:
                close_payment(payment, PaymentStatus.CANCELED, reason)  # closes the order too
            else:
                close_order(order, OrderStatus.CANCELED, reason)
    return ok({"order": _payload(order)})
