"""The web process with its Redis really gone (SIGKILL) or frozen (SIGSTOP).

Promises (README, issue 7 items 1, 5, 6): a verified webhook is stored and answered 2xx while
Redis is down and swept later; login, registration and the pages that don't need Redis keep
working, checkout included (anything that truly needs Redis answers a clear 503); a sandbox payment made during the outage
is stored as its webhook event and fulfilled once Redis is back.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.cart import services as cart_services
from app.checkout.models import Order, OrderStatus
from app.checkout.services import place_order
from app.core.models import utcnow
from app.extensions import db, get_redis, limiter
from app.jobs.worker import run_worker
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments.models import SandboxSession, SandboxStatus, WebhookEvent, WebhookStatus
from app.payments.providers import sandbox_secret
from app.payments.providers.sandbox import event_body, sign
from app.payments.services import start_payment
from tests.conftest import IsolatedClient, login_as
from tests.factories import PASSWORD, make_course, make_user
from tests.outage.conftest import RedisProcess


def _client(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient  # a fresh app context (db session) per request
    return app.test_client()


def _open_order(user: User, title: str = "Outage course") -> tuple[Order, SandboxSession]:
    course = make_course(title, prices={"USD": 2500})
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, course.id, user)
    order = place_order(user, cart)
    payment = start_payment(order, "sandbox")
    sbx = db.session.get(SandboxSession, payment.provider_session_id)
    assert sbx is not None
    return order, sbx


def _signed_paid_event(sbx: SandboxSession) -> tuple[bytes, dict[str, str]]:
    """What the sandbox would send once the buyer paid (the session row itself stays open)."""
    body = json.loads(event_body(sbx, "payment.succeeded"))
    body["data"]["session"].update(status="paid", charge=f"sbx_ch_{sbx.id[-8:]}")
    raw = json.dumps(body).encode()
    return raw, {"X-Sandbox-Signature": sign(sandbox_secret(), raw)}


def _backdate_events() -> None:
    """The sweeper leaves events younger than 30 s to their own job: let time pass."""
    db.session.execute(update(WebhookEvent).values(received_at=utcnow().replace(year=2000)))
    db.session.commit()


def _active_enrollments(user_id: int) -> int:
    db.session.expire_all()
    stmt = select(func.count(Enrollment.id)).where(
        Enrollment.user_id == user_id, Enrollment.status == EnrollmentStatus.ACTIVE
    )
    count = int(db.session.scalar(stmt) or 0)
    db.session.rollback()
    return count


def test_every_redis_client_gives_up_within_a_second(outage_app: Flask) -> None:
    """A frozen Redis must cost a request about a second, not redis-py's default 5 s (or more)."""
    clients = {
        "app": get_redis(),
        "limiter": limiter.storage.storage,  # type: ignore[attr-defined]
    }
    for name, client in clients.items():
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs.get("socket_timeout") is not None, name
        assert kwargs["socket_timeout"] <= 1, name
        assert kwargs["socket_connect_timeout"] <= 1, name


def test_webhooks_with_redis_killed_are_stored_answered_and_swept_later(
    outage_app: Flask, redis_proc: RedisProcess
) -> None:
    buyers = [make_user(email=f"outage{i}@example.com") for i in range(5)]
    events = [_signed_paid_event(_open_order(b, f"Course {i}")[1]) for i, b in enumerate(buyers)]
    db.session.commit()
    client = _client(outage_app)

    redis_proc.kill()
    answers = [client.post("/webhooks/sandbox", data=raw, headers=hdrs) for raw, hdrs in events]
    assert [r.status_code for r in answers] == [200] * 5, [r.get_data(True) for r in answers]
    stored = db.session.scalars(select(WebhookEvent.status)).all()
    assert stored == [WebhookStatus.RECEIVED] * 5

    redis_proc.start()
    _backdate_events()
    run_worker(outage_app, burst=True)  # its start-up sweep enqueues them, then it works them

    assert [_active_enrollments(b.id) for b in buyers] == [1] * 5
    db.session.expire_all()
    assert set(db.session.scalars(select(WebhookEvent.status))) == {WebhookStatus.PROCESSED}
    assert set(db.session.scalars(select(Order.status))) == {OrderStatus.PAID}


def test_a_frozen_redis_does_not_hang_a_webhook(
    outage_app: Flask, redis_proc: RedisProcess
) -> None:
    raw, headers = _signed_paid_event(_open_order(make_user())[1])
    db.session.commit()
    client = _client(outage_app)
    answers: list[Any] = []

    redis_proc.freeze()
    try:
        thread = threading.Thread(
            target=lambda: answers.append(
                client.post("/webhooks/sandbox", data=raw, headers=headers)
            )
        )
        thread.start()
        thread.join(timeout=30)  # generous: it must answer while Redis is still frozen
        answered_while_frozen = not thread.is_alive()
    finally:
        redis_proc.thaw()
    thread.join()
    assert answered_while_frozen
    assert answers[0].status_code == 200, answers[0].get_data(True)
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 1


