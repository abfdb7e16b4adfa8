"""The same refund form sent ten times at once: one refund, and every answer a normal one."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.cart import services as cart_services
from app.checkout.models import Order, OrderItem, OrderStatus
from app.checkout.services import place_order
from app.extensions import db
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.models import Payment, Refund, RefundStatus, SandboxSession, SandboxStatus
from app.payments.providers.base import FactStatus, PaymentFacts
from app.payments.services import fulfil_payment, start_payment
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import queued, run_jobs

SENDS = 10


def _paid_order(email: str) -> tuple[str, Order]:
    user = make_user(email=email)
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course("Refund me", prices={"USD": 2000}).id, user)
    order = place_order(user, cart)
    payment = start_payment(order, "sandbox")
    sbx = db.session.get(SandboxSession, payment.provider_session_id)
    assert sbx is not None
    sbx.status, sbx.charge_id = SandboxStatus.PAID, "sbx_ch_refund_race"
    facts = PaymentFacts(
        status=FactStatus.PAID,
        session_id=sbx.id,
        payment_id=sbx.charge_id,
        amount=sbx.amount_minor,
        currency=sbx.currency,
    )
    fulfil_payment(payment, facts)
    db.session.commit()
    return user.get_id(), order


def _send_all(live_app: Flask, session_id: str, url: str, forms: list[dict[str, Any]]) -> list[Any]:
    """Post each form from its own client at the same moment: (client, response or exception)."""
    live_app.test_client_class = IsolatedClient
    clients = [live_app.test_client() for _ in forms]
    for c in clients:
        login_as(c, session_id)
    answers: list[Any] = []
    barrier = threading.Barrier(len(forms))

    def send(n: int) -> None:
        barrier.wait()
        try:
            answers.append((clients[n], clients[n].post(url, data=forms[n])))
        except Exception as exc:  # a 500 propagates in testing mode: record it
            answers.append((clients[n], exc))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(forms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_ten_identical_refund_forms_at_once(live_app: Flask, committed: Any) -> None:
    session_id, order = _paid_order("refund-race@example.com")
    item = committed.scalars(select(OrderItem).where(OrderItem.order_id == order.id)).one()
    data = {"courses": item.course_id, "confirm": "y", "request_key": "same-form-key-1"}
    answers = _send_all(live_app, session_id, f"/orders/{order.token}/refund", [data] * SENDS)

    failures = [a for _, a in answers if not hasattr(a, "status_code") or a.status_code >= 500]
    assert failures == []
    assert [a.status_code for _, a in answers] == [303] * SENDS
    committed.expire_all()
    assert committed.scalars(select(Refund)).one().status is RefundStatus.PENDING
    assert queued("critical") == 1  # ten sends, one refund job
    run_jobs()
    committed.expire_all()
    refund = committed.scalars(select(Refund)).one()
    assert refund.status is RefundStatus.SUCCEEDED and refund.amount_minor == 2000
    payment = committed.get(Payment, refund.payment_id)
    sbx = committed.get(SandboxSession, payment.provider_session_id)
    assert sbx.refunded_minor == 2000 and len(sbx.refunds) == 1
    order = committed.get(Order, order.id)
    assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 2000
    enrollment = committed.scalars(select(Enrollment)).one()
    assert enrollment.status is EnrollmentStatus.DROPPED
    # every answer tells its sender where the refund stands
    pages = [c.get(a.headers["Location"]).text for c, a in answers]
    assert sum("on its way" in p for p in pages) == 1
    assert sum("already asked for this refund" in p for p in pages) == SENDS - 1


def test_two_tabs_asking_for_the_same_course_refund_it_once(
    live_app: Flask, committed: Any
) -> None:
    session_id, order = _paid_order("refund-tabs@example.com")
    item = committed.scalars(select(OrderItem).where(OrderItem.order_id == order.id)).one()
    forms = [  # each tab rendered its own request key
        {"courses": item.course_id, "confirm": "y", "request_key": f"tab-{n}-key-000"}
        for n in range(2)
    ]
    answers = _send_all(live_app, session_id, f"/orders/{order.token}/refund", forms)
    codes = sorted(getattr(a, "status_code", 500) for _, a in answers)
    assert codes == [303, 422]
    refused = next(a for _, a in answers if a.status_code == 422)
    assert "already" in refused.text
    committed.expire_all()
    assert committed.scalar(select(func.count(Refund.id))) == 1
