"""The order page and the fragment it polls: the whole body, polling only while unpaid."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import OrderStatus
from tests.factories import make_course
from tests.payments.conftest import checkout, fill_cart, order_of, payment_token, run_jobs

HX = {"HX-Request": "true"}


def _awaiting(client: FlaskClient, db_session: Session, buyer: User) -> tuple[str, str]:
    fill_cart(buyer, [make_course("Polling Patterns", prices={"USD": 4479}).id])
    token = payment_token(checkout(client).headers["Location"])
    return order_of(db_session, buyer).token, token


def test_polled_fragment_is_the_whole_body_while_waiting(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _ = _awaiting(client, db_session, buyer)
    fragment = client.get(f"/orders/{order}", headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="order-body"')
    assert "Polling Patterns" in fragment.text and "History" in fragment.text
    assert 'hx-trigger="every 2s"' in fragment.text and 'hx-swap="outerHTML"' in fragment.text


def test_page_without_js_refreshes_itself_while_waiting(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _ = _awaiting(client, db_session, buyer)
    page = client.get(f"/orders/{order}")
    assert page.status_code == 200 and "<html" in page.text
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page.text
    assert "Polling Patterns" in page.text


def test_paid_fragment_keeps_items_and_stops_polling(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, pay = _awaiting(client, db_session, buyer)
    client.post(f"/pay/{pay}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.PAID
    fragment = client.get(f"/orders/{order}", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="order-body"')
    assert "You're enrolled" in fragment.text and "Polling Patterns" in fragment.text
    assert "every 2s" not in fragment.text and "hx-get" not in fragment.text
    page = client.get(f"/orders/{order}")
    assert 'http-equiv="refresh"' not in page.text and "every 2s" not in page.text
