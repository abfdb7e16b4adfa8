"""POST /api/v1/order (seed 002): the cart token and an Idempotency-Key header."""

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cart import queries as cart_queries
from app.cart import services as cart_services
from app.checkout.models import Order
from app.payments.models import Payment
from tests.conftest import login_as
from tests.factories import make_course, make_user


def test_order_with_an_idempotency_key_header(client: FlaskClient, db_session: Session) -> None:
    user = make_user()
    login_as(client, user)
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course(prices={"USD": 2500}).id, user)
    headers = {"Idempotency-Key": "api-key-000001"}
    first = client.post("/api/v1/order", json={"cart_token": cart.token}, headers=headers)
    assert first.status_code == 200, first.json
    order = first.json["data"]["order"]
    assert order["status"] == "awaiting_payment" and order["total"] == 2500
    assert "/pay/" in order["checkout_url"] and first.json["data"]["replayed"] is False
    payment = db_session.scalars(select(Payment)).one()
    assert order["payment_token"] == payment.token
    again = client.post("/api/v1/order", json={"cart_token": cart.token}, headers=headers)
    assert again.json["data"]["order"]["order_token"] == order["order_token"]
    assert again.json["data"]["replayed"] is True
    db_session.delete(cart)  # the same key for another cart of this user
    db_session.flush()
    newer = _cart_of(user)
    other = client.post("/api/v1/order", json={"cart_token": newer}, headers=headers)
    assert other.status_code == 422
    assert other.json["code"] == "idempotency_key_reused"
    assert db_session.scalar(select(func.count(Order.id))) == 1
    assert db_session.scalar(select(func.count(Payment.id))) == 1


def test_free_order_and_refusals(client: FlaskClient, db_session: Session) -> None:
    from tests.cart.conftest import make_coupon

    user = make_user()
    login_as(client, user)
    cart = cart_services.open_cart("USD", user)
    cart_services.add_course(cart, make_course(prices={"USD": 900}).id, user)
    make_coupon("GIFT", percent_off_bp=10000)
    cart_services.apply_coupon(cart, "GIFT", user)
    free = client.post(
        "/api/v1/order", json={"cart_token": cart.token, "idempotency_key": "free-key-0001"}
    )
    data = free.json["data"]["order"]
    assert data["status"] == "completed" and data["total"] == 0 and len(data["enrollment_ids"]) == 1
    assert data["enrollment_id"] == data["enrollment_ids"][0]
    anonymous = cart_services.open_cart("USD")
    refused = client.post(
        "/api/v1/order", json={"cart_token": anonymous.token, "idempotency_key": "anon-key-001"}
    )
    assert refused.status_code == 404  # a cart with no owner is nobody's to order
    assert client.post("/api/v1/order", json={"cart_token": "nope"}).status_code == 404
    short = client.post("/api/v1/order", json={"cart_token": cart.token, "idempotency_key": "x"})
    assert short.status_code == 422 and short.json["field"] == "idempotency_key"
    header = client.post(
        "/api/v1/order", json={"cart_token": cart.token}, headers={"Idempotency-Key": "x"}
    )
    assert header.status_code == 422 and header.json["code"] == "bad_key"


def _cart_of(user: object, price: int = 2500) -> str:
    cart = cart_services.open_cart("USD", user)  # type: ignore[arg-type]
    cart_services.add_course(cart, make_course(prices={"USD": price}).id, user)  # type: ignore[arg-type]
    return cart.token


def test_anonymous_order_is_401_and_changes_nothing(
    client: FlaskClient, db_session: Session
) -> None:
    token = _cart_of(make_user())
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            "/api/v1/order",
            json={"cart_token": token},
            headers={"Idempotency-Key": "anon-000001", **headers},
        )
        assert response.status_code == 401 and response.json["success"] is False
        assert response.json["code"] == "login_required"
    assert db_session.scalar(select(func.count(Order.id))) == 0


def test_another_users_cart_token_is_404(client: FlaskClient, db_session: Session) -> None:
    owner, intruder = make_user(email="owner@example.com"), make_user(email="intruder@example.com")
    token = _cart_of(owner)
    login_as(client, intruder)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            "/api/v1/order",
            json={"cart_token": token},
            headers={"Idempotency-Key": "steal-00001", **headers},
        )
        assert response.status_code == 404 and response.json["code"] == "cart_not_found"
    assert db_session.scalar(select(func.count(Order.id))) == 0
    cart = cart_queries.get_cart_by_token(token)
    assert cart is not None and cart_services.view_cart(cart, owner).breakdown.lines
