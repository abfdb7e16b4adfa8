from flask.testing import FlaskClient

from app.cart import services
from app.cart.services import SaleSpec, create_sale
from app.core.models import utcnow
from tests.cart.conftest import make_coupon
from tests.factories import make_course


def test_create_estimate_and_coupon_flow(client: FlaskClient) -> None:
    from datetime import timedelta

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
        43176,
        26400,
        61,
    )
    assert (data["tax_total"], data["total"]) == (3020, 19796)
    assert data["items"][0]["base_price"] == 43176 and data["items"][0]["sale_price"] == 16776

    make_coupon("SAVE20", percent_off_bp=2000)
    applied = client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "save20"})
    assert applied.status_code == 200
    assert applied.json["data"] == {
        "coupon_applied": True,
        "coupon_code": "SAVE20",
        "discount_amount": 3355,
        "new_total": 15837,
        "currency_code": "INR",
    }

    refused = client.post(f"/api/v1/cart/{token}/coupon", json={"coupon": "NOPE"})
    assert refused.status_code == 422
    assert refused.json == {
        "status": 422,
        "success": False,
        "error": {
            "code": 2004,
            "reason": "coupon_unknown",
            "message": "Coupon is invalid.",
            "validation_messages": ["Coupon is invalid."],
        },
    }
    removed = client.delete(f"/api/v1/cart/{token}/coupon")
    assert removed.json["data"]["total"] == 19796


def test_unknown_cart_and_bad_input(client: FlaskClient) -> None:
    assert client.post("/api/v1/cart/estimate", json={"cart_token": "nope"}).status_code == 404
    junk = client.post("/api/v1/cart/estimate", data="junk")  # not JSON at all
    assert junk.status_code == 400 and junk.json["error"]["code"] == "invalid_json"
    bad = client.post("/api/v1/cart", json={"products": [{"course_slug": "missing"}]})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unknown_course"


def test_user_carts_answer_by_token_too(client: FlaskClient) -> None:
    cart = services.open_cart("USD")
    services.add_course(cart, make_course(prices={"USD": 500}).id, None)
    response = client.post("/api/v1/cart/estimate", json={"cart_token": cart.token})
    assert response.json["data"]["total"] == 500
