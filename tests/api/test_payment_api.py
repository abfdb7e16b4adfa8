"""Payments, payment sessions and coupons over the JSON API (seed 000 flows 2 and 5, seed 004)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.checkout.models import Order, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
    WebhookStatus,
)
from tests.api.tokens import bearer
from tests.cart.conftest import make_coupon
from tests.factories import make_course, make_user
from tests.payments.conftest import run_jobs

API = "/api/v1"


def _buy(client: FlaskClient, user: User, course_id: int, amount: Any = 99.99, **extra: Any) -> Any:
    # Seed 000's body as its curl sends it: the course id quoted, "stripe" asked for.
    headers = {**bearer(user), **extra.pop("headers", {})}
    body = {"courseId": str(course_id), "amount": amount, "currency": "USD",
            "paymentMethod": "stripe", **extra}  # fmt: skip
    return client.post(f"{API}/payments", json=body, headers=headers)


def _enrollment(session: Session, user: User, course_id: int) -> Enrollment | None:
    session.expire_all()
    stmt = select(Enrollment).where(
        Enrollment.user_id == user.id, Enrollment.course_id == course_id
    )
    return session.scalars(stmt).first()


def test_seed_purchase_in_test_mode_ends_enrolled(client: FlaskClient, db_session: Session) -> None:
    buyer = make_user()
    course = make_course("Test Course", prices={"USD": 9999})
    created = _buy(client, buyer, course.id)
    assert created.status_code == 201, created.json
    data = created.json["data"]
    # Stripe has no keys here: the sandbox serves the request in test mode, and says so.
    assert (data["provider"], data["requestedProvider"], data["testMode"]) == (
        "sandbox", "stripe", True,
    )  # fmt: skip
    assert (data["amount"], data["amountMinor"], data["currency"]) == (99.99, 9999, "USD")
    assert data["status"] == "pending" and data["gatewayOrderId"].startswith("sbx_cs_")
    assert "/pay/" in data["checkoutUrl"] and data["courseId"] == course.id
    assert _enrollment(db_session, buyer, course.id) is None

    # The seed's literal verify body: the gateway id is reported as not matching, never used.
    verified = client.post(
        f"{API}/payments/{data['paymentId']}/verify",
        json={"paymentGatewayId": "pi_xxx", "signature": "..."},
        headers=bearer(buyer),
    )
    assert verified.status_code == 200, verified.json
    result = verified.json["data"]
    assert (result["status"], result["verified"], result["gatewayIdMatches"]) == (
        "succeeded", True, False,
    )  # fmt: skip
    assert result["gatewayPaymentId"].startswith("sbx_ch_")
    enrollment = _enrollment(db_session, buyer, course.id)
    assert enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE
    assert result["enrollmentIds"] == [enrollment.id]

    mine = client.get(f"{API}/enrollments/me", headers=bearer(buyer)).json["data"]
    assert [e["courseId"] for e in mine["enrollments"]] == [course.id]

    # The sandbox's signed event is processed by a real worker and finds the work done.
    run_jobs()
    db_session.expire_all()
    assert db_session.scalars(select(WebhookEvent)).one().status is WebhookStatus.PROCESSED
    assert db_session.scalar(select(func.count(Enrollment.id))) == 1
    again = client.post(
        f"{API}/payments/{data['paymentId']}/verify",
        json={"paymentGatewayId": result["gatewayPaymentId"]},
        headers=bearer(buyer),
    )
    assert again.status_code == 200 and again.json["data"]["gatewayIdMatches"] is True


def test_the_amount_is_a_check_never_the_price(client: FlaskClient, db_session: Session) -> None:
    buyer = make_user()
    course = make_course(prices={"USD": 9999})
    wrong = _buy(client, buyer, course.id, amount=10)
    assert wrong.status_code == 409
    body = wrong.json
    assert (body["code"], body["field"], body["amount"], body["amountMinor"]) == (
        "amount_mismatch", "amount", 99.99, 9999,
    )  # fmt: skip
    assert db_session.scalar(select(func.count(Order.id))) == 0
    # More decimals than USD has are refused, not rounded (read from the JSON text).
    precise = client.post(
        f"{API}/payments",
        data=f'{{"courseId": {course.id}, "amount": 99.989, "currency": "USD"}}',
        content_type="application/json",
        headers=bearer(buyer),
    )
    assert precise.status_code == 422 and precise.json["field"] == "amount"
    unknown = client.post(
        f"{API}/payments",
        json={"courseId": course.id, "amount": 99.99, "currency": "USD", "price": 1},
        headers=bearer(buyer),
    )
    assert unknown.status_code == 422 and unknown.json["field"] == "price"
    assert client.post(f"{API}/payments", json={}).status_code == 401


def test_one_idempotency_key_is_one_purchase(client: FlaskClient, db_session: Session) -> None:
    buyer = make_user()
    course = make_course(prices={"USD": 9999})
    key = {"Idempotency-Key": "app-purchase-0001"}
    first = _buy(client, buyer, course.id, headers=key)
    again = _buy(client, buyer, course.id, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["replayed"] is True
    assert again.json["data"]["paymentId"] == first.json["data"]["paymentId"]
    other = _buy(client, buyer, course.id, amount=99.99, couponCode="NOPE", headers=key)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert db_session.scalar(select(func.count(Payment.id))) == 1


def test_a_declined_verify_answers_the_seeds_payment_failed(
    client: FlaskClient, db_session: Session
) -> None:
    buyer = make_user()
    course = make_course(prices={"USD": 9999})
    payment_id = _buy(client, buyer, course.id).json["data"]["paymentId"]
    declined = client.post(
        f"{API}/payments/{payment_id}/verify",
        json={"paymentGatewayId": "pi_xxx", "testCard": "4000000000000002"},
        headers=bearer(buyer),
    )
    assert declined.status_code == 402
    body = declined.json
    assert body["success"] is False and body["error"] == "Payment verification failed"
    assert body["paymentStatus"] == "failed" and "declined" in body["gatewayError"]
    db_session.expire_all()
    payment = db_session.get(Payment, payment_id)
    assert payment is not None and payment.status is PaymentStatus.FAILED  # committed, then 402
    assert _enrollment(db_session, buyer, course.id) is None
    # Verifying again asks again and reports the same failure; nothing is paid on its word.
    again = client.post(f"{API}/payments/{payment_id}/verify", json={}, headers=bearer(buyer))
    assert again.status_code == 402 and again.json["paymentStatus"] == "failed"


def test_another_users_payment_is_not_found(client: FlaskClient, db_session: Session) -> None:
    buyer, other = make_user(), make_user()
    payment_id = _buy(client, buyer, make_course(prices={"USD": 9999}).id).json["data"]["paymentId"]
    for method, path in [("get", ""), ("post", "/verify"), ("post", "/refund")]:
        answer = getattr(client, method)(
            f"{API}/payments/{payment_id}{path}", json={}, headers=bearer(other)
        )
        assert answer.status_code == 404 and answer.json["code"] == "PAYMENT_NOT_FOUND"
    for path in [f"/payments/sessions/{payment_id}", f"/payments/sessions/{payment_id}/cancel"]:
        method = client.post if path.endswith("cancel") else client.get
        assert method(f"{API}{path}", headers=bearer(other)).status_code == 404
    mine = client.get(f"{API}/payments/{payment_id}", headers=bearer(buyer))
    assert mine.status_code == 200 and mine.json["data"]["paymentId"] == payment_id
    admin = client.get(f"{API}/payments/{payment_id}", headers=bearer(make_user(Role.ADMIN)))
    assert admin.status_code == 200


def _paid(client: FlaskClient, buyer: User, price: int = 9999) -> tuple[int, int]:
    course = make_course(prices={"USD": price})
    payment_id = _buy(client, buyer, course.id, amount=price / 100).json["data"]["paymentId"]
    verified = client.post(f"{API}/payments/{payment_id}/verify", json={}, headers=bearer(buyer))
    assert verified.status_code == 200, verified.json
    return payment_id, course.id


def test_refund_by_the_buyer_through_the_refund_job(
    client: FlaskClient, db_session: Session
) -> None:
    buyer = make_user()
    payment_id, course_id = _paid(client, buyer)
    partial = client.post(
        f"{API}/payments/{payment_id}/refund", json={"amount": 50}, headers=bearer(buyer)
    )
    assert partial.status_code == 422 and partial.json["code"] == "refund_refused"  # whole courses
    asked = client.post(
        f"{API}/payments/{payment_id}/refund",
        json={"reason": "User requested"},
        headers=bearer(buyer),
    )
    assert asked.status_code == 202, asked.json
    refund = asked.json["data"]
    assert (refund["status"], refund["amount"], refund["amountMinor"]) == ("pending", 99.99, 9999)
    twice = client.post(
        f"{API}/payments/{payment_id}/refund",
        json={"reason": "User requested"},
        headers=bearer(buyer),
    )
    assert twice.status_code == 200 and twice.json["data"]["refundId"] == refund["refundId"]

    run_jobs()  # execute_refund, the one refund job
    db_session.expire_all()
    made = db_session.get(Refund, refund["refundId"])
    assert made is not None and made.status is RefundStatus.SUCCEEDED
    enrollment = _enrollment(db_session, buyer, course_id)
    assert enrollment is not None and enrollment.status is EnrollmentStatus.DROPPED
    shown = client.get(f"{API}/payments/{payment_id}", headers=bearer(buyer)).json["data"]
    assert (shown["status"], shown["refunded"], shown["refundedMinor"]) == (
        "refunded", 99.99, 9999,
    )  # fmt: skip


def test_an_admin_refunds_part_of_a_payment(client: FlaskClient, db_session: Session) -> None:
    buyer, admin = make_user(), make_user(Role.ADMIN)
    payment_id, course_id = _paid(client, buyer)
    too_precise = client.post(
        f"{API}/payments/{payment_id}/refund", json={"amount": 10.001}, headers=bearer(admin)
    )
    assert too_precise.status_code == 422 and too_precise.json["field"] == "amount"
    asked = client.post(
        f"{API}/payments/{payment_id}/refund",
        json={"amount": 40.5, "reason": "Goodwill"},
        headers=bearer(admin),
    )
    assert asked.status_code == 202, asked.json
    assert asked.json["data"]["amountMinor"] == 4050
    run_jobs()
    db_session.expire_all()
    payment = db_session.get(Payment, payment_id)
    assert payment is not None and payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert payment.refunded_minor == 4050
    enrollment = _enrollment(db_session, buyer, course_id)
    assert enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE


def test_payment_sessions(client: FlaskClient, db_session: Session) -> None:
    buyer = make_user()
    course = make_course(prices={"USD": 9900})
    make_coupon("WELCOME10", percent_off_bp=1000)
    body = {"courseId": course.id, "couponCode": "WELCOME10",
            "returnUrl": "https://app.example/payment/success",
            "cancelUrl": "https://app.example/payment/cancel"}  # fmt: skip
    created = client.post(f"{API}/payments/sessions", json=body, headers=bearer(buyer))
    assert created.status_code == 201, created.json
    session = created.json["data"]["session"]
    assert (session["amount"], session["discountAmount"], session["finalAmount"]) == (
        9900, 990, 8910,
    )  # fmt: skip
    assert session["couponCode"] == "WELCOME10" and session["status"] == "pending"
    assert (
        created.json["redirectUrl"] == session["redirectUrl"] and "/pay/" in session["redirectUrl"]
    )
    got = client.get(f"{API}/payments/sessions/{session['id']}", headers=bearer(buyer))
    assert got.json["data"]["session"] == session

    # By the provider's session id without a login: its status, nothing about the buyer.
    public = client.get(f"{API}/payments/sessions/stripe/{session['providerSessionId']}")
    assert public.status_code == 200
    assert public.json["data"]["session"]["status"] == "pending"
    assert "userId" not in public.json["data"]["session"]
    assert client.get(f"{API}/payments/sessions/stripe/cs_nothing").status_code == 404

    canceled = client.post(f"{API}/payments/sessions/{session['id']}/cancel", headers=bearer(buyer))
    assert canceled.status_code == 200 and canceled.json["data"]["session"]["status"] == "canceled"
    again = client.post(f"{API}/payments/sessions/{session['id']}/cancel", headers=bearer(buyer))
    assert again.status_code == 409 and again.json["code"] == "payment_not_open"
    # The sandbox session was canceled too: verifying cannot pay it now.
    late = client.post(f"{API}/payments/{session['id']}/verify", json={}, headers=bearer(buyer))
    assert late.status_code == 402 and late.json["paymentStatus"] == "canceled"
    db_session.expire_all()
    order = db_session.scalars(select(Order)).one()
    assert order.status is OrderStatus.CANCELED


def test_coupon_validate_numbers_and_active_list(client: FlaskClient, db_session: Session) -> None:
    buyer = make_user()
    course = make_course(prices={"USD": 9900})
    make_coupon("WELCOME10", percent_off_bp=1000, max_discount=None)
    body = {"code": "welcome10", "courseId": course.id, "amount": 9900}
    valid = client.post(f"{API}/coupons/validate", json=body, headers=bearer(buyer))
    assert valid.status_code == 200, valid.json
    data = valid.json["data"]
    assert (data["isValid"], data["discountAmount"], data["finalAmount"], data["amount"]) == (
        True, 990, 8910, 9900,
    )  # fmt: skip
    unknown = client.post(
        f"{API}/coupons/validate", json={**body, "code": "NOPE"}, headers=bearer(buyer)
    )
    refused = unknown.json["data"]
    assert unknown.status_code == 200 and refused["isValid"] is False
    assert (refused["errorCode"], refused["reason"]) == (2004, "coupon_unknown")
    # No side effects: nothing reserved, no order.
    assert db_session.scalar(select(func.count(Order.id))) == 0

    assert client.get(f"{API}/coupons/active", headers=bearer(buyer)).status_code == 403
    listed = client.get(f"{API}/coupons/active", headers=bearer(make_user(Role.ADMIN)))
    assert listed.status_code == 200
    coupon = listed.json["data"]["coupons"][0]
    assert (coupon["code"], coupon["discountType"], coupon["discountValue"]) == (
        "WELCOME10", "PERCENTAGE", 10,
    )  # fmt: skip
