"""Switching currency keeps a coupon valid in the new currency and says when it is not."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.cart.queries import get_user_cart
from app.core.money import Money
from tests.cart.conftest import CouponKind, make_coupon
from tests.conftest import login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import fill_cart

HX = {"HX-Request": "true"}


def _setup(client: FlaskClient, coupon_currency: str | None) -> object:
    user = make_user(email="switcher@example.com")
    login_as(client, user)
    course = make_course("Two Currencies", prices={"USD": 5000, "INR": 350000})
    if coupon_currency:
        make_coupon(
            "FIVEOFF",
            kind=CouponKind.FIXED,
            amount_off=Money(500, coupon_currency),
            currency=coupon_currency,
        )
    else:
        make_coupon("FIVEOFF", percent_off_bp=1000)
    fill_cart(user, [course.id])
    assert client.post("/cart/coupon", data={"code": "FIVEOFF"}).status_code in (200, 303)
    return user


def _switch(client: FlaskClient, code: str, **headers: str) -> object:
    return client.post("/currency", data={"currency": code, "next": "/cart"}, headers=headers)


def test_any_currency_coupon_stays_after_switch(client: FlaskClient, db_session: Session) -> None:
    user = _setup(client, None)
    assert _switch(client, "INR").status_code == 303
    cart = get_user_cart(user.id)  # type: ignore[attr-defined]
    assert cart is not None and cart.currency == "INR" and cart.coupon_id is not None
    page = client.get("/cart")
    assert "Coupon FIVEOFF" in page.text and "is not applied" not in page.text


def test_coupon_for_another_currency_is_explained_next_to_the_field(
    client: FlaskClient, db_session: Session
) -> None:
    _setup(client, "USD")
    assert _switch(client, "INR").status_code == 303
    page = client.get("/cart")
    assert "Coupon FIVEOFF is not applied" in page.text and "carts in USD" in page.text
    assert page.text.index("is not applied") < page.text.index('id="code"')
    # Back to USD: the coupon applies again, nothing was lost.
    _switch(client, "USD")
    assert "is not applied" not in client.get("/cart").text


def test_switch_with_htmx_keeps_coupon_and_redirects(
    client: FlaskClient, db_session: Session
) -> None:
    user = _setup(client, None)
    response = _switch(client, "INR", **HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/cart"
    cart = get_user_cart(user.id)  # type: ignore[attr-defined]
    assert cart is not None and cart.currency == "INR" and cart.coupon_id is not None


def test_currency_select_submits_itself_with_js_and_has_a_button_without(
    client: FlaskClient, db_session: Session
) -> None:
    _setup(client, None)
    page = client.get("/cart").text
    start = page.index('id="cart-currency"')
    form = page[page.rindex("<form", 0, start) : page.index("</form>", start)]
    assert "currency-form" in form and "<noscript>" in form
