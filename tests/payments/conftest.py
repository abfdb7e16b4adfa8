"""Helpers for payment tests: buying through the real views and running real RQ workers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart import services as cart_services
from app.checkout.models import Order, OrderStatus
from app.checkout.services import place_order
from app.extensions import db, get_redis
from app.jobs.context import AppJob
from app.jobs.queues import WORKER_QUEUES, get_queue
from app.payments.models import Payment, SandboxSession, SandboxStatus
from app.payments.providers import sandbox_secret
from app.payments.providers.sandbox import event_body, sign
from app.payments.services import ingest_webhook, start_payment
from tests.conftest import login_as
from tests.factories import make_course


def run_jobs(max_rounds: int = 10) -> int:
    """Run every queued job with a real RQ worker (burst, in this process) until none is left."""
    redis = get_redis()
    queues = [get_queue(q, redis) for q in WORKER_QUEUES]
    rounds = 0
    while any(q.count for q in queues) and rounds < max_rounds:
        SimpleWorker(queues, connection=redis, job_class=AppJob).work(burst=True)
        rounds += 1
    return rounds


def queued(name: str | None = None) -> int:
    redis = get_redis()
    return sum(get_queue(q, redis).count for q in WORKER_QUEUES if name in (None, q.value))


def fill_cart(user: User, course_ids: Iterable[int], currency: str = "USD") -> None:
    cart = cart_services.open_cart(currency, user)
    for course_id in course_ids:
        cart_services.add_course(cart, course_id, user)
    db.session.flush()


def checkout(
    client: FlaskClient, provider: str = "sandbox", key: str = "key-0000001", **extra: Any
) -> Any:
    data = {"provider": provider, "accept_terms": "y", "idempotency_key": key, **extra}
    return client.post("/checkout", data=data)


def order_of(session: Session, user: User) -> Order:
    session.expire_all()
    return session.scalars(
        select(Order).where(Order.user_id == user.id).order_by(Order.id.desc())
    ).first()  # type: ignore[return-value]


def payment_token(location: str) -> str:
    found = re.search(r"/pay/([0-9a-f-]{36})", location)
    assert found, location
    return found.group(1)


def paid_course_order(
    client: FlaskClient, session: Session, user: User, title: str = "Refundable"
) -> tuple[Order, int]:
    """A one-course order paid through the sandbox and fulfilled by a worker; (order, course id)
    (the refund form names courses, not order lines)."""
    course = make_course(title, prices={"USD": 2000})
    pay_with_sandbox(client, user, [course.id])
    run_jobs()
    order = order_of(session, user)
    assert order.status is OrderStatus.PAID
    return order, course.id


def pay_with_sandbox(
    client: FlaskClient, user: User, course_ids: Iterable[int], card: str = "4242424242424242"
) -> str:
    """Fill the user's cart, check out with the sandbox and submit the card; the pay token."""
    fill_cart(user, course_ids)
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": card})
    return token


def latest_payment(session: Session, order: Order) -> Payment:
    session.expire_all()
    stmt = select(Payment).where(Payment.order_id == order.id).order_by(Payment.attempt.desc())
    return session.scalars(stmt).first()  # type: ignore[return-value]


@pytest.fixture
def buyer(app: Flask, client: FlaskClient, db_session: Session) -> User:
    from tests.factories import make_user

    user = make_user(email="buyer@example.com", name="Bea Buyer")
    login_as(client, user)
    return user


@pytest.fixture
def mailbox(app: Flask, tmp_path: Any) -> Any:
    """Emails are written as .eml files; point them at a fresh folder."""
    old = app.config["INSTANCE_PATH"], app.config["SMTP_URL"]
    app.config["INSTANCE_PATH"], app.config["SMTP_URL"] = str(tmp_path), ""
    yield tmp_path / "mail"
    app.config["INSTANCE_PATH"], app.config["SMTP_URL"] = old


STRIPE_WEBHOOK_SECRET = "whsec_test_coursefront"
RAZORPAY_WEBHOOK_SECRET = "rzp_webhook_secret"


@pytest.fixture
def providers(app: Flask, stripe_double: Any, razorpay_double: Any) -> Any:
    """Stripe and Razorpay configured against the doubles (the sandbox stays on as well)."""
    settings = {
        "STRIPE_SECRET_KEY": "sk_test_coursefront",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_double.url,
        "RAZORPAY_KEY_ID": razorpay_double.key_id,
        "RAZORPAY_KEY_SECRET": razorpay_double.key_secret,
        "RAZORPAY_WEBHOOK_SECRET": RAZORPAY_WEBHOOK_SECRET,
        "RAZORPAY_API_BASE": razorpay_double.url,
        "SANDBOX_PAYMENTS": "on",
    }
    old = {k: app.config[k] for k in settings}
    app.config.update(settings)
    stripe_double.clear_requests()
    razorpay_double.clear_requests()
    yield
    app.config.update(old)


def paid_sandbox_event(user: User, title: str) -> tuple[int, int]:
    """Commit an order for a new course and a signed, stored "paid" sandbox webhook for it, not
    yet processed: (order id, webhook event id), for tests that run the job themselves."""
    course = make_course(title, prices={"USD": 4000})
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, course.id, user)
    order = place_order(user, cart)
    payment = start_payment(order, "sandbox")
    sbx = db.session.get(SandboxSession, payment.provider_session_id)
    assert sbx is not None
    sbx.status, sbx.charge_id = SandboxStatus.PAID, f"sbx_ch_{order.id}"
    body = event_body(sbx, "payment.succeeded")
    ingested = ingest_webhook(
        "sandbox", body, {"X-Sandbox-Signature": sign(sandbox_secret(), body)}
    )
    db.session.commit()
    return order.id, ingested.event_id
