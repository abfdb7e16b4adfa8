"""The Razorpay provider through the real `razorpay` SDK against the Razorpay double."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import Order, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.models import Payment, Refund, WebhookEvent
from tests.factories import make_course
from tests.payments.conftest import (
    RAZORPAY_WEBHOOK_SECRET,
    checkout,
    fill_cart,
    order_of,
    payment_token,
    run_jobs,
)


def _start(
    client: FlaskClient, session: Session, buyer: User, prices: list[int] | None = None
) -> tuple[Order, Payment, str]:
    courses = [
        make_course(f"Desi course {i}", prices={"INR": p}) for i, p in enumerate(prices or [49900])
    ]
    fill_cart(buyer, [c.id for c in courses], "INR")
    response = checkout(client, provider="razorpay", key="rzp-key-0001")
    token = payment_token(response.headers["Location"])
    order = order_of(session, buyer)
    payment = session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    return order, payment, token


def _active(session: Session, user: User) -> int:
    stmt = select(func.count(Enrollment.id)).where(
        Enrollment.user_id == user.id, Enrollment.status == EnrollmentStatus.ACTIVE
    )
    return int(session.scalar(stmt) or 0)


def test_pay_page_loads_checkout_js_only_there(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, razorpay_double: Any
) -> None:
    order, payment, token = _start(client, db_session, buyer)
    assert razorpay_double.order(payment.provider_session_id)["receipt"] == order.token
    assert (
        razorpay_double.order(payment.provider_session_id)["amount"] == order.total_minor == 58882
    )  # 499 + 18% GST
    page = client.get(f"/pay/{token}")
    assert 'src="https://checkout.razorpay.com/v1/checkout.js"' in page.text
    assert f'data-order-id="{payment.provider_session_id}"' in page.text
    assert "https://checkout.razorpay.com" in page.headers["Content-Security-Policy"]
    assert "checkout.razorpay.com" not in client.get("/").headers["Content-Security-Policy"]
    assert "checkout.js" not in client.get(f"/orders/{order.token}").text


def test_return_with_a_valid_signature_fulfils(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, razorpay_double: Any
) -> None:
    order, payment, _ = _start(client, db_session, buyer)
    paid = razorpay_double.pay_order(payment.provider_session_id)
    forged = client.post(
        "/checkout/return/razorpay",
        data={
            "razorpay_order_id": payment.provider_session_id,
            "razorpay_payment_id": paid["id"],
            "razorpay_signature": "0" * 64,
        },
    )
    assert (
        forged.status_code == 303
        and order_of(db_session, buyer).status is OrderStatus.AWAITING_PAYMENT
    )
    signature = razorpay_double.checkout_signature(
        payment.provider_session_id, paid["id"], razorpay_double.key_secret
    )
    back = client.post(
        "/checkout/return/razorpay",
        data={
            "razorpay_order_id": payment.provider_session_id,
            "razorpay_payment_id": paid["id"],
            "razorpay_signature": signature,
        },
    )
    assert back.headers["Location"] == f"/orders/{order.token}"
    assert (
        order_of(db_session, buyer).status is OrderStatus.PAID and _active(db_session, buyer) == 1
    )


def test_webhooks_are_deduplicated_by_event_id_and_by_payment(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, razorpay_double: Any
) -> None:
    _order, payment, _ = _start(client, db_session, buyer)
    paid = razorpay_double.pay_order(payment.provider_session_id)
    entities = {"payment": paid, "order": razorpay_double.order(payment.provider_session_id)}
    raw, headers = razorpay_double.signed_webhook(
        "payment.captured", entities, RAZORPAY_WEBHOOK_SECRET, event_id="evt_same"
    )
    for _ in range(3):
        assert client.post("/webhooks/razorpay", data=raw, headers=headers).status_code == 200
    # order.paid for the same payment, under its own event id
    raw2, headers2 = razorpay_double.signed_webhook("order.paid", entities, RAZORPAY_WEBHOOK_SECRET)
    client.post("/webhooks/razorpay", data=raw2, headers=headers2)
    run_jobs()
    assert db_session.scalar(select(func.count(WebhookEvent.id))) == 2
    assert (
        order_of(db_session, buyer).status is OrderStatus.PAID and _active(db_session, buyer) == 1
    )
    tampered = raw.replace(paid["id"].encode(), b"pay_forged0000")
    assert client.post("/webhooks/razorpay", data=tampered, headers=headers).status_code == 400


def test_failed_payment_and_refunds(
    providers: None,
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    razorpay_double: Any,
) -> None:
    order, payment, _ = _start(client, db_session, buyer, prices=[100000, 50000])
    failed = razorpay_double.pay_order(payment.provider_session_id, captured=False)
    raw, headers = razorpay_double.signed_webhook(
        "payment.failed", {"payment": failed}, RAZORPAY_WEBHOOK_SECRET
    )
    client.post("/webhooks/razorpay", data=raw, headers=headers)
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.FAILED
    # the buyer retries in the same Razorpay order and succeeds
    paid = razorpay_double.pay_order(payment.provider_session_id)
    raw, headers = razorpay_double.signed_webhook(
        "payment.captured", {"payment": paid}, RAZORPAY_WEBHOOK_SECRET
    )
    client.post("/webhooks/razorpay", data=raw, headers=headers)
    run_jobs()
    assert (
        order_of(db_session, buyer).status is OrderStatus.PAID and _active(db_session, buyer) == 2
    )

    from app.catalog.models import Course
    from app.checkout.models import OrderItem

    item = db_session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id, OrderItem.title == "Desi course 1")
    ).one()
    slug = db_session.get(Course, item.course_id).slug  # type: ignore[union-attr]
    result = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, "--course", slug, "--reason", "dup", "--yes"]
    )
    assert result.exit_code == 0, result.output
    run_jobs()  # the refund job
    calls = [
        r for r in razorpay_double.requests if r.method == "POST" and r.path.endswith("/refund")
    ]
    refund = db_session.scalars(select(Refund)).one()
    assert [c.idempotency_key for c in calls] == [f"refund-{refund.token}"]
    assert _active(db_session, buyer) == 1
    # Razorpay's refund.processed for our own refund is recognised by its id.
    rzp_refund = {
        "id": refund.provider_refund_id,
        "entity": "refund",
        "amount": refund.amount_minor,
        "payment_id": paid["id"],
        "currency": "INR",
        "status": "processed",
    }
    raw, headers = razorpay_double.signed_webhook(
        "refund.processed",
        {"refund": rzp_refund, "payment": razorpay_double.payment(paid["id"])},
        RAZORPAY_WEBHOOK_SECRET,
    )
    client.post("/webhooks/razorpay", data=raw, headers=headers)
    run_jobs()
    assert db_session.scalar(select(func.count(Refund.id))) == 1
    # and a refund made in Razorpay's dashboard reaches the same end through its webhook
    dashboard = razorpay_double.refund_from_dashboard(paid["id"], 118000)
    raw, headers = razorpay_double.signed_webhook(
        "refund.processed",
        {"refund": dashboard, "payment": razorpay_double.payment(paid["id"])},
        RAZORPAY_WEBHOOK_SECRET,
    )
    client.post("/webhooks/razorpay", data=raw, headers=headers)
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.REFUNDED and _active(db_session, buyer) == 0
