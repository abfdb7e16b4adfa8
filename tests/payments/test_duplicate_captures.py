"""A buyer charged twice for one course is refunded automatically, flagged, and keeps one seat."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart import services as cart_services
from app.cart.queries import get_user_cart
from app.checkout.models import Order, OrderEvent, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.models import (
    Payment,
    PaymentFlag,
    PaymentStatus,
    Refund,
    RefundSource,
    RefundStatus,
    SandboxSession,
)
from app.payments.queries import list_flagged_payments
from tests.factories import make_course
from tests.payments.conftest import (
    STRIPE_WEBHOOK_SECRET,
    checkout,
    fill_cart,
    latest_payment,
    payment_token,
    run_jobs,
)


def _pay_sandbox(client: FlaskClient, token: str) -> None:
    paid = client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    assert paid.status_code == 303


def _enrollments(session: Session, user: User) -> list[Enrollment]:
    session.expire_all()
    return list(session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)))


def _notes(session: Session, order_id: int) -> list[str]:
    stmt = select(OrderEvent.note).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    return list(session.scalars(stmt))


def _sandbox(session: Session, payment: Payment) -> SandboxSession:
    sbx = session.get(SandboxSession, payment.provider_session_id)
    assert sbx is not None
    session.refresh(sbx)
    return sbx


def test_two_paid_orders_for_one_course_refund_the_second(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course("Twice", prices={"USD": 3999})
    fill_cart(buyer, [course.id])
    first_pay = payment_token(checkout(client, key="twice-key-1").headers["Location"])
    # the course went back into the (emptied) cart and was ordered again before either was paid
    cart = get_user_cart(buyer.id)
    assert cart is not None
    cart_services.add_course(cart, course.id, buyer)
    second_pay = payment_token(checkout(client, key="twice-key-2").headers["Location"])
    orders = list(db_session.scalars(select(Order).order_by(Order.id)))
    assert len(orders) == 2 and first_pay != second_pay
    _pay_sandbox(client, first_pay)
    _pay_sandbox(client, second_pay)
    run_jobs()  # the webhooks, then the refund job they enqueued, then the notices

    enrollments = _enrollments(db_session, buyer)
    assert [(e.status, e.order_id) for e in enrollments] == [
        (EnrollmentStatus.ACTIVE, orders[0].id)
    ]
    first, second = (db_session.get(Order, o.id) for o in orders)
    assert first is not None and second is not None
    assert first.status is OrderStatus.PAID and first.refunded_minor == 0
    assert second.status is OrderStatus.REFUNDED and second.refunded_minor == 3999
    duplicate = latest_payment(db_session, second)
    assert duplicate.flag is PaymentFlag.DUPLICATE and duplicate.flagged_at is not None
    assert duplicate.status is PaymentStatus.REFUNDED and duplicate.refunded_minor == 3999
    refund = db_session.scalars(select(Refund)).one()
    assert (refund.source, refund.status, refund.amount_minor, refund.payment_id) == (
        RefundSource.DUPLICATE,
        RefundStatus.SUCCEEDED,
        3999,
        duplicate.id,
    )
    assert refund.request_key == f"duplicate:{duplicate.token}"
    assert _sandbox(db_session, duplicate).refunded_minor == 3999  # the provider gave it back
    assert any("charged twice" in note for note in _notes(db_session, second.id))
    assert [p.id for p in list_flagged_payments()] == [duplicate.id]
    page = client.get(f"/orders/{second.token}")
    assert "charged twice" in page.text.lower()


def test_a_second_capture_of_a_paid_order_is_refunded_whole(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course("Two tabs", prices={"USD": 2500}).id])
    location = checkout(client, key="two-tabs-key").headers["Location"]
    first_pay = payment_token(location)
    order = db_session.scalars(select(Order)).one()
    retried = client.post(f"/orders/{order.token}/retry", data={"provider": "sandbox"})
    second_pay = payment_token(retried.headers["Location"])
    _pay_sandbox(client, first_pay)
    _pay_sandbox(client, second_pay)  # the other tab
    run_jobs()

    db_session.expire_all()
    order = db_session.get(Order, order.id)  # type: ignore[assignment]
    assert order.status is OrderStatus.PAID and order.refunded_minor == 0  # access is kept
    assert [e.status for e in _enrollments(db_session, buyer)] == [EnrollmentStatus.ACTIVE]
    payments = {p.token: p for p in db_session.scalars(select(Payment))}
    kept, extra = payments[first_pay], payments[second_pay]
    assert kept.status is PaymentStatus.SUCCEEDED and kept.flag is None
    assert extra.flag is PaymentFlag.DUPLICATE
    assert extra.status is PaymentStatus.REFUNDED and extra.refunded_minor == 2500
    refund = db_session.scalars(select(Refund)).one()
    assert (refund.payment_id, refund.amount_minor, refund.status) == (
        extra.id,
        2500,
        RefundStatus.SUCCEEDED,
    )
    assert _sandbox(db_session, extra).refunded_minor == 2500
    assert _sandbox(db_session, kept).refunded_minor == 0
    assert any("charged twice" in note for note in _notes(db_session, order.id))
    # the same capture reported again changes nothing
    run_jobs()
    assert db_session.scalar(select(func.count(Refund.id))) == 1


def test_a_second_stripe_capture_is_refunded_at_stripe(
    providers: None, client: FlaskClient, db_session: Session, buyer: User, stripe_double: Any
) -> None:
    fill_cart(buyer, [make_course("Stripe twice", prices={"USD": 1800}).id])
    assert checkout(client, provider="stripe", key="stripe-twice").status_code == 303
    order = db_session.scalars(select(Order)).one()
    first = latest_payment(db_session, order)
    client.post(f"/orders/{order.token}/retry", data={"provider": "stripe"})
    second = latest_payment(db_session, order)
    assert first.id != second.id
    for payment in (first, second):
        session_obj = stripe_double.complete_session(payment.provider_session_id)
        raw, headers = stripe_double.signed_event(
            "checkout.session.completed", session_obj, STRIPE_WEBHOOK_SECRET
        )
        assert client.post("/webhooks/stripe", data=raw, headers=headers).status_code == 200
    run_jobs()

    db_session.expire_all()
    refund = db_session.scalars(select(Refund)).one()
    extra = db_session.get(Payment, second.id)
    assert extra is not None and extra.flag is PaymentFlag.DUPLICATE
    assert refund.status is RefundStatus.SUCCEEDED and extra.status is PaymentStatus.REFUNDED
    calls = [r for r in stripe_double.requests if r.path == "/v1/refunds" and r.method == "POST"]
    assert [c.idempotency_key for c in calls] == [f"refund-{refund.token}"]
    charge = stripe_double.payment_intent(extra.provider_payment_id)["latest_charge"]
    assert charge["amount_refunded"] == 1800
    assert db_session.get(Order, order.id).status is OrderStatus.PAID  # type: ignore[union-attr]


def test_a_lost_or_failing_refund_job_is_retried_until_it_refunds_once(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    from datetime import timedelta

    import pytest

    from app.extensions import get_redis
    from app.jobs.queues import WORKER_QUEUES, get_queue
    from app.payments.jobs import process_webhook_event, reconcile_payments
    from app.payments.models import SandboxStatus, WebhookEvent
    from app.payments.providers.base import ProviderError
    from app.payments.services import make_refund
    from tests.payments.conftest import queued

    def drop_queued_jobs() -> None:
        for name in WORKER_QUEUES:
            get_queue(name, get_redis()).empty()

    fill_cart(buyer, [make_course("Lost job", prices={"USD": 1200}).id])
    first_pay = payment_token(checkout(client, key="lost-job-key").headers["Location"])
    order = db_session.scalars(select(Order)).one()
    retried = client.post(f"/orders/{order.token}/retry", data={"provider": "sandbox"})
    second_pay = payment_token(retried.headers["Location"])
    _pay_sandbox(client, first_pay)
    _pay_sandbox(client, second_pay)
    drop_queued_jobs()
    for event_id in db_session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.id)):
        process_webhook_event(event_id)
    drop_queued_jobs()  # the refund job never reaches Redis (it was down at commit)
    refund = db_session.scalars(select(Refund)).one()
    assert refund.status is RefundStatus.PENDING

    extra = db_session.scalars(select(Payment).where(Payment.token == second_pay)).one()
    sbx = _sandbox(db_session, extra)
    sbx.status = SandboxStatus.CANCELED  # the provider refuses for now
    db_session.flush()
    with pytest.raises(ProviderError):  # not the last attempt: raised for the job to retry
        make_refund(refund, final_attempt=False)
    db_session.refresh(refund)
    assert refund.status is RefundStatus.PENDING and refund.failure_reason is None
    sbx.status = SandboxStatus.PAID  # the provider is back
    db_session.flush()

    assert reconcile_payments() == 0 and queued("critical") == 0  # too recent to chase
    refund.created_at = refund.created_at - timedelta(minutes=16)
    db_session.flush()
    reconcile_payments()
    assert queued("critical") == 1
    run_jobs()
    db_session.refresh(refund)
    assert refund.status is RefundStatus.SUCCEEDED
    assert _sandbox(db_session, extra).refunded_minor == 1200
    assert len(_sandbox(db_session, extra).refunds) == 1
