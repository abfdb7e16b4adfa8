"""The Stripe provider through the real `stripe` SDK against the Stripe double (and localstripe)."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import Order, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.jobs import reconcile_payments
from app.payments.models import Payment, PaymentStatus, Refund, WebhookEvent
from tests.factories import make_course
from tests.payments.conftest import STRIPE_WEBHOOK_SECRET, checkout, fill_cart, order_of, run_jobs


def _start(
    client: FlaskClient,
    session: Session,
    buyer: User,
    stripe_double: Any,
    prices: list[int] | None = None,
) -> tuple[Order, Payment]:
    courses = [
        make_course(f"Stripe course {i}", prices={"USD": p}) for i, p in enumerate(prices or [2500])
    ]
    fill_cart(buyer, [c.id for c in courses])
    response = checkout(client, provider="stripe", key="stripe-key-1")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(stripe_double.url + "/pay/cs_")
    order = order_of(session, buyer)
    payment = session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    return order, payment


def _webhook(
    client: FlaskClient, event_type: str, obj: dict[str, Any], stripe_double: Any, **kw: Any
) -> Any:
    raw, headers = stripe_double.signed_event(event_type, obj, STRIPE_WEBHOOK_SECRET, **kw)
    return client.post("/webhooks/stripe", data=raw, headers=headers)


def _enrollments(
    session: Session, user: User, status: EnrollmentStatus = EnrollmentStatus.ACTIVE
) -> int:
    stmt = select(func.count(Enrollment.id)).where(
        Enrollment.user_id == user.id, Enrollment.status == status
    )
    return int(session.scalar(stmt) or 0)


def test_checkout_session_then_return_then_late_webhook(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    order, payment = _start(client, db_session, buyer, stripe_double)
    created = [
        r
        for r in stripe_double.requests
        if r.path == "/v1/checkout/sessions" and r.method == "POST"
    ]
    assert len(created) == 1
    assert created[0].idempotency_key == f"session-{order.token}-1"
    params = created[0].params
    assert params["client_reference_id"] == order.token and params["mode"] == "payment"
    assert params["line_items"][0]["price_data"]["unit_amount"] in ("2500", 2500)

    session_obj = stripe_double.complete_session(payment.provider_session_id)
    back = client.get(f"/checkout/return/stripe?session_id={payment.provider_session_id}")
    assert back.status_code == 303 and back.headers["Location"] == f"/orders/{order.token}"
    assert order_of(db_session, buyer).status is OrderStatus.PAID  # fulfilled by the return
    assert _enrollments(db_session, buyer) == 1

    assert (
        _webhook(client, "checkout.session.completed", session_obj, stripe_double).status_code
        == 200
    )
    run_jobs()
    assert _enrollments(db_session, buyer) == 1  # the late webhook found the work done
    db_session.expire_all()
    payment = db_session.get(Payment, payment.id)
    assert (
        payment.status is PaymentStatus.SUCCEEDED
        and payment.provider_payment_id == session_obj["payment_intent"]
    )


def test_stale_or_forged_stripe_signature(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    _, payment = _start(client, db_session, buyer, stripe_double)
    session_obj = stripe_double.complete_session(payment.provider_session_id)
    stale = _webhook(
        client,
        "checkout.session.completed",
        session_obj,
        stripe_double,
        timestamp=int(time.time()) - 301,
    )
    assert stale.status_code == 400
    raw, headers = stripe_double.signed_event(
        "checkout.session.completed", session_obj, "whsec_wrong"
    )
    assert client.post("/webhooks/stripe", data=raw, headers=headers).status_code == 400
    assert db_session.scalar(select(func.count(WebhookEvent.id))) == 0
    assert _enrollments(db_session, buyer) == 0


def test_async_payment_settles_later(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    _, payment = _start(client, db_session, buyer, stripe_double)
    pending = stripe_double.complete_session(payment.provider_session_id, paid=False)
    _webhook(client, "checkout.session.completed", pending, stripe_double)
    run_jobs()
    assert (
        order_of(db_session, buyer).status is OrderStatus.AWAITING_PAYMENT
        and _enrollments(db_session, buyer) == 0
    )
    settled = stripe_double.settle_async_payment(payment.provider_session_id, succeeded=True)
    _webhook(client, "checkout.session.async_payment_succeeded", settled, stripe_double)
    run_jobs()
    assert (
        order_of(db_session, buyer).status is OrderStatus.PAID
        and _enrollments(db_session, buyer) == 1
    )


def test_failed_async_payment_offers_try_again(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    order, payment = _start(client, db_session, buyer, stripe_double)
    stripe_double.complete_session(payment.provider_session_id, paid=False)
    failed = stripe_double.settle_async_payment(payment.provider_session_id, succeeded=False)
    _webhook(client, "checkout.session.async_payment_failed", failed, stripe_double)
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.FAILED
    assert "Try again" in client.get(f"/orders/{order.token}").text


def test_expired_session(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    _, payment = _start(client, db_session, buyer, stripe_double)
    expired = stripe_double.expire_session(payment.provider_session_id)
    _webhook(client, "checkout.session.expired", expired, stripe_double)
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.FAILED


def test_reconciliation_asks_stripe(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    from datetime import timedelta

    _, payment = _start(client, db_session, buyer, stripe_double)
    stripe_double.complete_session(payment.provider_session_id)  # paid; the webhook is lost
    payment.created_at = payment.created_at - timedelta(minutes=20)
    db_session.flush()
    assert reconcile_payments() == 1
    assert order_of(db_session, buyer).status is OrderStatus.PAID


def test_refunds_through_stripe_and_from_its_dashboard(
    providers: None,
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    stripe_double: Any,
) -> None:
    order, payment = _start(client, db_session, buyer, stripe_double, prices=[3000, 1000])
    session_obj = stripe_double.complete_session(payment.provider_session_id)
    client.get(f"/checkout/return/stripe?session_id={payment.provider_session_id}")
    pi = session_obj["payment_intent"]

    # A dashboard refund of 5.00 covers no whole line: nothing is dropped.
    charge = stripe_double.refund_from_dashboard(pi, 500)
    _webhook(client, "charge.refunded", charge, stripe_double)
    run_jobs()
    order = order_of(db_session, buyer)
    assert (order.status, order.refunded_minor) == (OrderStatus.PARTIALLY_REFUNDED, 500)
    assert _enrollments(db_session, buyer) == 2
    # The same event again changes nothing (the running total is already ours).
    _webhook(client, "charge.refunded", charge, stripe_double)
    run_jobs()
    assert order_of(db_session, buyer).refunded_minor == 500

    # Our own refund of the rest: one Stripe call with our idempotency key.
    result = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, "--reason", "all of it", "--yes"]
    )
    assert result.exit_code == 0, result.output
    run_jobs()  # the refund job
    calls = [r for r in stripe_double.requests if r.path == "/v1/refunds" and r.method == "POST"]
    refund = db_session.scalars(select(Refund).where(Refund.source == "admin")).one()
    assert [c.idempotency_key for c in calls] == [f"refund-{refund.token}"]
    assert refund.amount_minor == 3500
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.REFUNDED
    assert _enrollments(db_session, buyer) == 0
    # Stripe then tells us about our own refund: recognised, not counted twice.
    charge = stripe_double.payment_intent(pi)["latest_charge"]
    assert charge["amount_refunded"] == 4000
    _webhook(client, "charge.refunded", charge, stripe_double)
    run_jobs()
    assert order_of(db_session, buyer).refunded_minor == 4000
    assert db_session.scalar(select(func.count(Refund.id))) == 2


def test_same_key_different_request_is_refused(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    _start(client, db_session, buyer, stripe_double)
    again = checkout(client, provider="stripe", key="stripe-key-1")
    assert again.status_code == 303
    other = checkout(client, provider="sandbox", key="stripe-key-1")
    assert other.status_code == 422 and "different request" in other.text
    assert db_session.scalar(select(func.count(Order.id))) == 1
    assert stripe_double.count("POST", "/v1/checkout/sessions") == 1


def test_the_pay_link_sends_the_buyer_back_to_stripe(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    """The order page's pay link (`/pay/<token>`) is Stripe's pay_page: its hosted checkout."""
    _, payment = _start(client, db_session, buyer, stripe_double)
    back = client.get(f"/pay/{payment.token}")
    assert back.status_code == 303 and back.headers["Location"] == payment.checkout_url
    assert back.headers["Location"].startswith(stripe_double.url + "/pay/cs_")
