"""A late payment honoured past its coupon's limit is recorded, never silent."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart.models import CouponEvent, CouponEventKind
from app.cart.queries import list_coupon_events
from app.checkout.models import OrderEvent, OrderStatus
from app.core.models import utcnow
from app.payments.jobs import expire_unpaid_orders
from app.payments.services.reconcile import build_daily_report
from tests.cart.conftest import make_coupon
from tests.conftest import login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import checkout, fill_cart, order_of, payment_token, run_jobs


def _pay(client: FlaskClient, token: str) -> None:
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})


def test_a_late_payment_past_the_coupon_limit_is_an_overage(
    app: object, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course(prices={"USD": 3000})
    coupon = make_coupon("SOLO", max_uses=1)
    fill_cart(buyer, [course.id])
    client.post("/cart/coupon", data={"code": "SOLO"})
    late_token = payment_token(checkout(client, key="late-buyer-1").headers["Location"])
    late = order_of(db_session, buyer)
    late.expires_at = utcnow() - timedelta(minutes=1)
    db_session.flush()
    assert expire_unpaid_orders() == 1  # its coupon use went back ...

    other = make_user(email="other@example.com")
    fill_cart(other, [course.id])
    other_client = app.test_client()  # type: ignore[attr-defined]
    login_as(other_client, other)
    other_client.post("/cart/coupon", data={"code": "SOLO"})
    _pay(other_client, payment_token(checkout(other_client, key="on-time-1").headers["Location"]))
    run_jobs()
    db_session.refresh(coupon)
    assert coupon.uses == 1  # ... and someone else took it, within the limit

    _pay(client, late_token)  # the first buyer had the payment page open and pays anyway
    run_jobs()
    late = order_of(db_session, buyer)
    assert late.status is OrderStatus.PAID  # honoured
    db_session.refresh(coupon)
    assert coupon.uses == 2
    event = db_session.scalars(select(CouponEvent)).one()
    assert (event.kind, event.coupon_id, event.order_id, event.uses_before, event.use_limit) == (
        CouponEventKind.OVERAGE,
        coupon.id,
        late.id,
        1,
        1,
    )
    assert [e.id for e in list_coupon_events(coupon.id)] == [event.id]
    notes = db_session.scalars(select(OrderEvent.note).where(OrderEvent.order_id == late.id))
    assert any("SOLO" in n and "past its limit" in n for n in notes)
    report = build_daily_report(utcnow().date())
    assert report.coupon_overages == 1
    assert build_daily_report(utcnow().date() - timedelta(days=1)).coupon_overages == 0
