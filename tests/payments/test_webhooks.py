"""Webhook ingestion: signatures, duplicates, unknown orders, mismatches, Redis outages, order."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import Order, OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.notifications.models import Notification
from app.payments.jobs import sweep_webhook_events
from app.payments.models import (
    Payment,
    PaymentStatus,
    SandboxSession,
    SandboxStatus,
    WebhookEvent,
    WebhookStatus,
)
from app.payments.providers import sandbox_secret
from app.payments.providers.sandbox import event_body, sign
from tests.factories import make_course
from tests.payments.conftest import checkout, fill_cart, order_of, queued, run_jobs


def _open_order(
    client: FlaskClient, session: Session, buyer: User, prices: dict[str, int] | None = None
) -> tuple[Order, SandboxSession]:
    course = make_course("Webhooked", prices=prices or {"USD": 2500})
    fill_cart(buyer, [course.id])
    checkout(client)
    order = order_of(session, buyer)
    payment = session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    return order, session.get(SandboxSession, payment.provider_session_id)  # type: ignore[return-value]


def _signed(
    session: SandboxSession, kind: str = "payment.succeeded", **changes: object
) -> tuple[bytes, dict[str, str]]:
    session.status = SandboxStatus.PAID
    session.charge_id = session.charge_id or "sbx_ch_test"
    body = json.loads(event_body(session, kind))
    body["data"]["session"].update(changes)
    raw = json.dumps(body).encode()
    return raw, {
        "X-Sandbox-Signature": sign(sandbox_secret(), raw),
        "Content-Type": "application/json",
    }


def _post(client: FlaskClient, raw: bytes, headers: dict[str, str]) -> object:
    return client.post("/webhooks/sandbox", data=raw, headers=headers)


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_invalid_or_stale_signatures_are_refused(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    _order, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx)
    forged = {"X-Sandbox-Signature": headers["X-Sandbox-Signature"].replace("v1=", "v1=0")}
    stale = {"X-Sandbox-Signature": sign(sandbox_secret(), raw, int(time.time()) - 301)}
    tampered = raw.replace(b"2500", b"2501")
    assert tampered != raw
    for body, hdrs in ((raw, forged), (raw, stale), (tampered, headers), (raw, {})):
        response = _post(client, body, hdrs)
        assert response.status_code == 400  # type: ignore[attr-defined]
        assert response.json["error"]["code"] == "invalid_signature"  # type: ignore[attr-defined]
    assert _count(db_session, WebhookEvent) == 0 and queued() == 0
    assert order_of(db_session, buyer).status is OrderStatus.AWAITING_PAYMENT
    assert client.post("/webhooks/nope", data=raw, headers=headers).status_code == 404


def test_the_same_event_ten_times_enrolls_once(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx)
    answers = [_post(client, raw, headers) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10  # type: ignore[attr-defined]
    assert [a.json["duplicate"] for a in answers] == [False] + [True] * 9  # type: ignore[attr-defined]
    assert queued("critical") == 1
    run_jobs()
    # and ten more deliveries after processing change nothing either
    for _ in range(10):
        _post(client, raw, headers)
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID
    assert _count(db_session, WebhookEvent) == 1
    assert _count(db_session, Payment, Payment.status == PaymentStatus.SUCCEEDED) == 1
    assert _count(db_session, Enrollment, Enrollment.user_id == buyer.id) == 1
    assert _count(db_session, Notification, Notification.user_id == buyer.id) == 1


def test_distinct_events_about_one_payment_fulfil_once(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    # Razorpay's event id is not signed: a replayed payment under a new event id must not re-fulfil.
    _order, sbx = _open_order(client, db_session, buyer)
    for _ in range(3):
        raw, headers = _signed(sbx)  # a fresh event id each time
        assert _post(client, raw, headers).status_code == 200  # type: ignore[attr-defined]
    run_jobs()
    assert _count(db_session, WebhookEvent) == 3
    assert _count(db_session, Enrollment, Enrollment.user_id == buyer.id) == 1
    assert _count(db_session, Notification, Notification.user_id == buyer.id) == 1
    assert order_of(db_session, buyer).status is OrderStatus.PAID


def test_unknown_order_is_ignored(client: FlaskClient, db_session: Session, buyer: User) -> None:
    _, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx, id="sbx_cs_unknown", order_token="0" * 36, charge="sbx_ch_other")
    assert _post(client, raw, headers).status_code == 200  # type: ignore[attr-defined]
    run_jobs()
    event = db_session.scalars(select(WebhookEvent)).one()
    db_session.refresh(event)
    assert event.status is WebhookStatus.IGNORED
    assert order_of(db_session, buyer).status is OrderStatus.AWAITING_PAYMENT


def test_amount_or_currency_mismatch_enrolls_nobody(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx, amount=100)
    _post(client, raw, headers)
    run_jobs()
    payment = db_session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    db_session.refresh(payment)
    assert payment.status is PaymentStatus.AMOUNT_MISMATCH
    assert "Paid 100 USD for an order of 2500 USD" in (payment.failure_reason or "")
    assert _count(db_session, Enrollment, Enrollment.user_id == buyer.id) == 0
    assert order_of(db_session, buyer).status is OrderStatus.AWAITING_PAYMENT
    # a second event with the right amount does not override the flag silently
    raw, headers = _signed(sbx, currency="INR")
    _post(client, raw, headers)
    run_jobs()
    assert _count(db_session, Enrollment, Enrollment.user_id == buyer.id) == 0


def test_redis_down_still_answers_2xx_and_the_sweeper_recovers(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    # Only the app's client is swapped here; tests/outage stops a real Redis process (limiter too).
    _order, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx)
    real = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        response = _post(client, raw, headers)
    finally:
        app.extensions["redis"] = real
    assert response.status_code == 200  # type: ignore[attr-defined]
    event = db_session.scalars(select(WebhookEvent)).one()
    assert event.status is WebhookStatus.RECEIVED and queued() == 0
    event.received_at = event.received_at.replace(year=event.received_at.year - 1)  # long stuck
    db_session.flush()
    assert sweep_webhook_events() == 1
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.PAID
    assert (
        _count(
            db_session,
            Enrollment,
            Enrollment.user_id == buyer.id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
        == 1
    )


def test_an_event_queued_by_several_sweepers_is_fulfilled_once(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    """The cron sweeper and every worker sweep: one event may sit on the queue three times."""
    _order, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx)
    assert _post(client, raw, headers).status_code == 200  # type: ignore[attr-defined]
    event = db_session.scalars(select(WebhookEvent)).one()
    event.received_at = event.received_at.replace(year=event.received_at.year - 1)
    db_session.flush()
    assert sweep_webhook_events() == 1 and sweep_webhook_events() == 1
    assert queued("critical") == 3
    run_jobs()
    db_session.refresh(event)
    assert (event.status, event.attempts) == (WebhookStatus.PROCESSED, 1)
    assert sweep_webhook_events() == 0  # only `received` events are swept
    assert order_of(db_session, buyer).status is OrderStatus.PAID
    assert _count(db_session, Payment, Payment.status == PaymentStatus.SUCCEEDED) == 1
    assert _count(db_session, Enrollment, Enrollment.user_id == buyer.id) == 1
    assert _count(db_session, Notification, Notification.user_id == buyer.id) == 1


def test_refund_event_before_the_paid_event(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, sbx = _open_order(client, db_session, buyer)
    paid_raw, paid_headers = _signed(sbx)
    sbx.refunded_minor = 2500
    refund_body = json.loads(
        event_body(sbx, "refund.succeeded", {"id": "sbx_re_1", "amount": 2500})
    )
    refund_raw = json.dumps(refund_body).encode()
    _post(client, refund_raw, {"X-Sandbox-Signature": sign(sandbox_secret(), refund_raw)})
    run_jobs()
    _post(client, paid_raw, paid_headers)
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.REFUNDED and order.refunded_minor == 2500
    enrollment = db_session.scalars(select(Enrollment).where(Enrollment.user_id == buyer.id)).one()
    assert enrollment.status is EnrollmentStatus.DROPPED  # the late "paid" did not re-grant access


def test_the_same_event_ten_times_at_once(live_app: Flask, committed: object) -> None:
    import threading

    from app.cart import services as cart_services
    from app.checkout.services import place_order
    from app.extensions import db
    from app.payments.services import start_payment
    from tests.conftest import IsolatedClient
    from tests.factories import make_user

    user = make_user(email="concurrent@example.com")
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course("Concurrent", prices={"USD": 700}).id, user)
    order = place_order(user, cart)
    payment = start_payment(order, "sandbox")
    sbx = db.session.get(SandboxSession, payment.provider_session_id)
    raw, headers = _signed(sbx)  # type: ignore[arg-type]
    db.session.commit()
    live_app.test_client_class = IsolatedClient
    codes: list[int] = []
    barrier = threading.Barrier(10)

    def deliver() -> None:
        c = live_app.test_client()
        barrier.wait()
        codes.append(c.post("/webhooks/sandbox", data=raw, headers=headers).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 10
    assert queued("critical") == 1
    run_jobs()
    db.session.expire_all()
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 1
    assert db.session.scalar(select(func.count(Enrollment.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    assert db.session.get(Order, order.id).status is OrderStatus.PAID  # type: ignore[union-attr]


def test_a_failing_event_is_retried_then_dead_lettered_with_its_order(
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    caplog,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from rq.job import Job

    from app.extensions import get_redis
    from app.jobs.queues import QueueName, get_queue
    from app.payments.services import webhooks as webhook_services

    order, sbx = _open_order(client, db_session, buyer)
    raw, headers = _signed(sbx)
    _post(client, raw, headers)
    queue = get_queue(QueueName.CRITICAL)
    job_id = queue.job_ids[0]

    def broken(*_: object) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(webhook_services, "_apply", broken)
    run_jobs()
    job = Job.fetch(job_id, connection=get_redis())
    assert job.retries_left == 2  # RQ scheduled a retry (2 s later) instead of giving up
    event = db_session.scalars(select(WebhookEvent)).one()
    db_session.refresh(event)
    assert event.status is WebhookStatus.FAILED and "database hiccup" in (event.error or "")
    # On the last attempt the job stays in the failed registry and the log names the order.
    job.retries_left = 0
    job.save()
    queue.enqueue_job(job)
    run_jobs()
    assert f"event=webhook_dead_letter webhook_event={event.id} order={order.token}" in caplog.text
    assert job.id in queue.failed_job_registry.get_job_ids()


# Issue 7 item 14: a signed webhook whose body the event row cannot hold, or a signature header
# that is not ASCII, answered 500. Now: 400, and nothing is stored.
MALFORMED_BASES: dict[str, dict[str, object]] = {
    "sandbox": {"id": "sbx_evt_malformed", "type": "payment.succeeded", "data": {}},
    "stripe": {"id": "evt_malformed", "type": "checkout.session.completed", "data": {}},
    "razorpay": {"event": "payment.captured", "payload": {}},
}
TYPE_KEY = {"sandbox": "type", "stripe": "type", "razorpay": "event"}


def _malformed_bodies(provider: str) -> dict[str, bytes]:
    base = MALFORMED_BASES[provider]
    kind = TYPE_KEY[provider]

    def changed(key: str, value: object) -> bytes:
        body = dict(base)
        if value is _MISSING:
            body.pop(key, None)
        else:
            body[key] = value
        return json.dumps(body).encode()

    bodies = {
        "200-char type": changed(kind, "t" * 200),
        "type object": changed(kind, {"name": "payment.succeeded"}),
        "type number": changed(kind, 7),
        "type null": changed(kind, None),
        "type missing": changed(kind, _MISSING),
        "type with NUL": changed(kind, "payment\u0000succeeded"),
        "list body": b"[1, 2, 3]",
        "string body": b'"payment.succeeded"',
        "null body": b"null",
        "invalid JSON": b'{"id": ',
        "not UTF-8": b'\xff\xfe{"id": 1}',
        "50000-deep": b"[" * 50_000 + b"]" * 50_000,
    }
    if provider != "razorpay":  # Razorpay's event id is a header, not in the body
        bodies |= {
            "300-char id": changed("id", "e" * 300),
            "id number": changed("id", 12345),
            "id list": changed("id", ["evt"]),
            "id missing": changed("id", _MISSING),
            "id with NUL": changed("id", "evt\u0000x"),
        }
    return bodies


_MISSING = object()


def _provider_signature(provider: str, raw: bytes) -> dict[str, str]:
    import hashlib
    import hmac

    import stripe

    from tests.payments.conftest import RAZORPAY_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET

    if provider == "sandbox":
        return {"X-Sandbox-Signature": sign(sandbox_secret(), raw)}
    if provider == "stripe":
        text = raw.decode("utf-8", errors="replace")
        header = stripe.WebhookSignature.generate_signature_header(text, STRIPE_WEBHOOK_SECRET)
        return {"Stripe-Signature": header}
    mac = hmac.new(RAZORPAY_WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Razorpay-Signature": mac, "X-Razorpay-Event-Id": "evt_rzp_malformed"}


def _stored_events(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count(WebhookEvent.id))) or 0)


@pytest.mark.parametrize("provider", ["sandbox", "stripe", "razorpay"])
@pytest.mark.usefixtures("providers")
def test_signed_malformed_webhooks_are_400_and_not_stored(
    client: FlaskClient, db_session: Session, provider: str
) -> None:
    answers = {}
    for name, raw in _malformed_bodies(provider).items():
        headers = {"Content-Type": "application/json", **_provider_signature(provider, raw)}
        response = client.post(f"/webhooks/{provider}", data=raw, headers=headers)
        answers[name] = (response.status_code, response.json["error"]["code"])  # type: ignore[index]
    # A body that is not UTF-8 already fails the SDKs' signature check (they verify text).
    expected = {
        name: (
            400,
            "invalid_signature"
            if name == "not UTF-8" and provider != "sandbox"
            else "malformed_webhook",
        )
        for name in answers
    }
    assert answers == expected
    assert _stored_events(db_session) == 0
    # The well-formed event next to them is stored.
    raw = json.dumps(MALFORMED_BASES[provider]).encode()
    headers = {"Content-Type": "application/json", **_provider_signature(provider, raw)}
    assert client.post(f"/webhooks/{provider}", data=raw, headers=headers).status_code == 200
    assert _stored_events(db_session) == 1


@pytest.mark.parametrize(
    ("provider", "header", "value"),
    [
        ("sandbox", "X-Sandbox-Signature", "t=1700000000,v1=\u00e9\u00e9\u00e9"),
        ("sandbox", "X-Sandbox-Signature", "t=\u00e9,v1=abc"),
        ("stripe", "Stripe-Signature", "t=1700000000,v1=\u00e9"),
        ("razorpay", "X-Razorpay-Signature", "\u00e9" * 64),
    ],
)
@pytest.mark.usefixtures("providers")
def test_non_ascii_signature_header_is_400(
    client: FlaskClient, db_session: Session, provider: str, header: str, value: str
) -> None:
    raw = json.dumps(MALFORMED_BASES[provider]).encode()
    response = client.post(
        f"/webhooks/{provider}",
        data=raw,
        headers={"Content-Type": "application/json", header: value},
    )
    assert response.status_code == 400 and response.json["success"] is False
    assert _stored_events(db_session) == 0


@pytest.mark.usefixtures("providers")
def test_razorpay_event_id_header_too_long_is_400(client: FlaskClient, db_session: Session) -> None:
    raw = json.dumps(MALFORMED_BASES["razorpay"]).encode()
    headers = {**_provider_signature("razorpay", raw), "X-Razorpay-Event-Id": "e" * 201}
    response = client.post("/webhooks/razorpay", data=raw, headers=headers)
    assert response.status_code == 400
    assert _stored_events(db_session) == 0
