"""The order console: search, an order's page, refunds (plan first, then the refund job),
receipt resends and reconciliation, each audited; real database, Redis and RQ worker."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, User
from app.checkout.models import Order, OrderItem, OrderItemStatus, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.notifications.models import Notification
from app.payments.models import Refund, RefundSource, RefundStatus
from tests.factories import make_course
from tests.payments import conftest as payments
from tests.payments.conftest import (
    latest_payment,
    order_of,
    paid_sandbox_event,
    pay_with_sandbox,
    queued,
    run_jobs,
)

buyer, mailbox = payments.buyer, payments.mailbox  # their fixtures, used here too
KEY = "0b6c1a52-5f1e-4c1b-9a57-6d0f0c1d2e3f"


def _two_course_order(client: FlaskClient, session: Session, buyer: User) -> tuple[Order, int, int]:
    a = make_course("Keep This Course", prices={"USD": 3000})
    b = make_course("Refund That Course", prices={"USD": 1000})
    pay_with_sandbox(client, buyer, [a.id, b.id])
    run_jobs()
    order = order_of(session, buyer)
    assert order.status is OrderStatus.PAID
    return order, a.id, b.id


def _access(session: Session, user: User) -> dict[int, EnrollmentStatus]:
    session.expire_all()
    rows = session.execute(
        select(Enrollment.course_id, Enrollment.status).where(Enrollment.user_id == user.id)
    )
    return dict(rows.all())


def _audits(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_search_by_email_token_provider_id_course_and_status(
    admin_client: FlaskClient, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _, _ = _two_course_order(client, db_session, buyer)
    other = make_course("Unrelated", prices={"USD": 500})
    assert other.id
    payment = latest_payment(db_session, order)
    assert payment.provider_payment_id
    hits = {
        "q=buyer@example": True,
        f"q={order.token[:8]}": True,
        f"q={payment.provider_payment_id}": True,
        f"q={payment.provider_session_id}": True,
        "q=nobody@else.test": False,
        "course=refund+that": True,
        "course=unrelated": False,
        "status=paid": True,
        "status=refunded": False,
        "from=2000-01-01&to=2000-01-02": False,
    }
    for query, found in hits.items():
        page = admin_client.get(f"/admin/orders?{query}").get_data(as_text=True)
        assert (order.token[:8] in page) is found, query
    fragment = admin_client.get("/admin/orders?q=buyer", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="order-rows">')
    export = admin_client.get("/admin/orders?q=buyer&format=csv")
    assert export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("token,") and order.token in lines[1] and len(lines) == 2


def test_order_page_shows_items_payments_events_history_and_notifications(
    admin_client: FlaskClient, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _, _ = _two_course_order(client, db_session, buyer)
    payment = latest_payment(db_session, order)
    page = admin_client.get(f"/admin/orders/{order.token}").get_data(as_text=True)
    for text in ("Keep This Course", "Refund That Course", "buyer@example.com",
                 payment.provider_payment_id, "payment.succeeded", "Order placed for",
                 f"receipt:{order.id}"):  # fmt: skip
        assert text and text in page, text
    assert admin_client.get("/admin/orders/not-a-token").status_code == 404


def test_refund_shows_the_plan_first_then_refunds_through_the_job(
    admin_client: FlaskClient, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, keep, drop = _two_course_order(client, db_session, buyer)
    form = {"course_ids": str(drop), "reason": "bought by mistake", "key": KEY}
    plan = admin_client.post(f"/admin/orders/{order.token}/refund", data=form)
    text = plan.get_data(as_text=True)
    assert plan.status_code == 200 and 'id="order-refund-plan"' in text
    assert "Refund That Course" in text and "Access ends" in text and "$10.00" in text
    assert "Keep This Course" not in text
    assert db_session.scalar(select(func.count(Refund.id))) == 0  # nothing changed yet
    assert queued() == 0

    for _ in range(2):  # a double submit of the confirmation: one refund
        done = admin_client.post(
            f"/admin/orders/{order.token}/refund", data={**form, "confirmed": "yes"}
        )
        assert done.status_code == 303
    refund = db_session.scalars(select(Refund)).one()
    assert refund.source is RefundSource.ADMIN and refund.amount_minor == 1000
    assert refund.request_key == f"admin:{order.token}:{KEY}"
    [audit] = _audits(db_session, "order.refund")
    assert audit.target_id == order.token and audit.reason == "bought by mistake"
    assert audit.after and audit.after["access_ends"] == ["Refund That Course"]
    run_jobs()
    db_session.expire_all()
    refund = db_session.get_one(Refund, refund.id)
    assert refund.status is RefundStatus.SUCCEEDED
    item = db_session.scalars(
        select(OrderItem).where(OrderItem.order_id == order.id, OrderItem.course_id == drop)
    ).one()
    assert item.status is OrderItemStatus.REFUNDED
    assert db_session.get_one(Order, order.id).status is OrderStatus.PARTIALLY_REFUNDED
    assert _access(db_session, buyer) == {keep: EnrollmentStatus.ACTIVE,
                                          drop: EnrollmentStatus.DROPPED}  # fmt: skip


def test_refund_an_amount_and_refusals(
    admin_client: FlaskClient, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _, _ = _two_course_order(client, db_session, buyer)
    url = f"/admin/orders/{order.token}/refund"
    no_reason = admin_client.post(url, data={"amount": "5.00", "key": KEY})
    assert no_reason.status_code == 422 and "Say why" in no_reason.get_data(as_text=True)
    too_much = admin_client.post(url, data={"amount": "500", "reason": "x", "key": KEY})
    assert too_much.status_code == 422 and "more than was paid" in too_much.get_data(as_text=True)
    bad = admin_client.post(url, data={"amount": "5.001", "reason": "x", "key": KEY})
    assert bad.status_code == 422
    data = {"amount": "5.00", "reason": "goodwill", "key": KEY, "confirmed": "yes"}
    assert admin_client.post(url, data=data).status_code == 303
    run_jobs()
    db_session.expire_all()
    refund = db_session.scalars(select(Refund)).one()
    assert refund.amount_minor == 500 and refund.status is RefundStatus.SUCCEEDED
    assert set(_access(db_session, buyer).values()) == {EnrollmentStatus.ACTIVE}  # partial


def test_resend_receipt_sends_a_new_receipt_once(
    admin_client: FlaskClient, client: FlaskClient, db_session: Session, buyer: User, mailbox: Any
) -> None:
    order, _, _ = _two_course_order(client, db_session, buyer)
    url = f"/admin/orders/{order.token}/receipt"
    confirm = admin_client.post(url, data={"key": KEY})
    assert confirm.status_code == 200 and "buyer@example.com" in confirm.get_data(as_text=True)
    assert queued() == 0
    for _ in range(2):
        assert admin_client.post(url, data={"key": KEY, "confirmed": "yes"}).status_code == 303
    run_jobs()
    keys = db_session.scalars(
        select(Notification.dedupe_key).where(Notification.user_id == buyer.id)
    ).all()
    assert sorted(keys) == [f"receipt:{order.id}", f"receipt:{order.id}:resend:{KEY}"]
    assert len(list(mailbox.glob("*.eml"))) == 2  # the first receipt and the one resend
    assert len(_audits(db_session, "order.resend_receipt")) == 2  # each confirmation is recorded
    page = admin_client.get(f"/admin/orders/{order.token}").get_data(as_text=True)
    assert f"receipt:{order.id}:resend:{KEY}" in page


def test_reconcile_now_fulfils_a_stuck_paid_order(
    admin_client: FlaskClient, db_session: Session, buyer: User
) -> None:
    # Paid at the provider, but its webhook was never processed: the order is stuck.
    order_id, _ = paid_sandbox_event(buyer, "Stuck Course")
    order = db_session.get_one(Order, order_id)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    url = f"/admin/orders/{order.token}/reconcile"
    assert admin_client.post(url, data={}).status_code == 200  # the confirmation
    assert queued() == 0
    assert admin_client.post(url, data={"confirmed": "yes"}).status_code == 303
    [audit] = _audits(db_session, "order.reconcile")
    assert audit.before and audit.before["status"] == "awaiting_payment"
    assert queued("critical") == 1
    run_jobs()
    db_session.expire_all()
    assert db_session.get_one(Order, order_id).status is OrderStatus.PAID
    assert (
        db_session.scalar(select(func.count(Enrollment.id)).where(Enrollment.order_id == order_id))
        == 1
    )


def test_actions_need_the_csrf_token(app: Any, admin: User, db_session: Session) -> None:
    from tests.conftest import IsolatedClient, login_as

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        app.test_client_class = IsolatedClient
        client = app.test_client()
        login_as(client, admin)
        response = client.post("/admin/orders/x/refund", data={"confirmed": "yes"})
        assert response.status_code == 400
        assert re.search("CSRF", response.get_data(as_text=True), re.I)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
