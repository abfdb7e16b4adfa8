"""Starting a payment: an attempt row, a provider session, the order awaiting payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.cart.models import Cart
from app.cart.services import add_course, apply_coupon, open_cart, view_cart
from app.checkout import idempotency
from app.checkout.errors import CartAlreadyOrdered, OrderError
from app.checkout.lifecycle import await_payment
from app.checkout.models import Order, OrderStatus
from app.checkout.queries import get_order_by_token, load_items
from app.checkout.services import place_order
from app.core.errors import DomainError
from app.core.models import utcnow
from app.core.money import Money
from app.core.urls import absolute_url
from app.extensions import db
from app.payments.models import Payment, PaymentStatus
from app.payments.providers import get_provider
from app.payments.providers.base import LineForProvider, ReturnUrls
from app.payments.services.fulfilment import close_payment
from app.payments.services.lookup import lock_order, lock_payment


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


class AmountMismatch(DomainError):
    """The amount an app expected is not what the server charges: nothing is ordered."""

    code = "amount_mismatch"
    status = 409

    def __init__(self, expected: Money, sent: Money) -> None:
        super().__init__(
            f"The price is {expected.to_decimal()} {expected.currency}, not {sent.to_decimal()}: "
            "show the buyer this price and send it as the amount.",
            field="amount",
        )
        self.expected = expected

    def details(self) -> dict[str, object]:
        # A JSON number with the currency's decimals (float only to write it: str(99.99) is
        # "99.99"); amountMinor is the exact value.
        major = self.expected.to_decimal()
        return {
            "amount": int(major) if major == major.to_integral_value() else float(major),
            "amountMinor": self.expected.amount,
            "currency": self.expected.currency,
        }


@dataclass(frozen=True)
class CoursePurchase:
    order: Order
    payment: Payment | None  # None: nothing to pay (a coupon took it all), enrolled already
    replayed: bool


PURCHASE_SCOPE = "api-payment"


def buy_course(  # noqa: PLR0913 - one purchase's inputs, keyword-called
    user: User,
    course_id: int,
    provider: str,
    *,
    currency: str,
    expected: Money | None,
    key: str | None,
    fingerprint: str,
    coupon_code: str = "",
) -> CoursePurchase:
    """One course bought from an app (seed 000 flow 2, seed 004's payment session): a cart of
    its own holding that course (the buyer's cart, the one the pages show, is left alone), the
    order placed as checkout places it (prices from the database) and a payment started.

    `expected` is the app's amount: a check of the total to charge, never the price; another
    amount orders nothing (AmountMismatch). The same key with the same request gives the first
    purchase again; with another request it is refused (IdempotencyConflict).
    """
    row = None
    if key:
        row, first = idempotency.claim_key(user.id, PURCHASE_SCOPE, key, fingerprint)
        if not first and row.response is not None:
            return _replayed(row.response)
    cart = open_cart(currency)  # no owner: a user has one cart, and it stays as it is
    add_course(cart, course_id, user)
    if coupon_code:
        apply_coupon(cart, coupon_code, user)
    total = view_cart(cart, user).breakdown.total
    if expected is not None and expected.amount != total:
        raise AmountMismatch(Money(total, currency), expected)
    order = place_order(user, cart)
    payment = start_payment(order, provider) if order.total_minor > 0 else None
    if row is not None:
        answer = {"order_token": order.token, "payment_id": payment.id if payment else None}
        idempotency.store_response(row, 201, answer)
    return CoursePurchase(order, payment, False)


def _replayed(response: dict[str, object]) -> CoursePurchase:
    order = get_order_by_token(str(response["order_token"]))
    payment_id = response.get("payment_id")
    payment = db.session.get(Payment, payment_id) if isinstance(payment_id, int) else None
    return CoursePurchase(order, payment, True)


class PaymentNotOpen(DomainError):
    code = "payment_not_open"
    status = 409


def cancel_payment(payment: Payment) -> Payment:
    """Seed 004's cancel: an open payment's session is stopped at the provider (where it can
    be) and the payment closed as canceled, as when the buyer cancels on the provider's page
    (the order's courses go back to the buyer's cart)."""
    lock_order(payment.order_id)  # order, then payment: as every writer does
    payment = lock_payment(payment.id)
    if not payment.status.is_open:
        label = payment.status.label.lower()
        raise PaymentNotOpen(f"This payment is {label}: it cannot be canceled.")
    get_provider(payment.provider).cancel_session(payment)
    return close_payment(payment, PaymentStatus.CANCELED, "Canceled by the buyer.")
