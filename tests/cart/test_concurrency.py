"""Coupon reservations under real concurrency against PostgreSQL (committed data, 100 threads)."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.cart import services
from app.cart.models import Coupon, CouponRedemption
from app.checkout.models import Order
from app.core.money import Money
from app.extensions import db
from tests.cart.conftest import make_coupon
from tests.factories import make_user

THREADS = 100


def _orders(user_ids: list[int]) -> list[int]:
    orders = [
        Order(user_id=uid, currency="USD", subtotal_minor=1000, total_minor=1000)
        for uid in user_ids
    ]
    db.session.add_all(orders)
    db.session.flush()
    return [o.id for o in orders]


def _race(app: Flask, coupon_id: int, pairs: list[tuple[int, int]]) -> list[str]:
    results: list[str] = []
    barrier = threading.Barrier(len(pairs))

    def attempt(user_id: int, order_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.reserve_coupon(coupon_id, user_id, order_id, Money(100, "USD"))
                db.session.commit()
                results.append("ok")
            except services.CouponInvalid as err:
                db.session.rollback()
                results.append(err.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _count(coupon_id: int) -> tuple[int, int]:
    uses = db.session.scalar(select(Coupon.uses).where(Coupon.id == coupon_id))
    rows = db.session.scalar(
        select(func.count(CouponRedemption.id)).where(CouponRedemption.coupon_id == coupon_id)
    )
    return int(uses or 0), int(rows or 0)


def test_max_uses_holds_under_100_concurrent_reservations(live_app: Flask, committed: Any) -> None:
    coupon = make_coupon("RACE10", max_uses=10)
    users = [make_user().id for _ in range(THREADS)]
    orders = _orders(users)
    committed.commit()
    results = _race(live_app, coupon.id, list(zip(users, orders, strict=True)))
    assert results.count("ok") == 10
    assert results.count("coupon_used_up") == THREADS - 10
    committed.expire_all()
    assert _count(coupon.id) == (10, 10)


def test_max_uses_per_user_holds_under_100_concurrent_reservations(
    live_app: Flask, committed: Any
) -> None:
    coupon = make_coupon("ONEEACH", max_uses_per_user=1)
    user = make_user().id
    orders = _orders([user] * THREADS)
    committed.commit()
    results = _race(live_app, coupon.id, [(user, order) for order in orders])
    assert results.count("ok") == 1
    assert results.count("coupon_already_used") == THREADS - 1
    committed.expire_all()
    assert _count(coupon.id) == (1, 1)
