"""Buying a time-limited course through the real pages: the period is shown where it is sold
(cart, checkout, order page, receipt), frozen on the order line, and the enrollment ends one
period after the payment. A time-limited or ended enrollment can be bought again (extended);
one held for good cannot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart import queries as cart_queries
from app.cart import services as cart_services
from app.checkout.errors import OrderError
from app.checkout.lifecycle import fulfil_order
from app.checkout.models import OrderItem, OrderStatus
from app.checkout.services import enroll_free, place_order
from app.core.models import utcnow
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.models import EnrollmentSource, EnrollmentStatus
from app.learning.services import AccessTerm, grant_enrollment
from tests.factories import PASSWORD, make_course, make_user
from tests.learning.periods import enrollment_of, limited_course, line_of, set_period
from tests.payments.conftest import checkout, fill_cart, order_of, payment_token, run_jobs

HX = {"HX-Request": "true"}
SIX_MONTHS = AccessPeriod(6, "month")


def _state(user: User | None, course_id: int) -> cart_queries.PurchaseState:
    course = cart_queries.load_course(course_id)
    assert course is not None
    cart = cart_queries.get_user_cart(user.id) if user is not None else None
    return cart_queries.purchase_state(course, user, cart, "USD")


def test_the_period_is_shown_where_it_is_sold_and_ends_access_after_the_payment(
    client: FlaskClient, db_session: Session, buyer: User, mailbox: Path
) -> None:
    course = limited_course(SIX_MONTHS, "Half a year of SQL")
    lifetime = make_course("Forever Python", prices={"USD": 1500})
    fill_cart(buyer, [course.id, lifetime.id])
    cart = client.get("/cart").text
    assert cart.count("of access") == 1 and "6 months of access" in cart
    assert "6 months of access" in client.get("/cart", headers=HX).text
    assert "6 months of access" in client.get("/checkout").text

    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID and order.paid_at is not None
    lines = {item.title: item.access_period for item in _items(order.id)}
    assert lines == {"Half a year of SQL": SIX_MONTHS, "Forever Python": None}
    assert enrollment_of(buyer, course).expires_at == SIX_MONTHS.after(order.paid_at)
    assert enrollment_of(buyer, lifetime).expires_at is None
    page = client.get(f"/orders/{order.token}").text
    assert page.count("of access") == 1 and "6 months of access" in page
    [receipt] = [p.read_text() for p in mailbox.glob("*.eml")]
    assert "Half a year of SQL (6 months of access)" in receipt
    assert "6 months of access</small>" in receipt


def test_the_line_keeps_the_period_it_was_sold_with(db_session: Session, buyer: User) -> None:
    course = limited_course(SIX_MONTHS)
    fill_cart(buyer, [course.id])
    order = place_order(buyer, cart_queries.get_user_cart(buyer.id))  # type: ignore[arg-type]
    set_period(course, AccessPeriod(1, "week"))  # the teacher changes it before the payment
    order.paid_at = utcnow()
    fulfil_order(order, "test payment")
    assert line_of(order).access_period == SIX_MONTHS
    assert enrollment_of(buyer, course).expires_at == SIX_MONTHS.after(order.paid_at)


def test_the_snapshot_reads_periods_with_the_prices_in_one_go(
    db_session: Session, buyer: User, count_queries: object
) -> None:
    """The period comes with the prices the cart is priced from: more courses, no more reads."""

    def statements(n: int) -> int:
        user = make_user()
        courses = [limited_course(SIX_MONTHS) for _ in range(n)]
        fill_cart(user, [c.id for c in courses])
        cart = cart_queries.get_user_cart(user.id)
        db.session.expire_all()
        before = count_queries.count  # type: ignore[attr-defined]
        order = place_order(user, cart)  # type: ignore[arg-type]
        assert [item.access_period for item in _items(order.id)] == [SIX_MONTHS] * n
        return count_queries.count - before  # type: ignore[attr-defined,no-any-return]

    assert statements(3) == statements(1)


def _items(order_id: int) -> list[OrderItem]:
    return list(db.session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)))


def test_a_time_limited_course_can_be_extended_from_its_page(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = limited_course(SIX_MONTHS)
    term = AccessTerm(SIX_MONTHS, utcnow() - timedelta(days=1))
    grant_enrollment(buyer.id, course.id, EnrollmentSource.PURCHASE, None, term)
    state = _state(buyer, course.id)
    assert state.kind == "extend" and state.period == SIX_MONTHS
    assert state.expires_at == enrollment_of(buyer, course).expires_at
    added = client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    assert added.status_code == 200
    assert cart_queries.cart_course_ids(cart_queries.get_user_cart(buyer.id).id) == {course.id}  # type: ignore[union-attr]
    assert _state(buyer, course.id).kind == "in_cart"
    response = checkout(client)
    assert response.status_code == 303 and "/pay/" in response.headers["Location"]


def test_an_ended_enrollment_can_be_bought_again(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = limited_course(SIX_MONTHS)
    grant_enrollment(buyer.id, course.id, EnrollmentSource.PURCHASE)
    enrollment_of(buyer, course).status = EnrollmentStatus.EXPIRED
    db.session.flush()
    assert _state(buyer, course.id).kind == "buy"
    assert client.post("/cart/items", data={"course_id": course.id}).status_code == 303
    assert checkout(client).status_code == 303


def test_a_course_held_for_good_is_still_refused(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = limited_course(SIX_MONTHS)
    grant_enrollment(buyer.id, course.id, EnrollmentSource.ADMIN)  # for good
    assert _state(buyer, course.id).kind == "owned"
    refused = client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    assert refused.status_code == 422 and "already own" in refused.text


def test_place_order_refuses_only_what_is_held_for_good(db_session: Session, buyer: User) -> None:
    limited, forever = limited_course(SIX_MONTHS), make_course(prices={"USD": 900})
    fill_cart(buyer, [limited.id, forever.id])
    term = AccessTerm(SIX_MONTHS, utcnow())
    grant_enrollment(buyer.id, limited.id, EnrollmentSource.PURCHASE, None, term)
    grant_enrollment(buyer.id, forever.id, EnrollmentSource.ADMIN)
    with pytest.raises(OrderError) as refused:
        place_order(buyer, cart_queries.get_user_cart(buyer.id))  # type: ignore[arg-type]
    assert refused.value.code == "owned"
    cart_services.remove_course(cart_queries.get_user_cart(buyer.id), forever.id)  # type: ignore[arg-type]
    order = place_order(buyer, cart_queries.get_user_cart(buyer.id))  # type: ignore[arg-type]
    assert line_of(order).course_id == limited.id


def test_login_keeps_an_extension_in_the_cart(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    limited, forever = limited_course(SIX_MONTHS), make_course(prices={"USD": 900})
    grant_enrollment(
        user.id, limited.id, EnrollmentSource.PURCHASE, None, AccessTerm(SIX_MONTHS, utcnow())
    )
    grant_enrollment(user.id, forever.id, EnrollmentSource.ADMIN)
    for course in (limited, forever):
        client.post("/cart/items", data={"course_id": course.id})  # anonymous
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    cart = cart_queries.get_user_cart(user.id)
    assert cart is not None and cart_queries.cart_course_ids(cart.id) == {limited.id}


def test_the_extend_state_needs_a_price_in_the_currency(db_session: Session) -> None:
    user = make_user()
    course = make_course(prices={"INR": 99900})
    set_period(course, SIX_MONTHS, "INR")
    grant_enrollment(
        user.id, course.id, EnrollmentSource.PURCHASE, None, AccessTerm(SIX_MONTHS, utcnow())
    )
    state = _state(user, course.id)  # shopping in USD: nothing to extend with here
    assert state.kind == "owned" and state.expires_at is not None


def test_a_free_course_whose_access_ran_out_is_enrolled_again_for_good(db_session: Session) -> None:
    user, course = make_user(), make_course(prices={"USD": 0})
    grant_enrollment(
        user.id, course.id, EnrollmentSource.PURCHASE, None, AccessTerm(SIX_MONTHS, utcnow())
    )
    enrollment_of(user, course).expires_at = utcnow() - timedelta(minutes=1)  # ran out
    db.session.flush()
    priced = cart_queries.load_course(course.id)  # with its prices, as the view loads it
    assert priced is not None
    enroll_free(user, priced, "USD")
    assert enrollment_of(user, course).expires_at is None
    with pytest.raises(OrderError) as refused:
        enroll_free(user, cart_queries.load_course(course.id), "USD")  # type: ignore[arg-type]
    assert refused.value.code == "already_owned"
