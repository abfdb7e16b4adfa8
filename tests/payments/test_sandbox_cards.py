"""The sandbox's table of test cards, each through the real flow; bad numbers change nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import OrderStatus
from app.payments.models import PaymentStatus, WebhookEvent
from app.payments.providers.sandbox.cards import TEST_CARDS, luhn_ok
from app.payments.providers.sandbox.models import SandboxSession, SandboxStatus
from tests.factories import make_course
from tests.payments.conftest import (
    checkout,
    fill_cart,
    latest_payment,
    order_of,
    payment_token,
    run_jobs,
)


def _pay_page(client: FlaskClient, buyer: User) -> str:
    fill_cart(buyer, [make_course("Card Table", prices={"USD": 2500}).id])
    return payment_token(checkout(client).headers["Location"])


def _session(db_session: Session) -> SandboxSession:
    db_session.expire_all()
    return db_session.scalars(select(SandboxSession)).one()


def test_luhn() -> None:
    assert luhn_ok("4242424242424242") and luhn_ok("4000002760003184")
    assert not luhn_ok("4242424242424241") and not luhn_ok("") and not luhn_ok("42")


def test_every_documented_card_passes_luhn_and_is_on_the_page(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    page = client.get(f"/pay/{_pay_page(client, buyer)}").text
    for card in TEST_CARDS:
        assert luhn_ok(card.number)
        assert card.spaced in page and card.outcome_text in page


@pytest.mark.parametrize(
    ("number", "status", "reason"),
    [
        ("4242 4242 4242 4242", OrderStatus.PAID, None),
        ("4000 0000 0000 0002", OrderStatus.FAILED, "declined"),
        ("4000 0000 0000 9995", OrderStatus.FAILED, "insufficient funds"),
    ],
)
def test_card_outcomes(
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    number: str,
    status: OrderStatus,
    reason: str | None,
) -> None:
    token = _pay_page(client, buyer)
    back = client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": number})
    assert back.status_code == 303
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is status
    if reason:
        assert reason in (latest_payment(db_session, order).failure_reason or "")


def test_requires_action_needs_a_second_click(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    token = _pay_page(client, buyer)
    first = client.post(
        f"/pay/{token}/sandbox", data={"action": "pay", "card": "4000 0027 6000 3184"}
    )
    assert first.status_code == 303 and first.headers["Location"].endswith(
        f"/pay/{token}/authenticate"
    )
    assert _session(db_session).status is SandboxStatus.OPEN
    assert db_session.scalar(select(func.count(WebhookEvent.id))) == 0
    challenge = client.get(f"/pay/{token}/authenticate")
    assert challenge.status_code == 200 and "Authenticate" in challenge.text
    done = client.post(
        f"/pay/{token}/sandbox", data={"action": "authenticate", "card": "4000002760003184"}
    )
    assert done.status_code == 303
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID
    assert latest_payment(db_session, order).status is PaymentStatus.SUCCEEDED


def test_failing_the_challenge_declines(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    token = _pay_page(client, buyer)
    client.post(
        f"/pay/{token}/sandbox", data={"action": "fail_authentication", "card": "4000002760003184"}
    )
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.FAILED
    assert "authentication" in (latest_payment(db_session, order).failure_reason or "")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("4242 4242 4242 4241", "not a valid card number"),
        ("1234", "not a valid card number"),
        ("5555 5555 5555 4444", "test cards: use one from the table"),
    ],
)
def test_bad_numbers_get_a_form_error_and_change_nothing(
    client: FlaskClient, db_session: Session, buyer: User, number: str, message: str
) -> None:
    token = _pay_page(client, buyer)
    page = client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": number})
    assert page.status_code == 422 and message in page.text and 'aria-invalid="true"' in page.text
    assert _session(db_session).status is SandboxStatus.OPEN
    assert db_session.scalar(select(func.count(WebhookEvent.id))) == 0
    hx = client.post(
        f"/pay/{token}/sandbox",
        data={"action": "pay", "card": number},
        headers={"HX-Request": "true"},
    )
    assert hx.status_code == 422 and message in hx.text


def test_latency_runs_from_the_paid_webhook_not_a_declined_attempt(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    token = _pay_page(client, buyer)
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4000 0000 0000 0002"})
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.FAILED
    assert order.first_webhook_at is None  # a decline starts no enrollment clock

    retried = client.post(f"/orders/{order.token}/retry", data={"provider": "sandbox"})
    assert retried.status_code == 303
    second = payment_token(retried.headers["Location"])
    client.post(f"/pay/{second}/sandbox", data={"action": "pay", "card": "4242 4242 4242 4242"})
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID
    paid_event = db_session.scalars(
        select(WebhookEvent).order_by(WebhookEvent.received_at.desc())
    ).first()
    assert paid_event is not None
    assert order.first_webhook_at == paid_event.received_at
