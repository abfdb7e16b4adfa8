from datetime import timedelta

from flask.testing import FlaskClient

from app.cart import services
from app.cart.services import SaleSpec, create_sale
from app.core.models import utcnow
from tests.api.tokens import bearer
from tests.cart.conftest import make_coupon
from tests.factories import make_course, make_user


def test_create_estimate_and_coupon_flow(client: FlaskClient) -> None:
    course = make_course("Internship", prices={"INR": 43176})
    now = utcnow()
    create_sale(
        SaleSpec(
            slug="summer2024",
            name="Summer",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            fixed_prices=[(course.id, "INR", 16776)],
        )
    )
    created = client.post(
        "/api/v1/cart", json={"currency": "INR", "products": [{"course_slug": course.slug}]}
    )
    assert created.status_code == 201
    token = created.json["data"]["cart"]["cart_token"]

    estimate = client.post("/api/v1/cart/estimate", json={"cart_token": token})
    assert estimate.status_code == 200 and estimate.json["success"] is True
    data = estimate.json["data"]
    assert data["currency_code"] == "INR" and data["tax_rate"] == 18
    assert (data["sub_total"], data["discount_amount"], data["discount_percentage"]) == (
        16776,
        26400,
        61,
    )
    assert (data["base_total"], data["tax_total"], data["total"]) == (43176, 3020, 19796)
    assert data["items"][0]["base_price"] == 43176 and data["items"][0]["sale_price"] == 16776

    make_coupon("SAVE20", percent_off_bp=2000)
    applied = client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "save20"})
    assert applied.status_code == 200
    assert applied.json["data"] == {
        "coupon_applied": True,
        "coupon_code": "SAVE20",
        "discount_amount": 3959,
        "new_total": 15837,
        "total_before": 19796,
        "coupon_discount": 3355,
        "currency_code": "INR",
    }

    refused = client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "NOPE"})
    assert refused.status_code == 422
    assert refused.json["code"] == 2004 and refused.json["error"] == "Coupon is invalid."
    assert refused.json["validation_messages"] == ["Coupon is invalid."]
    removed = client.delete(f"/api/v1/cart/{token}/coupon")
    assert removed.json["data"]["total"] == 19796


def test_unknown_cart_and_bad_input(client: FlaskClient) -> None:
    assert client.post("/api/v1/cart/estimate", json={"cart_token": "nope"}).status_code == 404
    junk = client.post("/api/v1/cart/estimate", data="junk")  # not JSON at all
    assert junk.status_code == 400 and junk.json["code"] == "invalid_json"
    bad = client.post("/api/v1/cart", json={"products": [{"course_slug": "missing"}]})
    assert bad.status_code == 422 and bad.json["code"] == "unknown_course"
    assert bad.json["field"] == "products[0].course_slug"


def test_anonymous_carts_answer_by_token(client: FlaskClient) -> None:
    cart = services.open_cart("USD")
    services.add_course(cart, make_course(prices={"USD": 500}).id, None)
    response = client.post("/api/v1/cart/estimate", json={"cart_token": cart.token})
    assert response.json["data"]["total"] == 500


def test_a_users_cart_answers_that_user_only(client: FlaskClient) -> None:
    owner, other = make_user(email="own@example.com"), make_user(email="oth@example.com")
    cart = services.open_cart("USD", owner)
    services.add_course(cart, make_course(prices={"USD": 500}).id, owner)
    body = {"cart_token": cart.token}
    assert client.post("/api/v1/cart/estimate", json=body).status_code == 404
    assert client.post("/api/v1/cart/estimate", json=body, headers=bearer(other)).status_code == 404
    mine = client.post("/api/v1/cart/estimate", json=body, headers=bearer(owner))
    assert mine.json["data"]["total"] == 500


def test_add_and_remove_items(client: FlaskClient) -> None:
    first, second = make_course(prices={"USD": 500}), make_course(prices={"USD": 700})
    token = client.post("/api/v1/cart", json={"products": [{"course_id": first.id}]}).json["data"][
        "cart"
    ]["cart_token"]
    added = client.post(
        f"/api/v1/cart/{token}/items",
        json={"course_id": str(second.id), "period": {"value": 1, "unit": "year"}},
    )
    assert added.status_code == 201, added.json
    items = added.json["data"]["cart"]["items"]
    assert [i["course_id"] for i in items] == [first.id, second.id]
    assert items[1]["period"] == {"value": 1, "unit": "year"}
    assert added.json["data"]["estimate"]["total"] == 1200
    again = client.post(f"/api/v1/cart/{token}/items", json={"course_id": second.id})
    assert again.status_code == 422 and again.json["code"] == "already_in_cart"
    removed = client.delete(f"/api/v1/cart/{token}/items/{first.id}")
    assert [i["course_id"] for i in removed.json["data"]["cart"]["items"]] == [second.id]
    fetched = client.get(f"/api/v1/cart/{token}")
    assert fetched.json["data"]["estimate"]["total"] == 700
