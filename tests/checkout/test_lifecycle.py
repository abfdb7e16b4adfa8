"""Checkout owns the order lifecycle: every way an order gets fulfilled (free, paid by webhook,
paid by the browser's return) goes through fulfil_order and its one grant table, and payments
never writes an order's state itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout import lifecycle
from app.checkout.models import LineKind, Order, OrderItem, OrderStatus
from app.extensions import db
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.models import Payment
from tests.cart.conftest import make_coupon
from tests.factories import make_course
from tests.payments.conftest import checkout, fill_cart, order_of, payment_token, run_jobs

APP = Path(__file__).resolve().parents[2] / "app"
CARD = {"action": "pay", "card": "4242424242424242"}


@pytest.fixture
def grants(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every call of the grant table, as (order id, order item id)."""
    calls: list[tuple[int, int]] = []
    real = lifecycle.GRANTS[LineKind.COURSE]

    def spy(order: Order, item: OrderItem) -> bool:
        calls.append((order.id, item.id))
        return real(order, item)

    monkeypatch.setitem(lifecycle.GRANTS, LineKind.COURSE, spy)
    return calls


def _free_course(client: FlaskClient, buyer: User, stripe_double: Any) -> None:
    course = make_course("Free intro", prices={"USD": 0})
    assert client.post(f"/courses/{course.slug}/enroll").status_code == 303


def _zero_total(client: FlaskClient, buyer: User, stripe_double: Any) -> None:
    make_coupon("ALLFREE", percent_off_bp=10000)
    fill_cart(buyer, [make_course("Gift A", prices={"USD": 900}).id])
    client.post("/cart/coupon", data={"code": "ALLFREE"})
    assert checkout(client).status_code == 303


def _paid(client: FlaskClient, buyer: User) -> str:
    a = make_course("Paid A", prices={"USD": 1500}).id
    fill_cart(buyer, [a, make_course("Paid B", prices={"USD": 700}).id])
    token = payment_token(checkout(client).headers["Location"])
    paid = client.post(f"/pay/{token}/sandbox", data=CARD)
    assert paid.status_code == 303
    return str(paid.headers["Location"])


def _by_webhook(client: FlaskClient, buyer: User, stripe_double: Any) -> None:
    _paid(client, buyer)
    run_jobs()  # the webhook's job fulfils


def _by_return(client: FlaskClient, buyer: User, stripe_double: Any) -> None:
    fill_cart(buyer, [make_course("Stripe A", prices={"USD": 2500}).id])
    assert checkout(client, provider="stripe", key="stripe-return").status_code == 303
    payment = db.session.scalars(select(Payment)).one()
    stripe_double.complete_session(payment.provider_session_id)
    # the browser comes back before any webhook: the return handler fulfils
    back = client.get(f"/checkout/return/stripe?session_id={payment.provider_session_id}")
    assert back.status_code == 303


@pytest.mark.usefixtures("providers")
@pytest.mark.parametrize(
    "fulfil",
    [_free_course, _zero_total, _by_webhook, _by_return],
    ids=["free course", "total of zero", "paid by webhook", "paid by return"],
)
def test_every_path_grants_each_line_once_through_the_grant_table(
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    grants: list[tuple[int, int]],
    fulfil: Callable[[FlaskClient, User, Any], None],
    stripe_double: Any,
) -> None:
    fulfil(client, buyer, stripe_double)
    run_jobs()  # the receipt, and anything else that came after (nothing grants twice)
    order = order_of(db_session, buyer)
    assert order.status in (OrderStatus.PAID, OrderStatus.COMPLETED)
    assert order.fulfilled_at is not None
    items = db_session.scalars(select(OrderItem.id).where(OrderItem.order_id == order.id)).all()
    assert sorted(grants) == sorted((order.id, item) for item in items)
    enrollments = db_session.scalars(select(Enrollment).where(Enrollment.user_id == buyer.id))
    assert [(e.status, e.order_id) for e in enrollments] == [
        (EnrollmentStatus.ACTIVE, order.id)
    ] * len(items)


def test_fulfil_order_twice_grants_once(
    client: FlaskClient, db_session: Session, buyer: User, grants: list[tuple[int, int]]
) -> None:
    _by_webhook(client, buyer, None)
    order = order_of(db_session, buyer)
    before = (order.status, order.fulfilled_at, len(grants))
    done = lifecycle.fulfil_order(order, "sandbox again")
    assert done.done_before and (order.status, order.fulfilled_at, len(grants)) == before


# What only checkout may write: an order's status, its fulfilment, coupon uses, enrollments.
ORDER_WRITES = re.compile(
    r"\btransition\(|\bredeem_|release_coupon|grant_enrollment|drop_enrollment|restore_cart"
    r"|\border\.\w+\s*[+-]?=(?!=)|\bitem\.\w+\s*[+-]?=(?!=)"
)


def test_payments_never_writes_order_state() -> None:
    found = [
        f"{path.relative_to(APP)}:{n}: {line.strip()}"
        for path in sorted((APP / "payments").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ORDER_WRITES.search(line)
    ]
    assert found == []


def test_payment_services_never_import_the_job_module() -> None:
    """The jobs import the services; a service names a job by its dotted path instead."""
    found = [
        str(path.relative_to(APP))
        for path in sorted((APP / "payments" / "services").rglob("*.py"))
        if "app.payments.jobs import" in path.read_text()
    ]
    assert found == []
