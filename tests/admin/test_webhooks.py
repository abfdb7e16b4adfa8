"""The webhook inbox: filters, a redacted payload, and replays through the real job on a real
worker — a processed event replayed ten times changes nothing, a failed one fulfils its order."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, User
from app.admin.webhooks import MASK, redact
from app.checkout.models import Order, OrderEvent, OrderStatus
from app.learning.models import Enrollment
from app.payments.jobs import enqueue_webhook_processing
from app.payments.models import WebhookEvent, WebhookStatus
from tests.payments import conftest as payments
from tests.payments.conftest import (
    paid_sandbox_event,
    queued,
    run_jobs,
)

buyer = payments.buyer  # the payments tests' fixture, used here too


def test_redact_masks_personal_and_secret_values_and_keeps_ids() -> None:
    payload = {
        "id": "evt_123",
        "type": "payment.succeeded",
        "amount": 4000,
        "customer_email": "ann@example.com",
        "billingAddress": {"line1": "1 Main St", "city": "Pune"},
        "card": {"last4": "4242", "brand": "visa"},
        "contact": "+919999999999",
        "vpa": "ann@upi",
        "notes": ["call ann@example.com", "card 4242 4242 4242 4242"],
        "api": "sk_test_abcdef",
        "hook": "whsec_123",
        "auth": "Bearer abc.def",
        "nested": {"customer": {"name": "Ann", "id": "cus_1"}, "order_token": "7f3c-1"},
        "empty_email": "",
        "payment_id": "pay_ABC",
    }
    shown = redact(payload)
    assert shown["id"] == "evt_123" and shown["type"] == "payment.succeeded"
    assert shown["amount"] == 4000 and shown["payment_id"] == "pay_ABC"
    for key in (
        "customer_email",
        "billingAddress",
        "card",
        "contact",
        "vpa",
        "api",
        "hook",
        "auth",
    ):
        assert shown[key] == MASK, key
    assert shown["notes"] == [f"call {MASK}", f"card {MASK}"]
    assert shown["nested"] == {"customer": {"name": MASK, "id": "cus_1"}, "order_token": "7f3c-1"}
    assert shown["empty_email"] == ""
    assert payload["contact"] == "+919999999999"  # a copy: the stored payload is untouched


def _counts(session: Session, order_id: int) -> tuple[int, int]:
    session.expire_all()
    enrollments = session.scalar(
        select(func.count(Enrollment.id)).where(Enrollment.order_id == order_id)
    )
    events = session.scalar(
        select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order_id)
    )
    return int(enrollments or 0), int(events or 0)


def test_replaying_a_processed_event_ten_times_changes_nothing(
    admin_client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order_id, event_id = paid_sandbox_event(buyer, "Replayed Course")
    enqueue_webhook_processing(event_id)
    run_jobs()
    before = _counts(db_session, order_id)
    assert before[0] == 1
    event = db_session.get_one(WebhookEvent, event_id)
    assert event.status is WebhookStatus.PROCESSED
    attempts = event.attempts
    confirm = admin_client.post(f"/admin/webhooks/{event_id}/replay", data={"reason": "check"})
    assert "already handled" in confirm.get_data(as_text=True)
    assert queued() == 0  # the confirmation page changes nothing
    for n in range(10):
        url = f"/admin/webhooks/{event_id}/replay" if n % 2 else "/admin/webhooks/replay"
        data = {"ids": str(event_id), "reason": "check", "confirmed": "yes"}
        assert admin_client.post(url, data=data).status_code == 303
    assert queued("critical") == 10
    run_jobs(max_rounds=20)
    assert queued() == 0
    assert _counts(db_session, order_id) == before  # one enrollment, no new order events
    event = db_session.get_one(WebhookEvent, event_id)
    assert event.status is WebhookStatus.PROCESSED and event.attempts == attempts
    audits = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "webhook.replay")
    ).all()
    assert len(audits) == 10 and all(a.target_id == str(event_id) for a in audits)


def test_replaying_a_failed_event_fulfils_the_order(
    app: Flask, admin_client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order_id, event_id = paid_sandbox_event(buyer, "Failed Then Fixed")
    # A real failure: the event is processed while its provider is switched off here.
    app.config["SANDBOX_PAYMENTS"] = "off"
    try:
        enqueue_webhook_processing(event_id)
        run_jobs()  # the job fails; RQ schedules a retry seconds later (not run in this burst)
    finally:
        app.config["SANDBOX_PAYMENTS"] = "on"
    event = db_session.get_one(WebhookEvent, event_id)
    db_session.refresh(event)
    assert event.status is WebhookStatus.FAILED and "not available" in (event.error or "")
    assert db_session.get_one(Order, order_id).status is OrderStatus.AWAITING_PAYMENT

    listing = admin_client.get("/admin/webhooks?status=failed").get_data(as_text=True)
    assert event.event_id in listing
    data = {"ids": str(event_id), "reason": "provider fixed"}
    confirm = admin_client.post("/admin/webhooks/replay", data=data)
    assert "processed now" in confirm.get_data(as_text=True)
    assert queued() == 0
    done = admin_client.post("/admin/webhooks/replay", data={**data, "confirmed": "yes"})
    assert done.status_code == 303
    run_jobs()
    db_session.expire_all()
    assert db_session.get_one(WebhookEvent, event_id).status is WebhookStatus.PROCESSED
    assert db_session.get_one(Order, order_id).status is OrderStatus.PAID
    assert _counts(db_session, order_id)[0] == 1


def test_inbox_filters_and_the_redacted_detail(
    admin_client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order_id, event_id = paid_sandbox_event(buyer, "Filtered Course")
    event = db_session.get_one(WebhookEvent, event_id)
    event.payload = {**event.payload, "customer_email": "buyer@example.com"}
    db_session.commit()
    order = db_session.get_one(Order, order_id)
    hits: dict[str, bool] = {
        "": True,
        f"q={event.event_id}": True,
        f"q={order.token[:8]}": True,
        "q=zzz": False,
        "provider=sandbox": True,
        "provider=stripe": False,
        "status=received": True,
        "status=processed": False,
        f"type={event.type}": True,
        "type=refund.nothing": False,
    }
    for query, found in hits.items():
        page = admin_client.get(f"/admin/webhooks?{query}").get_data(as_text=True)
        assert (event.event_id in page) is found, query
    fragment = admin_client.get("/admin/webhooks", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="webhook-rows">')
    detail = admin_client.get(f"/admin/webhooks/{event_id}").get_data(as_text=True)
    assert event.event_id in detail and MASK in detail
    assert "buyer@example.com" not in detail
    assert admin_client.get("/admin/webhooks/999999").status_code == 404


def test_replay_without_a_selection_does_nothing(
    admin_client: FlaskClient, db_session: Session, **_: Any
) -> None:
    response = admin_client.post("/admin/webhooks/replay", data={"confirmed": "yes"})
    assert response.status_code == 303 and queued() == 0
    assert db_session.scalar(select(func.count(AuditEntry.id))) == 0


def _csv_rows(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_exports_the_filtered_events_and_never_a_payload(
    admin_client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order_id, event_id = paid_sandbox_event(buyer, "Exported Course")
    event = db_session.get_one(WebhookEvent, event_id)
    event.payload = {**event.payload, "customer_email": "private.person@example.com"}
    event.error, event.attempts = "refused for private.person@example.com", 2
    event.order_id = order_id  # as processing links it
    other = WebhookEvent(
        provider="stripe",
        event_id="evt_other_provider",
        type="charge.refunded",
        payload={"email": "someone.else@example.com"},
        status=WebhookStatus.PROCESSED,
    )
    db_session.add(other)
    db_session.commit()

    response = admin_client.get("/admin/webhooks?format=csv&provider=sandbox")
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == (
        "id,provider,event id,type,status,order token,received,processed,attempts,error"
    )
    assert "private.person@example.com" not in text and "someone.else@example.com" not in text
    assert "payload" not in text and "cus_" not in text
    rows = _csv_rows(admin_client, "/admin/webhooks?format=csv&provider=sandbox")
    (row,) = rows
    order = db_session.get_one(Order, order_id)
    assert row["id"] == str(event_id) and row["event id"] == event.event_id
    assert row["provider"] == "sandbox" and row["type"] == event.type
    assert row["status"] == "received" and row["order token"] == order.token
    assert row["attempts"] == "2" and row["error"] == f"refused for {MASK}"
    assert row["received"].startswith(str(event.received_at.date())) and row["processed"] == ""
    everything = _csv_rows(admin_client, "/admin/webhooks?format=csv")
    assert {r["event id"] for r in everything} == {event.event_id, "evt_other_provider"}
    assert _csv_rows(admin_client, "/admin/webhooks?format=csv&status=failed") == []
    page = admin_client.get("/admin/webhooks?provider=sandbox").get_data(as_text=True)
    assert "/admin/webhooks?provider=sandbox&amp;format=csv" in page  # the link keeps the filter
