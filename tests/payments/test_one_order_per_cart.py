"""One cart yields one open order: concurrent checkouts with their own keys land on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart import services as cart_services
from app.cart.queries import get_user_cart
from app.checkout.models import Order, OrderStatus
from app.payments.models import Payment, SandboxSession
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import checkout, fill_cart, order_of

ATTEMPTS = 5


def _race(
    live_app: Flask, send: Callable[[FlaskClient, int], Any], session_id: str | None = None
) -> list[Any]:
    """Send ATTEMPTS requests at once, each from its own client; an exception counts as a 500."""
    live_app.test_client_class = IsolatedClient
    clients = [live_app.test_client() for _ in range(ATTEMPTS)]
    for c in clients:
        if session_id is not None:
            login_as(c, session_id)
    results: list[Any] = []
    barrier = threading.Barrier(ATTEMPTS)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            results.append(send(clients[n], n))
        except Exception as exc:  # a 500 propagates in testing mode: record it, don't hang
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_five_checkout_pages_of_one_cart_make_one_order(live_app: Flask, committed: Any) -> None:
    user = make_user(email="tabs@example.com")
    fill_cart(user, [make_course("One course", prices={"USD": 3999}).id])
    session_id = user.get_id()
    committed.commit()

    def send(c: FlaskClient, n: int) -> Any:
        return checkout(c, key=f"tab-{n}-key-000")

    results = _race(live_app, send, session_id)
    assert [getattr(r, "status_code", r) for r in results] == [303] * ATTEMPTS
    committed.expire_all()
    assert committed.scalar(select(func.count(Order.id))) == 1
    assert committed.scalar(select(func.count(Payment.id))) == 1
    assert committed.scalar(select(func.count(SandboxSession.id))) == 1
    order = committed.scalars(select(Order)).one()
    payment = committed.scalars(select(Payment)).one()
    locations = [r.headers["Location"] for r in results]
    pay_page = [loc for loc in locations if f"/pay/{payment.token}" in loc]
    order_page = [loc for loc in locations if loc.endswith(f"/orders/{order.token}")]
    assert len(pay_page) == 1 and len(order_page) == ATTEMPTS - 1, locations
    assert order.cart_token is not None and order.status is OrderStatus.AWAITING_PAYMENT


def test_five_api_orders_for_one_cart_make_one_order(live_app: Flask, committed: Any) -> None:
    user = make_user(email="api-tabs@example.com")
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course("Api course", prices={"USD": 3999}).id, user)
    token = cart.token
    session_id = user.get_id()
    committed.commit()

    def send(c: FlaskClient, n: int) -> Any:
        headers = {"Idempotency-Key": f"api-tab-{n}-000"}
        return c.post("/api/v1/order", json={"cart_token": token}, headers=headers)

    results = _race(live_app, send, session_id)
    assert [getattr(r, "status_code", r) for r in results] == [200] * ATTEMPTS
    committed.expire_all()
    order = committed.scalars(select(Order)).one()
    assert committed.scalar(select(func.count(Payment.id))) == 1
    assert {r.json["data"]["order"]["order_token"] for r in results} == {order.token}
    # each key replays its own answer: the same order again, never a new one
    c = live_app.test_client()
    login_as(c, session_id)
    again = c.post(
        "/api/v1/order", json={"cart_token": token}, headers={"Idempotency-Key": "api-tab-3-000"}
    )
    assert again.json["data"]["replayed"] is True
    assert again.json["data"]["order"]["order_token"] == order.token
    committed.expire_all()
    assert committed.scalar(select(func.count(Order.id))) == 1


def test_a_second_checkout_of_an_ordered_cart_lands_on_its_order(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course(prices={"USD": 1500}).id])
    first = checkout(client, key="first-tab-key")
    second = checkout(client, key="second-tab-key")
    order = order_of(db_session, buyer)
    assert "/pay/" in first.headers["Location"]
    assert second.status_code == 303 and second.headers["Location"].endswith(
        f"/orders/{order.token}"
    )
    assert db_session.scalar(select(func.count(Order.id))) == 1
    page = client.get(second.headers["Location"])
    assert page.status_code == 200
    # a cart filled again after ordering is a new order
    cart = get_user_cart(buyer.id)
    assert cart is not None
    cart_services.add_course(cart, make_course("Another", prices={"USD": 700}).id, buyer)
    third = checkout(client, key="third-tab-key")
    assert "/pay/" in third.headers["Location"]
    assert db_session.scalar(select(func.count(Order.id))) == 2
