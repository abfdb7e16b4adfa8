"""The refund form says what is missing (next to the field, 422) and changes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import OrderStatus
from app.payments.models import Refund
from tests.payments.conftest import order_of, paid_course_order

HX = {"HX-Request": "true"}


def _paid(client: FlaskClient, db_session: Session, buyer: User) -> tuple[str, int]:
    order, course_id = paid_course_order(client, db_session, buyer)
    return order.token, course_id


def _refunds(db_session: Session) -> int:
    return int(db_session.scalar(select(func.count(Refund.id))) or 0)


def test_no_course_and_no_confirmation_show_both_errors(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _ = _paid(client, db_session, buyer)
    page = client.post(f"/orders/{order}/refund", data={"request_key": "r" * 20})
    assert page.status_code == 422 and "<html" in page.text
    assert "Choose at least one course to refund." in page.text
    assert "Tick the box to confirm" in page.text
    assert 'aria-invalid="true"' in page.text
    assert _refunds(db_session) == 0


def test_missing_confirmation_with_htmx_returns_the_form_with_its_error(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, course_id = _paid(client, db_session, buyer)
    fragment = client.post(
        f"/orders/{order}/refund",
        data={"courses": str(course_id), "request_key": "r" * 20},
        headers=HX,
    )
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<form id="refund-form"')
    assert "Tick the box to confirm" in fragment.text
    assert "Choose at least one course" not in fragment.text
    assert _refunds(db_session) == 0
    assert order_of(db_session, buyer).status is OrderStatus.PAID


def test_preview_with_htmx_is_the_form(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, course_id = _paid(client, db_session, buyer)
    fragment = client.get(f"/orders/{order}/refund?courses={course_id}", headers=HX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<form id="refund-form"')
    assert "$20.00" in fragment.text and "Tick the box" not in fragment.text
