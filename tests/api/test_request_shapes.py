"""Issue 7 item 15: the JSON API checks the shape of what it is sent and names the bad field.

400 when the body is not a JSON object (unparseable, the wrong content type, too deep), 422
naming the field (`field`) when a field has the wrong type, size or value; nothing is created.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cart import services as cart_services
from app.cart.models import Cart
from app.checkout.models import Order
from tests.conftest import login_as
from tests.factories import make_course, make_user

JSON = {"Content-Type": "application/json"}


def _carts(session: Session) -> int:
    return int(session.scalar(select(func.count(Cart.id))) or 0)


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        ("{not json", JSON),
        ('{"currency": "USD"', JSON),
        ("[1, 2]", JSON),
        ("null", JSON),
        ('"USD"', JSON),
        ("[" * 50_000 + "]" * 50_000, JSON),
        ('{"products": ' + "[" * 40 + "]" * 40 + "}", JSON),
        ("currency=USD", {"Content-Type": "application/x-www-form-urlencoded"}),
        ('{"currency": "USD"}', {"Content-Type": "text/plain"}),
    ],
    ids=[
        "invalid",
        "truncated",
        "list",
        "null",
        "string",
        "50000-deep",
        "40-deep",
        "form",
        "text-plain",
    ],
)
def test_create_cart_refuses_a_body_that_is_not_a_json_object(
    client: FlaskClient, db_session: Session, raw: str, headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/cart", data=raw, headers=headers)
    assert response.status_code == 400, response.json
    assert response.json["success"] is False and response.json["status"] == 400
    assert response.json["code"] in ("invalid_json", "json_too_deep")
    assert _carts(db_session) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "USDUSDUSDU"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": 840}, "currency"),
        ({"currency": ["USD"]}, "currency"),
        ({"products": "intro-to-go"}, "products"),
        ({"products": {"course_slug": "x"}}, "products"),
        ({"products": ["intro-to-go"]}, "products.0"),
        ({"products": [{"course_slug": None}]}, "products.0"),
        ({"products": [{"course_slug": 12}]}, "products.0.course_slug"),
        ({"products": [{"course_slug": "x" * 10_000}]}, "products.0.course_slug"),
        ({"products": [{"course_slug": "x", "course_id": 3}]}, "products.0"),
        ({"products": [{"course_id": "3a"}]}, "products.0.course_id"),
        ({"products": [{"course_id": 1.5}]}, "products.0.course_id"),
        ({"products": [{}] * 51}, "products"),
        ({"analytics_data": [{"key": "k", "value": "v" * 501}]}, "analytics_data.0.value"),
        ({"analytics_data": {"key": "k"}}, "analytics_data"),
        ({"sale_slug": 5}, "sale_slug"),
        ({"sale_slug": "no-such-sale"}, "sale_slug"),
    ],
)
def test_create_cart_names_the_bad_field(
    client: FlaskClient, db_session: Session, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/cart", json=body)
    assert response.status_code == 422, response.json
    assert response.json["field"] == field and response.json["error"]
    assert _carts(db_session) == 0


def test_create_cart_with_no_body_or_lower_case_currency(
    client: FlaskClient, db_session: Session
) -> None:
    course = make_course(prices={"INR": 50000})
    assert client.post("/api/v1/cart").status_code == 201  # no fields: an empty USD cart
    made = client.post(
        "/api/v1/cart", json={"currency": "inr", "products": [{"course_slug": course.slug}]}
    )
    assert made.status_code == 201
    estimate = client.post(
        "/api/v1/cart/estimate", json={"cart_token": made.json["data"]["cart"]["cart_token"]}
    )
    assert estimate.json["data"]["currency_code"] == "INR"


@pytest.mark.parametrize(
    "body",
    [{"cart_token": 5}, {"cart_token": None}, {}, {"cart_token": ["x"]}, {"cart_token": {}}],
)
def test_estimate_needs_a_string_token(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/cart/estimate", json=body)
    assert response.status_code == 422 and response.json["field"] == "cart_token"


@pytest.mark.parametrize("coupon", [5, ["SAVE"], {"code": "SAVE"}, True, "S" * 500])
def test_coupon_must_be_a_string(client: FlaskClient, db_session: Session, coupon: object) -> None:
    cart = cart_services.open_cart("USD")
    cart_services.add_course(cart, make_course(prices={"USD": 500}).id, None)
    response = client.post(f"/api/v1/cart/{cart.token}/coupon", json={"coupon": coupon})
    assert response.status_code == 422 and response.json["field"] == "coupon"
    assert db_session.get(Cart, cart.id).coupon_id is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("currency", "US\u0000"),
        ("slug", "intro\u0000"),
        ("coupon", "SAVE\u0000"),
        ("token", "tok\u0000en"),
        ("surrogate", "\ud800"),
    ],
)
def test_nul_and_unencodable_strings_are_refused(
    client: FlaskClient, db_session: Session, where: str, value: str
) -> None:
    body = {
        "currency": {"currency": value},
        "slug": {"products": [{"course_slug": value}]},
        "coupon": {"coupon": value},
        "token": {"cart_token": value},
        "surrogate": {"currency": value},
    }[where]
    path = "/api/v1/cart/estimate" if where == "token" else "/api/v1/cart"
    if where == "coupon":
        path = f"/api/v1/cart/{cart_services.open_cart('USD').token}/coupon"
    response = client.post(path, data=json.dumps(body), headers=JSON)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "invalid_characters"
    assert "not allowed" in response.json["error"]


def test_nul_in_the_path_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/cart/a%00b/coupon", json={"coupon": "X"})
    assert response.status_code == 400 and response.json["success"] is False
    assert client.delete("/api/v1/cart/a%00b/coupon").status_code == 400


def test_order_with_an_unknown_provider_is_422(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    login_as(client, user)
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course(prices={"USD": 2500}).id, user)
    for provider in ("paypal", "x" * 300, 7):
        response = client.post(
            "/api/v1/order",
            json={"cart_token": cart.token, "provider": provider},
            headers={"Idempotency-Key": "api-key-unknown-provider"},
        )
        assert response.status_code == 422, response.json
        assert response.json["field"] == "provider"
    assert "sandbox" in response.json["error"] or provider == 7
    assert db_session.scalar(select(func.count(Order.id))) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"cart_token": 12},
        {"cart_token": "CART", "idempotency_key": 12345678},
        {"cart_token": "CART", "idempotency_key": "k\u0000" * 8},
    ],
)
def test_order_fields_are_typed(
    client: FlaskClient, db_session: Session, body: dict[str, Any]
) -> None:
    user = make_user()
    login_as(client, user)
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course(prices={"USD": 2500}).id, user)
    body = {k: cart.token if v == "CART" else v for k, v in body.items()}
    response = client.post("/api/v1/order", json=body)
    assert response.status_code in (400, 422), response.json
    assert db_session.scalar(select(func.count(Order.id))) == 0


def test_idempotency_key_header_with_a_nul_is_refused(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    login_as(client, user)
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course(prices={"USD": 2500}).id, user)
    response = client.post(
        "/api/v1/order", json={"cart_token": cart.token}, headers={"Idempotency-Key": "key\x00-123"}
    )
    assert response.status_code == 400
    assert db_session.scalar(select(func.count(Order.id))) == 0
