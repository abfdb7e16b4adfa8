import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cart import queries
from app.cart.models import Cart
from app.extensions import db
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from tests.cart.conftest import make_coupon
from tests.conftest import QueryCounter, login_as
from tests.factories import PASSWORD, make_course, make_user

HX = {"HX-Request": "true"}


def _add(client: FlaskClient, course_id: int, htmx: bool = True) -> object:
    return client.post("/cart/items", data={"course_id": course_id}, headers=HX if htmx else {})


def test_add_by_htmx_refreshes_the_badge(client: FlaskClient) -> None:
    course = make_course("Kotlin", prices={"USD": 2500})
    response = client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "cart-updated"
    assert "Go to cart" in response.text and "<html" not in response.text
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cart=") and "HttpOnly" in cookie
    badge = client.get("/cart/badge")
    assert re.search(r'id="cart-badge"[^>]*>1<', badge.text)
    again = client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    assert again.status_code == 422
    assert "already in your cart" in again.text and "Go to cart" in again.text


def test_add_without_javascript_redirects_back(client: FlaskClient) -> None:
    course = make_course("Scala", prices={"USD": 2500})
    response = client.post(
        "/cart/items", data={"course_id": course.id, "next": f"/courses/{course.slug}"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/courses/{course.slug}"
    page = client.get(f"/courses/{course.slug}")
    assert "is in your cart" in page.text and "Go to cart" in page.text


def test_refusal_is_shown_in_place(client: FlaskClient) -> None:
    course = make_course("Rupee course", prices={"INR": 99900})
    response = client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    assert response.status_code == 422
    assert "has no price in USD" in response.text


def test_tampered_cookie_is_ignored(client: FlaskClient) -> None:
    course = make_course(prices={"USD": 100})
    client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    client.set_cookie("cart", "forged-token")
    assert ">0<" in client.get("/cart/badge").text


def test_cart_page_recomputes_on_remove_and_coupon(client: FlaskClient) -> None:
    a = make_course("Alpha", prices={"USD": 3000})
    b = make_course("Beta", prices={"USD": 1000})
    for course in (a, b):
        client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    page = client.get("/cart")
    assert "Alpha" in page.text and "$40.00" in page.text
    make_coupon("QUARTER", percent_off_bp=2500)
    applied = client.post("/cart/coupon", data={"code": "quarter"}, headers=HX)
    assert applied.status_code == 200 and "<html" not in applied.text
    assert "Coupon QUARTER applied" in applied.text and "$30.00" in applied.text
    wrong = client.post("/cart/coupon", data={"code": "NOPE"}, headers=HX)
    assert wrong.status_code == 422 and "Coupon is invalid." in wrong.text
    removed = client.post(f"/cart/items/{a.id}/delete", headers=HX)
    assert removed.headers["HX-Trigger"] == "cart-updated"
    assert "Alpha" not in removed.text and "$7.50" in removed.text
    no_coupon = client.post("/cart/coupon/delete", headers=HX)
    assert "$10.00" in no_coupon.text


def test_coupon_error_without_javascript(client: FlaskClient, db_session: Session) -> None:
    client.post("/cart/items", data={"course_id": make_course(prices={"USD": 100}).id})
    make_coupon("OLD", valid_until=None).active = False
    db_session.flush()
    response = client.post("/cart/coupon", data={"code": "old"})
    assert response.status_code == 422
    assert "<html" in response.text and "no longer active" in response.text


def test_owned_course_page_says_so(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    course = make_course("Mine", prices={"USD": 100})
    grant_enrollment(user.id, course.id, EnrollmentSource.ADMIN)
    login_as(client, user)
    page = client.get(f"/courses/{course.slug}")
    assert "You're enrolled in this course." in page.text
    response = client.post("/cart/items", data={"course_id": course.id}, headers=HX)
    assert response.status_code == 422 and "already own" in response.text


def test_login_merges_the_anonymous_cart(client: FlaskClient) -> None:
    user = make_user()
    course = make_course(prices={"USD": 100})
    client.post("/cart/items", data={"course_id": course.id})
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    cart = queries.get_user_cart(user.id)
    assert cart is not None and queries.cart_course_ids(cart.id) == {course.id}
    assert ">1<" in client.get("/cart/badge").text


def test_currency_switch_moves_the_cart(client: FlaskClient) -> None:
    course = make_course("Dual", prices={"USD": 1000, "INR": 79900})
    only = make_course("Only dollars", prices={"USD": 1000})
    for c in (course, only):
        client.post("/cart/items", data={"course_id": c.id})
    response = client.post("/currency", data={"currency": "INR", "next": "/cart"})
    assert response.status_code == 303
    page = client.get("/cart")
    assert "₹799.00" in page.text
    assert 'class="cart-line-title"' in page.text and ">Only dollars</a>" not in page.text
    assert "has no price in INR and left your cart" in page.text


def test_sale_price_is_shown_struck_through(client: FlaskClient, db_session: Session) -> None:
    from datetime import timedelta

    from app.cart.services import SaleSpec, create_sale
    from app.core.models import utcnow

    course = make_course("On sale", prices={"USD": 10000})
    now = utcnow()
    create_sale(
        SaleSpec(
            slug="summer2024",
            name="Summer sale",
            percent_off_bp=3000,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            course_ids=[course.id],
        )
    )
    for url in (f"/courses/{course.slug}", "/courses"):
        text = client.get(url).text
        assert "$70.00" in text and '<s class="price-list">' in text and "Summer sale" in text


# Issue 7 item 12: the coupon field is on every cart page, and a visitor with no cart yet got a
# 500 for any code (the refusal's rollback threw away the cart the request had just opened).
FIRST_VISIT_CODES = {
    "valid": "WELCOME",
    "expired": "BYGONE",
    "unknown": "NO-SUCH-CODE",
    "lowercase": "welcome",
    "with spaces": "  WELCOME  ",
    "empty": "",
}


def _first_visit_coupons() -> None:
    from datetime import timedelta

    from app.core.models import utcnow

    make_coupon("WELCOME")
    make_coupon("BYGONE", valid_until=utcnow() - timedelta(days=1))


@pytest.mark.parametrize("variant", list(FIRST_VISIT_CODES))
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_first_time_visitor_applies_a_coupon(
    client: FlaskClient, db_session: Session, variant: str, htmx: bool
) -> None:
    _first_visit_coupons()
    response = client.post(
        "/cart/coupon", data={"code": FIRST_VISIT_CODES[variant]}, headers=HX if htmx else {}
    )
    # No 500: the visitor lands on the (empty) cart page, which says why.
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/cart"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/cart"
    page = client.get("/cart")
    assert page.status_code == 200 and "Add a course before applying a coupon." in page.text
    # Nothing was kept, and the visitor can go on shopping.
    assert db_session.scalar(select(func.count(Cart.id))) == 0
    course = make_course("After coupon", prices={"USD": 1500})
    assert _add(client, course.id).status_code == 200
    applied = client.post("/cart/coupon", data={"code": "welcome"}, headers=HX)
    assert applied.status_code == 200 and "Coupon WELCOME applied" in applied.text


def test_first_time_user_applies_a_coupon(client: FlaskClient, db_session: Session) -> None:
    _first_visit_coupons()
    login_as(client, make_user())
    for code in FIRST_VISIT_CODES.values():
        response = client.post("/cart/coupon", data={"code": code})
        assert response.status_code == 303, code
        assert "Add a course before applying a coupon." in client.get("/cart").text
    _add(client, make_course(prices={"USD": 1000}).id)
    for variant, code in FIRST_VISIT_CODES.items():
        response = client.post("/cart/coupon", data={"code": code}, headers=HX)
        if variant in ("valid", "lowercase", "with spaces"):
            assert response.status_code == 200 and "Coupon WELCOME applied" in response.text
        else:
            assert response.status_code == 422, variant
            message = {
                "expired": "This coupon has expired.",
                "unknown": "Coupon is invalid.",
                "empty": "Enter a code.",
            }[variant]
            assert message in response.text


def test_refused_coupon_keeps_the_coupon_already_applied(
    client: FlaskClient, db_session: Session
) -> None:
    _first_visit_coupons()
    _add(client, make_course(prices={"USD": 2000}).id)
    assert client.post("/cart/coupon", data={"code": "WELCOME"}, headers=HX).status_code == 200
    refused = client.post("/cart/coupon", data={"code": "BYGONE"}, headers=HX)
    assert refused.status_code == 422 and "This coupon has expired." in refused.text
    page = client.get("/cart")
    assert "WELCOME" in page.text and "$18.00" in page.text


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_first_time_visitor_refused_add_then_adds(
    client: FlaskClient, db_session: Session, htmx: bool
) -> None:
    rupees = make_course("Rupees only", prices={"INR": 99900})
    dollars = make_course("Dollars", prices={"USD": 900})
    refused = _add(client, rupees.id, htmx=htmx)
    assert refused.status_code == (422 if htmx else 303)
    assert db_session.scalar(select(func.count(Cart.id))) == 0  # the refusal kept nothing
    assert "cart=" not in refused.headers.get("Set-Cookie", "")  # nor a cookie for no cart
    assert _add(client, dollars.id, htmx=htmx).status_code == (200 if htmx else 303)
    assert ">1<" in client.get("/cart/badge").text


@pytest.mark.parametrize("course_id", ["9" * 30, "2147483648", "-1", "0", "9" * 5000, "1e3"])
def test_add_with_an_out_of_range_course_id(client: FlaskClient, course_id: str) -> None:
    response = client.post("/cart/items", data={"course_id": course_id})
    assert response.status_code == 303 and response.headers["Location"] == "/courses"
    assert "That course could not be found." in client.get("/courses").text


def test_remove_with_an_out_of_range_course_id_is_not_found(client: FlaskClient) -> None:
    assert client.post(f"/cart/items/{'9' * 30}/delete").status_code == 404
    assert client.post("/cart/items/2147483648/delete").status_code == 404
    assert client.post("/cart/items/2147483647/delete").status_code == 303


def test_a_new_visitors_first_add_is_a_few_statements(
    client: FlaskClient, count_queries: QueryCounter
) -> None:
    course = make_course("Go", prices={"USD": 2500})
    count_queries.statements.clear()
    assert client.post("/cart/items", data={"course_id": course.id}, headers=HX).status_code == 200
    # The course with its prices, the new cart, its line; nothing after the commit (the button
    # says "in your cart"). A cart this request opened needs no duplicate check, no touch and
    # no cached estimate forgotten.
    tables = [" ".join(s.split()[:4]) for s in count_queries.statements]
    assert [t.split()[0] for t in tables] == ["SELECT", "INSERT", "INSERT"]
    assert [t for t in tables if t.startswith("INSERT")] == [
        "INSERT INTO carts (token,",
        "INSERT INTO cart_items (cart_id,",
    ]


def test_a_new_visitors_add_takes_no_savepoint_and_a_refusal_keeps_the_cart(
    live_app: Flask, committed: Session
) -> None:
    course = make_course("Go live", prices={"USD": 2500})
    committed.commit()
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement.split()[0].upper())

    client = live_app.test_client()
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert _add(client, course.id).status_code == 200  # type: ignore[attr-defined]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    # The cart opened for the add needs no savepoint: a refusal would roll it back as well.
    assert "SAVEPOINT" not in seen and "RELEASE" not in seen, seen
    again = _add(client, course.id)
    assert again.status_code == 422 and "already in your cart" in again.text  # type: ignore[attr-defined]
    assert ">1<" in client.get("/cart/badge").text  # the cart that was there is kept
