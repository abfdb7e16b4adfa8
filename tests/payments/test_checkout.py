"""POST /checkout: server-side prices, idempotency keys, concurrency, coupon races."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart.models import Coupon
from app.checkout.models import IdempotencyKey, Order, OrderStatus
from app.payments.models import Payment, SandboxSession
from tests.cart.conftest import make_coupon
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import checkout, fill_cart, order_of


def test_visitors_log_in_first_and_come_back(client: FlaskClient, db_session: Session) -> None:
    response = client.get("/checkout")
    assert response.status_code == 302 and "/login?next=%2Fcheckout" in response.headers["Location"]


def test_terms_and_a_provider_are_required(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course(prices={"USD": 1000}).id])
    no_terms = client.post("/checkout", data={"provider": "sandbox", "idempotency_key": "k" * 12})
    assert no_terms.status_code == 422 and "accept the terms" in no_terms.text
    bad_provider = checkout(client, provider="paypal")
    assert bad_provider.status_code == 422 and "Not a valid choice" in bad_provider.text
    assert db_session.scalars(select(Order)).first() is None


def test_prices_come_from_the_server(client: FlaskClient, db_session: Session, buyer: User) -> None:
    fill_cart(buyer, [make_course(prices={"USD": 4200}).id])
    checkout(client, total="1", amount="1", price="0")
    order = order_of(db_session, buyer)
    assert order.total_minor == 4200
    payment = db_session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    assert (
        payment.amount_minor
        == db_session.get(SandboxSession, payment.provider_session_id).amount_minor
        == 4200
    )  # type: ignore[union-attr]


def test_same_key_replays_and_a_different_request_is_refused(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course(prices={"USD": 1000}).id])
    first = checkout(client, key="same-key-123")
    again = checkout(client, key="same-key-123")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert db_session.scalar(select(func.count(Order.id))) == 1
    assert db_session.scalar(select(func.count(Payment.id))) == 1
    other = client.post(
        "/checkout",
        data={
            "provider": "sandbox",
            "accept_terms": "y",
            "idempotency_key": "same-key-123",
            "x": "1",
        },
    )
    assert other.headers["Location"] == first.headers["Location"]  # junk fields are not the request
    assert db_session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_a_key_reused_for_another_request_is_refused(db_session: Session) -> None:
    import pytest

    from app.checkout.idempotency import IdempotencyConflict, claim_key, request_hash

    user = make_user()
    row, first = claim_key(
        user.id, "checkout", "reused-key-1", request_hash({"provider": "stripe"})
    )
    assert first
    same, again = claim_key(
        user.id, "checkout", "reused-key-1", request_hash({"provider": "stripe"})
    )
    assert same.id == row.id and not again
    with pytest.raises(IdempotencyConflict):
        claim_key(user.id, "checkout", "reused-key-1", request_hash({"provider": "razorpay"}))
    # keys belong to their user
    assert claim_key(make_user().id, "checkout", "reused-key-1", request_hash({"p": 1}))[1]


def test_50_concurrent_checkouts_with_one_key(live_app: Flask, committed: Any) -> None:
    user = make_user(email="racer@example.com")
    fill_cart(user, [make_course("Race", prices={"USD": 1000}).id])
    session_id = user.get_id()
    committed.commit()
    live_app.test_client_class = IsolatedClient
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(50)

    def attempt() -> None:
        c = live_app.test_client()
        login_as(c, session_id)
        barrier.wait()
        r = checkout(c, key="one-key-for-all")
        results.append((r.status_code, r.headers.get("Location", "")))

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [code for code, _ in results] == [303] * 50
    assert len({loc for _, loc in results}) == 1
    committed.expire_all()
    assert committed.scalar(select(func.count(Order.id))) == 1
    assert committed.scalar(select(func.count(Payment.id))) == 1
    assert committed.scalar(select(func.count(SandboxSession.id))) == 1


def test_last_coupon_use_goes_to_one_of_two_students(live_app: Flask, committed: Any) -> None:
    course = make_course("Popular", prices={"USD": 2000})
    make_coupon("LASTONE", max_uses=1)
    students = [make_user(email=f"s{i}@example.com") for i in range(2)]
    clients = []
    for student in students:
        fill_cart(student, [course.id])
        committed.flush()
    session_ids = [s.get_id() for s in students]
    committed.commit()
    live_app.test_client_class = IsolatedClient
    for session_id in session_ids:
        c = live_app.test_client()
        login_as(c, session_id)
        assert c.post("/cart/coupon", data={"code": "LASTONE"}).status_code == 303
        clients.append(c)
    barrier = threading.Barrier(2)
    outcomes: list[tuple[int, str]] = []

    def attempt(c: FlaskClient, n: int) -> None:
        barrier.wait()
        r = checkout(c, key=f"coupon-race-{n}")
        outcomes.append((r.status_code, r.text))

    threads = [threading.Thread(target=attempt, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in outcomes)
    assert codes == [303, 422]
    refused = next(text for code, text in outcomes if code == 422)
    assert "used up" in refused
    committed.expire_all()
    assert committed.scalar(select(Coupon.uses).where(Coupon.code == "LASTONE")) == 1
    assert committed.scalar(select(func.count(Order.id))) == 1


def test_an_expired_unpaid_order_gives_its_coupon_back(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    from datetime import timedelta

    from app.payments.jobs import expire_unpaid_orders

    make_coupon("ONCEONLY", max_uses=1)
    fill_cart(buyer, [make_course(prices={"USD": 2000}).id])
    client.post("/cart/coupon", data={"code": "ONCEONLY"})
    checkout(client)
    order = order_of(db_session, buyer)
    coupon = db_session.scalars(select(Coupon).where(Coupon.code == "ONCEONLY")).one()
    assert coupon.uses == 1
    order.expires_at = order.expires_at - timedelta(hours=2)  # type: ignore[operator]
    db_session.flush()
    assert expire_unpaid_orders() == 1
    db_session.refresh(coupon)
    assert coupon.uses == 0
    assert order_of(db_session, buyer).status is OrderStatus.EXPIRED
