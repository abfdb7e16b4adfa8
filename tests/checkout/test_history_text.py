"""Order history in words: amounts formatted, no internal ids in the text."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from tests.factories import make_course
from tests.payments.conftest import (
    order_of,
    pay_with_sandbox,
    run_jobs,
)


def _history(html: str) -> str:
    found = re.search(r'<ol class="history">(.*?)</ol>', html, re.S)
    assert found, html
    text = re.sub(r'title="[^"]*"', "", found.group(1))
    return re.sub(r"<[^>]+>", " ", text)


def test_history_after_payment_and_refund_reads_as_words(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course("Readable Histories", prices={"USD": 4479})
    pay_with_sandbox(client, buyer, [course.id])
    run_jobs()
    order = order_of(db_session, buyer)
    refund = client.post(
        f"/orders/{order.token}/refund",
        data={"courses": [str(course.id)], "confirm": "y", "request_key": "k" * 20},
    )
    assert refund.status_code == 303, refund.text
    run_jobs()  # the refund is made by its job
    text = _history(client.get(f"/orders/{order.token}").text)
    assert "sbx_" not in text and "4479" not in text and "attempt 1" not in text
    assert "Order placed" in text
    assert "Paid $44.79 with the test card" in text
    assert "Refund of $44.79 for “Readable Histories”" in text