def _checkout_ready_buyer(email: str) -> tuple[User, Any]:
    buyer = make_user(email=email, name="Olive Outage")
    course = make_course("Resilience 101", prices={"USD": 3100})
    cart = cart_services.open_cart("USD", buyer)
    cart_services.add_course(cart, course.id, buyer)
    db.session.commit()
    return buyer, course


def test_pages_keep_working_with_redis_killed(
    outage_app: Flask, redis_proc: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    buyer, course = _checkout_ready_buyer("olive@example.com")
    other = make_course("Chaos Engineering", prices={"USD": 1200})
    db.session.commit()
    redis_proc.kill()

    visitor = _client(outage_app)
    registered = visitor.post(
        "/register",
        data={
            "name": "Nova New",
            "email": "nova@example.com",
            "password": "s3cret-pass",
            "confirm": "s3cret-pass",
        },
    )
    assert registered.status_code == 303, registered.get_data(True)
    assert "falling back to in-memory storage" in caplog.text  # the limiter said so

    client = _client(outage_app)
    login = client.post("/login", data={"email": buyer.email, "password": PASSWORD})
    assert login.status_code == 303, login.get_data(True)
    pages = {
        "catalog": client.get("/"),
        "course list": client.get("/courses"),
        "course page": client.get(f"/courses/{course.slug}"),
        "add to cart": client.post("/cart/items", data={"course_id": str(other.id)}),
        "cart": client.get("/cart"),
        "checkout page": client.get("/checkout"),
        "orders": client.get("/orders"),
        "learning": client.get("/learning"),
    }
    assert {k: r.status_code for k, r in pages.items()} == {
        "catalog": 200, "course list": 200, "course page": 200, "add to cart": 303,
        "cart": 200, "checkout page": 200, "orders": 200, "learning": 200,
    }  # fmt: skip
    placed = client.post(
        "/checkout",
        data={"provider": "sandbox", "accept_terms": "y", "idempotency_key": "outage-key-001"},
    )
    # Checkout needs no Redis: its estimate cache misses, its limit counts in memory.
    assert placed.status_code == 303, placed.get_data(True)
    assert "/pay/" in placed.headers["Location"]
    assert client.get(placed.headers["Location"]).status_code == 200


def test_sandbox_payment_during_an_outage_is_stored_then_fulfilled(
    outage_app: Flask, redis_proc: RedisProcess
) -> None:
    buyer, _course = _checkout_ready_buyer("sandra@example.com")
    client = _client(outage_app)
    login_as(client, buyer)
    placed = client.post(
        "/checkout",
        data={"provider": "sandbox", "accept_terms": "y", "idempotency_key": "outage-key-002"},
    )
    pay_page = placed.headers["Location"]
    assert client.get(pay_page).status_code == 200

    redis_proc.kill()
    paid = client.post(f"{pay_page}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    assert paid.status_code == 303
    event = db.session.scalars(select(WebhookEvent)).one()  # stored with the outcome
    assert (event.provider, event.type, event.status) == (
        "sandbox",
        "payment.succeeded",
        WebhookStatus.RECEIVED,
    )
    db.session.rollback()

    redis_proc.start()
    _backdate_events()
    run_worker(outage_app, burst=True)
    assert _active_enrollments(buyer.id) == 1
    order = db.session.scalars(select(Order).where(Order.user_id == buyer.id)).one()
    assert order.status is OrderStatus.PAID
    sbx = db.session.scalars(select(SandboxSession)).one()
    assert sbx.status is SandboxStatus.PAID


def test_redis_errors_elsewhere_answer_a_clear_503(
    outage_app: Flask, redis_proc: RedisProcess
) -> None:
    """A page that truly needs Redis gets 'try again in a minute', as HTML, HTMX or JSON."""

    @outage_app.get("/_needs_redis")
    def _needs_redis() -> str:
        get_redis().incr("outage:probe")
        return "ok"

    client = _client(outage_app)
    assert client.get("/_needs_redis").status_code == 200
    redis_proc.kill()
    page = client.get("/_needs_redis")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert "try again in a minute" in page.get_data(True).lower() and "<html" in page.text
    fragment = client.get("/_needs_redis", headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and "<html" not in fragment.text
    data = client.get("/_needs_redis", headers={"Accept": "application/json"})
    assert data.status_code == 503 and data.json["error"]["code"] == "service_unavailable"


def test_readyz_names_what_is_down(outage_app: Flask, redis_proc: RedisProcess) -> None:
    client = _client(outage_app)
    up = client.get("/readyz")
    assert up.status_code == 200, up.json
    assert up.json["checks"] == {"database": "ok", "redis": "ok"}
    background = up.json["background"]
    assert background["scheduler"]["status"] == "missing"  # no heartbeat was ever written
    assert background["workers"] == {"status": "none", "count": 0}

    redis_proc.kill()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json["failed"] == ["redis"] and down.json["checks"]["database"] == "ok"
    assert down.json["background"]["scheduler"]["status"] == "unknown"
