"""Seed 002 through the API, with its own numbers: the estimate (43176 → sale 16776 + 18% GST
= 19796), the coupon (SAVE20 → discount_amount 3959, new_total 15837, and the order then
charges exactly 15837), the order example (subtotal 1197600, total 1413168), the signed
cart_url, correlation_id, and period / analytics_data stored and used."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cart import queries as cart_queries
from app.cart.models import Cart
from app.cart.services import SaleSpec, create_sale
from app.catalog.models import Course, CoursePrice
from app.checkout.models import Order, OrderItem
from app.core.models import utcnow
from app.learning.queries import get_enrollment
from app.payments.models import Payment
from tests.api.tokens import bearer
from tests.cart.conftest import make_coupon
from tests.factories import make_course, make_user

ANALYTICS = [{"key": "source", "value": "google"}, {"key": "campaign", "value": "summer_sale"}]


def _sale(slug: str, prices: list[tuple[Course, int]]) -> None:
    now = utcnow()
    create_sale(
        SaleSpec(
            slug=slug,
            name=slug.title(),
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            fixed_prices=[(course.id, "INR", amount) for course, amount in prices],
        )
    )


def _seed_course() -> Course:
    course = make_course("Internship", prices={"INR": 43176})
    _sale("summer2024", [(course, 16776)])
    return course


def _seed_cart(client: FlaskClient, course: Course, headers: dict[str, str] | None = None) -> Any:
    body = {
        "sale_slug": "summer2024",
        "products": [{"internship_id": str(course.id), "period": {"value": 3, "unit": "month"}}],
        "analytics_data": ANALYTICS,
    }
    return client.post("/api/v1/cart", json=body, headers=headers or {})


def test_cart_estimate_coupon_and_order_follow_seed_002(
    client: FlaskClient, db_session: Session
) -> None:
    course = _seed_course()
    created = _seed_cart(client, course, {"X-Request-ID": "9f503084-44d7-4da7-8be4-a673"})
    assert created.status_code == 201, created.json
    assert created.json["correlation_id"] == "9f503084-44d7-4da7-8be4-a673"
    token = created.json["data"]["cart"]["cart_token"]
    assert "/cart/open/" in created.json["data"]["cart"]["cart_url"]

    estimate = client.post("/api/v1/cart/estimate", json={"cart_token": token})
    assert estimate.status_code == 200, estimate.json
    data = estimate.json["data"]
    seed = {
        "currency_code": "INR",
        "tax_rate": 18,
        "sub_total": 16776,
        "total": 19796,
        "tax_total": 3020,
        "discount_amount": 26400,
        "discount_percentage": 61,
    }
    assert {k: data[k] for k in seed} == seed
    assert data["base_total"] == 43176 and data["sale_total"] == 16776
    item = data["items"][0]
    assert (item["internship_id"], item["base_price"], item["total"]) == (course.id, 43176, 16776)
    assert (item["tax_total"], item["discount_percentage"]) == (3020, 61)

    make_coupon("SAVE20", percent_off_bp=2000)
    applied = client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "SAVE20"})
    assert applied.status_code == 200, applied.json
    got = applied.json["data"]
    assert (got["coupon_applied"], got["discount_amount"], got["new_total"]) == (True, 3959, 15837)
    # 20% comes off the pre-tax price (3355) and takes its GST with it (604): 3959 in all.
    assert (got["coupon_discount"], got["total_before"]) == (3355, 19796)

    refused = client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "NOPE"})
    assert refused.status_code == 422
    assert refused.json == {
        "success": False,
        "status": 422,
        "error": "Coupon is invalid.",
        "code": 2004,
        "field": "coupon",
        "reason": "coupon_unknown",
        "validation_messages": ["Coupon is invalid."],
    }

    buyer = make_user(email="seed002@example.com")
    auth = bearer(buyer)
    anonymous = client.post(f"/api/v1/cart/{token}/auth/check", json={"cart_token": token})
    assert anonymous.json["data"] == {"authenticated": False}
    checked = client.post(f"/api/v1/cart/{token}/auth/check", json={}, headers=auth)
    assert checked.json["data"]["authenticated"] is True
    assert checked.json["data"]["user_id"] == buyer.id
    token = checked.json["data"]["cart_token"]

    ordered = client.post(
        "/api/v1/order",
        json={"cart_token": token, "idempotency_key": "idem_123456789"},
        headers=auth,
    )
    assert ordered.status_code == 200, ordered.json
    order = ordered.json["data"]["order"]
    assert order["status"] == "awaiting_payment" and order["total"] == 15837  # as promised
    assert (order["subtotal"], order["tax_amount"], order["discount_amount"]) == (
        13421,
        2416,
        29755,
    )
    payment = db_session.scalars(select(Payment)).one()
    assert order["payment_token"] == payment.token and payment.amount_minor == 15837
    row = db_session.scalars(select(Order)).one()
    assert row.analytics_data == ANALYTICS
    line = db_session.scalars(select(OrderItem)).one()
    assert (line.access_period_value, line.access_period_unit) == (3, "month")


def test_seed_002_order_example_two_courses(client: FlaskClient, db_session: Session) -> None:
    """1197600 + 18% = 1413168 after 1200000 off: two courses of 1198800, each on sale at
    598800 (GST 107784 each)."""
    first = make_course("First", prices={"INR": 1198800})
    second = make_course("Second", prices={"INR": 1198800})
    _sale("big-sale", [(first, 598800), (second, 598800)])
    buyer = make_user(email="example@example.com")
    auth = bearer(buyer)
    created = client.post(
        "/api/v1/cart",
        json={"products": [{"course_id": first.id}, {"course_slug": second.slug}]},
        headers=auth,
    )
    token = created.json["data"]["cart"]["cart_token"]
    ordered = client.post(
        "/api/v1/order",
        json={"cart_token": token},
        headers={"Idempotency-Key": "idem-ex-1", **auth},
    )
    order = ordered.json["data"]["order"]
    assert order["status"] == "awaiting_payment" and order["currency"] == "INR"
    assert (order["subtotal"], order["total"]) == (1197600, 1413168)
    assert (order["tax_amount"], order["discount_amount"]) == (215568, 1200000)
    assert order["base_subtotal"] == 2397600 and order["payment_token"]
    again = client.get(f"/api/v1/order/{order['order_token']}", headers=auth)
    assert again.json["data"]["order"]["total"] == 1413168


def test_free_order_carries_the_enrollment_and_the_period(
    client: FlaskClient, db_session: Session
) -> None:
    course = _seed_course()
    buyer = make_user(email="free@example.com")
    auth = bearer(buyer)
    token = _seed_cart(client, course, auth).json["data"]["cart"]["cart_token"]
    make_coupon("GIFT", percent_off_bp=10000)
    assert (
        client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "gift"}, headers=auth).json[
            "data"
        ]["new_total"]
        == 0
    )
    free = client.post(
        "/api/v1/order", json={"cart_token": token, "idempotency_key": "free-key-1"}, headers=auth
    )
    order = free.json["data"]["order"]
    assert order["status"] == "completed" and "payment_token" not in order
    enrollment = get_enrollment(buyer.id, course.id)
    assert enrollment is not None and order["enrollment_id"] == enrollment.id
    # the product's period (3 months) is the access it bought
    assert enrollment.expires_at is not None
    days = (enrollment.expires_at - utcnow()).days
    assert 88 <= days <= 92


def test_a_period_the_course_does_not_offer_is_422(
    client: FlaskClient, db_session: Session
) -> None:
    course = make_course("Six months", prices={"INR": 50000})
    price = db_session.scalars(select(CoursePrice).where(CoursePrice.course_id == course.id)).one()
    price.access_period_value, price.access_period_unit = 6, "month"
    db_session.flush()
    carts = db_session.scalars(select(Cart)).all()
    _sale("summer2024", [(course, 40000)])
    refused = _seed_cart(client, course)
    assert refused.status_code == 422, refused.json
    assert refused.json["field"] == "products[0].period"
    assert refused.json["code"] == "period_not_offered"
    assert db_session.scalars(select(Cart)).all() == carts
    sold = client.post(
        "/api/v1/cart",
        json={"products": [{"course_id": course.id, "period": {"value": 6, "unit": "months"}}]},
    )
    assert sold.status_code == 201


def test_unknown_fields_are_refused_by_name(client: FlaskClient) -> None:
    course = make_course(prices={"INR": 100})
    cases = [
        ({"products": [{"course_id": course.id, "colour": "red"}]}, "products.0.colour"),
        (
            {"products": [{"course_id": course.id, "period": {"value": 0, "unit": "month"}}]},
            "products.0.period.value",
        ),
        (
            {"products": [{"course_id": course.id, "period": {"value": 3, "unit": "fortnight"}}]},
            "products.0.period.unit",
        ),
        ({"analytics_data": [{"key": "a", "value": "b", "extra": 1}]}, "analytics_data.0.extra"),
        ({"products": [{"course_id": True}]}, "products.0.course_id"),
        ({"coupon": "x"}, "coupon"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/cart", json=body)
        assert response.status_code == 422, body
        assert response.json["code"] == "VALIDATION_ERROR" and response.json["field"] == field


def test_cart_url_opens_the_cart_and_a_tampered_one_is_400(app: Flask, db_session: Session) -> None:
    course = _seed_course()
    maker, visitor = app.test_client(), app.test_client()
    url = _seed_cart(maker, course).json["data"]["cart"]["cart_url"]
    token_cart = db_session.scalars(select(Cart)).one()
    opened = visitor.get(url, follow_redirects=True)
    assert opened.status_code == 200 and "Internship" in opened.text
    assert opened.request.path == "/cart"
    tampered = app.test_client().get(url[:-3] + "abc")
    assert tampered.status_code == 400 and "<html" in tampered.text
    # signed in, the link's cart becomes the user's
    user = make_user(email="linked@example.com")
    from tests.conftest import login_as

    signed_in = app.test_client()
    login_as(signed_in, user)
    assert signed_in.get(url).status_code == 302
    db_session.expire_all()
    assert cart_queries.get_user_cart(user.id) is not None
    assert cart_queries.get_user_cart(user.id).id == token_cart.id  # type: ignore[union-attr]


def test_orders_of_others_are_404_and_cancel_gives_the_courses_back(
    client: FlaskClient, db_session: Session
) -> None:
    course = make_course("Paid", prices={"INR": 10000})
    buyer, other = make_user(email="b@example.com"), make_user(email="o@example.com")
    auth = bearer(buyer)
    token = client.post(
        "/api/v1/cart", json={"products": [{"course_id": course.id}]}, headers=auth
    ).json["data"]["cart"]["cart_token"]
    assert client.get(f"/api/v1/cart/{token}", headers=bearer(other)).status_code == 404
    assert client.get(f"/api/v1/cart/{token}").status_code == 404
    order = client.post(
        "/api/v1/order",
        json={"cart_token": token},
        headers={"Idempotency-Key": "cancel-01", **auth},
    ).json["data"]["order"]
    path = f"/api/v1/order/{order['order_token']}"
    assert client.get(path, headers=bearer(other)).status_code == 404
    assert client.post(f"{path}/cancel", headers=bearer(other)).status_code == 404
    assert client.post(f"{path}/cancel").status_code == 401
    canceled = client.post(f"{path}/cancel", headers=auth)
    assert canceled.status_code == 200, canceled.json
    assert canceled.json["data"]["order"]["status"] == "canceled"
    cart = client.get(f"/api/v1/cart/{token}", headers=auth).json["data"]["cart"]
    assert [i["course_id"] for i in cart["items"]] == [course.id]
    assert client.post(f"{path}/cancel", headers=auth).status_code == 200  # already canceled
