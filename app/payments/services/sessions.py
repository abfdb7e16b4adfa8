"""Starting a payment: an attempt row, a provider session, the order awaiting payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.cart.models import Cart
from app.checkout import idempotency
from app.checkout.errors import CartAlreadyOrdered, OrderError
from app.checkout.lifecycle import await_payment
from app.checkout.models import Order, OrderStatus
from app.checkout.queries import load_items
from app.checkout.services import place_order
from app.core.models import utcnow
from app.core.urls import absolute_url
from app.extensions import db
from app.payments.models import Payment, PaymentStatus
from app.payments.providers import get_provider
from app.payments.providers.base import LineForProvider, ReturnUrls
from app.payments.services.lookup import lock_order


def start_payment(order: Order, provider_name: str, now: datetime | None = None) -> Payment:
    """A new payment attempt for the order's total, with a session at the provider."""
    now = now or utcnow()
    provider = get_provider(provider_name)
    order = db.session.scalars(  # providers prefill the buyer's email and name
        select(Order).where(Order.id == order.id).options(joinedload(Order.user))
    ).one()
    attempt = (
        db.session.scalar(select(func.max(Payment.attempt)).where(Payment.order_id == order.id))
        or 0
    ) + 1
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        attempt=attempt,
        amount_minor=order.total_minor,
        currency=order.currency,
    )
    db.session.add(payment)
    db.session.flush()
    urls = ReturnUrls(
        success=absolute_url("payments.provider_return", provider=provider.name),
        cancel=absolute_url("checkout.order_page", token=order.token, canceled=1),
        pay_page=absolute_url("payments.pay_page", token=payment.token),
    )
    lines = [LineForProvider(item.title, item.total_minor) for item in load_items(order.id)]
    start = provider.create_session(order, payment, lines, urls)
    payment.provider_session_id = start.session_id
    payment.checkout_url = start.redirect_url
    payment.client_data = start.client_data or None
    payment.status = PaymentStatus.PENDING
    expires_at = now + timedelta(minutes=current_app.config["PAYMENT_SESSION_MINUTES"])
    await_payment(order, provider.name, expires_at, f"{provider.name} attempt {attempt}")
    return payment


def retry_payment(order: Order, provider_name: str) -> Payment:
    """'Try again': a fresh payment session for an unpaid order."""
    locked = lock_order(order.id)
    if locked.status not in OrderStatus.RETRYABLE:
        raise OrderError("This order can no longer be paid.", code="not_payable")
    return start_payment(locked, provider_name)


@dataclass(frozen=True)
class CheckoutResult:
    order_token: str
    redirect: str
    replayed: bool
    # The cart had already become this order (another tab, a double click): no new order.
    existing: bool = False


def checkout_cart(
    user: User, cart: Cart, provider: str, key: str, fingerprint: str
) -> CheckoutResult:
    """POST /checkout: the same key and request give the first answer again, never a 2nd order.

    Another key for a cart that is already an order waiting for payment lands on that order.
    """
    row, first = idempotency.claim_key(user.id, "checkout", key, fingerprint)
    if not first and row.response is not None:
        return CheckoutResult(row.response["order_token"], row.response["redirect"], True)
    try:
        order = place_order(user, cart)
    except CartAlreadyOrdered as already:
        order, existing = already.order, True
        redirect = absolute_url("checkout.order_page", token=order.token)
    else:
        existing = False
        if order.total_minor > 0:
            redirect = start_payment(order, provider).checkout_url or ""
        else:
            redirect = absolute_url("checkout.order_page", token=order.token)
    idempotency.store_response(row, 303, {"order_token": order.token, "redirect": redirect})
    return CheckoutResult(order.token, redirect, False, existing)
