from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.services import set_price
from app.checkout.models import Order, OrderStatus
from app.core.money import Money
from app.core.security import new_token
from tests.factories import make_course
from tests.payments.conftest import (  # noqa: F401 - shared fixtures
    buyer,
    checkout,
    fill_cart,
    mailbox,
    order_of,
    payment_token,
    providers,
    run_jobs,
)

CARD = {"action": "pay", "card": "4242424242424242"}


@pytest.fixture
def pay_order(client: FlaskClient, db_session: Session, buyer: User) -> Callable[..., Order]:  # noqa: F811
    """Buy courses ((title, price[, list price]), ...) in a currency, with a coupon code, through
    the checkout form (billing fields: billing_name, tax_id, state) and the sandbox; the paid
    order."""

    def pay(
        currency: str = "INR",
        courses: tuple[tuple[str, int] | tuple[str, int, int], ...] = (("Python basics", 100000),),
        coupon: str | None = None,
        **billing: Any,
    ) -> Order:
        ids = []
        for title, price, *was in courses:
            course = make_course(title, prices={currency: price})
            if was:
                set_price(course, Money(price, currency), Money(was[0], currency))
            ids.append(course.id)
        fill_cart(buyer, ids, currency)
        if coupon:
            client.post("/cart/coupon", data={"code": coupon})
        answer = checkout(client, key=f"key-{new_token()}", **billing)
        assert answer.status_code == 303, answer.text
        client.post(f"/pay/{payment_token(answer.headers['Location'])}/sandbox", data=CARD)
        run_jobs()
        order = order_of(db_session, buyer)
        assert order.status is OrderStatus.PAID
        return order

    return pay
