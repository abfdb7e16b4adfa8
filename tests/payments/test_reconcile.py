"""Scheduled jobs: reconciliation when a webhook never comes, order expiry, the daily report."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart.models import Coupon, CouponRedemption, RedemptionStatus
from app.checkout.models import OrderStatus
from app.core.models import utcnow
from app.extensions import get_redis
from app.jobs.queues import WORKER_QUEUES, get_queue
from app.learning.models import Enrollment
from app.payments.jobs import expire_unpaid_orders, reconcile_payments, write_daily_report
from app.payments.models import DailyReport, Payment, PaymentStatus
from tests.cart.conftest import make_coupon
from tests.factories import make_course
from tests.payments.conftest import (
    checkout,
    fill_cart,
    order_of,
    pay_with_sandbox,
    payment_token,
    run_jobs,
)


def _drop_queued_jobs() -> None:
    for name in WORKER_QUEUES:
        get_queue(name, get_redis()).empty()


def _age_payments(session: Session, minutes: int) -> None:
    for payment in session.scalars(select(Payment)):
        payment.created_at = payment.created_at - timedelta(minutes=minutes)
    session.flush()


def test_a_webhook_that_never_arrives_is_reconciled(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course(prices={"USD": 1200})
    pay_with_sandbox(client, buyer, [course.id])
    _drop_queued_jobs()  # the provider's webhook is lost
    assert reconcile_payments() == 0  # too recent to chase yet
    _age_payments(db_session, 16)
    assert reconcile_payments() == 1
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID
    assert db_session.scalars(select(Enrollment).where(Enrollment.user_id == buyer.id)).one()


def test_reconciliation_fails_a_declined_payment(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course(prices={"USD": 1200}).id])
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "decline"})
    _drop_queued_jobs()
    _age_payments(db_session, 20)
    reconcile_payments()
    assert order_of(db_session, buyer).status is OrderStatus.FAILED


def test_a_payment_after_expiry_is_honoured(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    make_coupon("SOLO", max_uses=1)
    fill_cart(buyer, [make_course(prices={"USD": 3000}).id])
    client.post("/cart/coupon", data={"code": "SOLO"})
    token = payment_token(checkout(client).headers["Location"])
    order = order_of(db_session, buyer)
    order.expires_at = utcnow() - timedelta(minutes=1)
    db_session.flush()
    assert expire_unpaid_orders() == 1
    coupon = db_session.scalars(select(Coupon).where(Coupon.code == "SOLO")).one()
    assert coupon.uses == 0
    # the buyer had the payment page open and pays anyway
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.PAID
    db_session.refresh(coupon)
    assert coupon.uses == 1
    assert db_session.scalars(select(CouponRedemption)).one().status is RedemptionStatus.REDEEMED


def test_daily_report(client: FlaskClient, db_session: Session, buyer: User) -> None:
    pay_with_sandbox(client, buyer, [make_course(prices={"USD": 1200}).id])
    run_jobs()
    order = order_of(db_session, buyer)
    yesterday = utcnow() - timedelta(days=1)
    order.paid_at = yesterday
    for payment in db_session.scalars(select(Payment).where(Payment.order_id == order.id)):
        payment.created_at = payment.succeeded_at = yesterday
        assert payment.status is PaymentStatus.SUCCEEDED
    db_session.flush()
    day = write_daily_report()
    report = db_session.scalars(select(DailyReport)).one()
    assert report.day.isoformat() == day
    assert (report.orders_paid, report.revenue, report.payments_started, report.success_rate) == (
        1,
        {"USD": 1200},
        1,
        1.0,
    )
    write_daily_report()  # rewritten, not duplicated
    assert len(db_session.scalars(select(DailyReport)).all()) == 1
