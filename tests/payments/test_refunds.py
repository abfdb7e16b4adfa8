"""Refunds per order line: plan, provider refund with one idempotency key, access per course."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import Order, OrderItem, OrderItemStatus, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments import services
from app.payments.models import Payment, PaymentStatus, Refund, RefundSource, SandboxSession
from tests.factories import make_course
from tests.payments.conftest import checkout, fill_cart, order_of, payment_token, run_jobs


def _paid_order(client: FlaskClient, session: Session, buyer: User, currency: str = "INR") -> Order:
    a = make_course("Course A", prices={"INR": 100000, "USD": 1000})
    b = make_course("Course B", prices={"INR": 50000, "USD": 500})
    fill_cart(buyer, [a.id, b.id], currency)
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    order = order_of(session, buyer)
    assert order.status is OrderStatus.PAID
    return order


def _access(session: Session, user: User) -> dict[str, EnrollmentStatus]:
    session.expire_all()
    rows = session.execute(
        select(OrderItem.title, Enrollment.status)
        .join(Enrollment, Enrollment.course_id == OrderItem.course_id)
        .where(Enrollment.user_id == user.id)
    ).all()
    return dict(rows)


def _sandbox(session: Session, order: Order) -> SandboxSession:
    payment = session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    session.refresh(payment)
    sbx = session.get(SandboxSession, payment.provider_session_id)
    assert sbx is not None
    session.refresh(sbx)
    return sbx


def test_refund_one_course_then_the_rest(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order = _paid_order(client, db_session, buyer)
    assert order.tax_minor == 27000  # 18% GST on 1500.00
    runner = app.test_cli_runner()
    course_a = db_session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id, OrderItem.title == "Course A")
    ).one()
    slug = course_a.course_id
    from app.catalog.models import Course

    slug = db_session.get(Course, course_a.course_id).slug  # type: ignore[union-attr]
    plan = runner.invoke(
        args=["orders", "refund", order.token, "--course", slug, "--reason", "wrong course"],
        input="n\n",
    )
    assert "Course A: ₹1,180.00 (tax ₹180.00), access ends" in plan.output
    assert plan.exit_code != 0  # declined at the prompt: nothing happened
    assert db_session.scalars(select(Refund)).first() is None

    done = runner.invoke(
        args=[
            "orders",
            "refund",
            order.token,
            "--course",
            slug,
            "--reason",
            "wrong course",
            "--yes",
        ]
    )
    assert done.exit_code == 0, done.output
    assert "queued" in done.output
    assert order_of(db_session, buyer).refunded_minor == 0  # the job makes it
    run_jobs()
    order = order_of(db_session, buyer)
    assert (order.status, order.refunded_minor) == (OrderStatus.PARTIALLY_REFUNDED, 118000)
    assert _access(db_session, buyer) == {
        "Course A": EnrollmentStatus.DROPPED,
        "Course B": EnrollmentStatus.ACTIVE,
    }
    refund = db_session.scalars(select(Refund)).one()
    assert (refund.amount_minor, refund.tax_minor, refund.source) == (
        118000,
        18000,
        RefundSource.ADMIN,
    )
    assert _sandbox(db_session, order).refunded_minor == 118000

    again = runner.invoke(
        args=["orders", "refund", order.token, "--course", slug, "--reason", "x", "--yes"]
    )
    assert again.exit_code != 0 and "not in this order or was refunded already" in again.output
    over = runner.invoke(
        args=["orders", "refund", order.token, "--amount", "60000", "--reason", "x", "--yes"]
    )
    assert over.exit_code != 0 and "more than was paid" in over.output

    rest = runner.invoke(
        args=["orders", "refund", order.token, "--reason", "changed my mind", "--yes"]
    )
    assert rest.exit_code == 0, rest.output
    run_jobs()
    order = order_of(db_session, buyer)
    assert (order.status, order.refunded_minor) == (OrderStatus.REFUNDED, order.total_minor)
    assert set(_access(db_session, buyer).values()) == {EnrollmentStatus.DROPPED}
    payment = db_session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    assert payment.status is PaymentStatus.REFUNDED
    run_jobs()  # refund notices
    page = client.get(f"/orders/{order.token}")
    assert "Refunded" in page.text


def test_the_same_refund_request_twice_refunds_once(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order = _paid_order(client, db_session, buyer)
    plan = services.plan_refund(order, amount=10000)
    first = services.request_refund(plan, RefundSource.ADMIN, "goodwill", "ticket-42")
    services.make_refund(first)
    second = services.request_refund(
        services.plan_refund(order_of(db_session, buyer), amount=10000),
        RefundSource.ADMIN,
        "goodwill",
        "ticket-42",
    )
    assert second.id == first.id
    services.make_refund(second)
    assert len(db_session.scalars(select(Refund)).all()) == 1
    assert _sandbox(db_session, order).refunded_minor == 10000
    assert len(_sandbox(db_session, order).refunds) == 1
    # an amount-only refund drops nobody: no line is fully covered
    assert set(_access(db_session, buyer).values()) == {EnrollmentStatus.ACTIVE}


def test_provider_refund_is_idempotent_on_its_key(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    from app.payments.providers import get_provider

    order = _paid_order(client, db_session, buyer)
    payment = db_session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    provider = get_provider("sandbox")
    one = provider.refund(payment, 5000, "refund-abc")
    two = provider.refund(payment, 5000, "refund-abc")
    assert one.refund_id == two.refund_id
    assert _sandbox(db_session, order).refunded_minor == 5000


def test_student_self_service_refund(client: FlaskClient, db_session: Session, buyer: User) -> None:
    order = _paid_order(client, db_session, buyer)
    items = {
        i.title: i.course_id
        for i in db_session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))
    }
    page = client.get(f"/orders/{order.token}/refund")
    assert page.status_code == 200 and "Course A" in page.text
    preview = client.get(
        f"/orders/{order.token}/refund?courses={items['Course B']}", headers={"HX-Request": "true"}
    )
    assert "₹590.00" in preview.text and "<html" not in preview.text  # 500 + 18% GST
    unconfirmed = client.post(
        f"/orders/{order.token}/refund",
        data={"courses": items["Course B"], "request_key": "k" * 10},
    )
    assert (
        unconfirmed.status_code == 422
        and "Tick the box" in unconfirmed.text
        and db_session.scalars(select(Refund)).first() is None
    )
    done = client.post(
        f"/orders/{order.token}/refund",
        data={
            "courses": items["Course B"],
            "confirm": "y",
            "request_key": "k" * 10,
            "reason": "not for me",
        },
    )
    assert done.status_code == 303
    run_jobs()
    assert _access(db_session, buyer) == {
        "Course A": EnrollmentStatus.ACTIVE,
        "Course B": EnrollmentStatus.DROPPED,
    }
    # the same form sent again refunds nothing more
    client.post(
        f"/orders/{order.token}/refund",
        data={"courses": items["Course B"], "confirm": "y", "request_key": "k" * 10},
    )
    assert len(db_session.scalars(select(Refund)).all()) == 1


@pytest.mark.parametrize(
    ("days", "progress", "message"), [(15, 0, "within 14 days"), (1, 30, "30% watched")]
)
def test_refund_policy_refusals(
    client: FlaskClient, db_session: Session, buyer: User, days: int, progress: int, message: str
) -> None:
    order = _paid_order(client, db_session, buyer)
    order.paid_at = order.paid_at - timedelta(days=days)  # type: ignore[operator]
    item = db_session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id, OrderItem.title == "Course A")
    ).one()
    enrollment = db_session.scalars(
        select(Enrollment).where(
            Enrollment.user_id == buyer.id, Enrollment.course_id == item.course_id
        )
    ).one()
    enrollment.progress = progress
    db_session.flush()
    response = client.post(
        f"/orders/{order.token}/refund",
        data={"courses": item.course_id, "confirm": "y", "request_key": "p" * 10},
    )
    assert response.status_code == 422 and message in response.text.replace("&#39;", "'")
    assert db_session.scalars(select(Refund)).first() is None
    assert item.status is OrderItemStatus.ACTIVE
