"""Cart endpoints of seed 002: create, estimate, apply and remove a coupon."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from flask.wrappers import Response

from app.accounts.access import viewer
from app.accounts.queries import get_user

# tutoring_views registers seed 003's allocation endpoints on the blueprint when imported.
from app.api import bp, tutoring_views  # noqa: F401
from app.api.bodies import InvalidField, choice, json_object, objects, text
from app.cart import queries, services
from app.cart.models import Cart
from app.cart.services import CouponInvalid
from app.catalog.queries import get_course_by_slug
from app.checkout.idempotency import request_hash
from app.checkout.queries import get_order_by_token, order_payload
from app.core.errors import json_error
from app.core.unit import committing
from app.extensions import csrf, limiter
from app.payments.providers import providers_for
from app.payments.services import checkout_cart

# JSON bodies only (see bodies.json_object): another site cannot send one with our cookies
# without a CORS preflight we never allow, so CSRF tokens do not apply.
csrf.exempt(bp)


def ok(data: dict[str, Any], status: int = 200) -> Response:
    response = jsonify({"status": status, "success": True, "data": data})
    response.status_code = status
    return response


def coupon_error(err: CouponInvalid) -> Response:
    body = {
        "status": 422,
        "success": False,
        "error": {
            "code": err.number,
            "reason": err.reason,
            "message": err.message,
            "validation_messages": [err.message],
        },
    }
    response = jsonify(body)
    response.status_code = 422
    return response


@bp.errorhandler(InvalidField)
def _invalid_field(err: InvalidField) -> Response:
    body = {
        "status": 422,
        "success": False,
        "error": {
            "code": err.code,
            "field": err.field,
            "message": err.message,
            "validation_messages": [err.message],
        },
    }
    response = jsonify(body)
    response.status_code = 422
    return response


def _cart(token: str) -> Cart | None:
    return queries.get_cart_by_token(token) if token else None


def _owner(cart: Cart) -> Any:
    return get_user(cart.user_id) if cart.user_id else None


@bp.post("/cart")
def create_cart() -> Response:
    body = json_object()
    currency = choice(body, "currency", current_app.config["SUPPORTED_CURRENCIES"], "USD")
    slugs = [text(p, "course_slug", required=True) for p in objects(body, "products")]
    courses = [c for c in map(get_course_by_slug, slugs) if c is not None]
    if len(courses) != len(slugs):
        return json_error("unknown_course", "No such course.", 422)
    with committing(catch=True) as unit:
        cart = services.open_cart(currency)
        for course in courses:
            services.add_course(cart, course.id, None)
    if unit.error is not None:
        return json_error(unit.error.code, unit.error.message, 422)
    url = url_for("cart.cart_page", _external=True)
    return ok({"cart": {"cart_token": cart.token, "cart_url": url}}, 201)


@bp.post("/cart/estimate")
def estimate() -> Response:
    cart = _cart(text(json_object(), "cart_token", required=True))
    if cart is None:
        return json_error("cart_not_found", "No cart with that token.", 404)
    return ok(services.estimate(cart, _owner(cart)))


@bp.post("/cart/<token>/coupon")
@limiter.limit("30 per minute")
def apply_coupon(token: str) -> Response:
    code = text(json_object(), "coupon")
    cart = _cart(token)
    if cart is None:
        return json_error("cart_not_found", "No cart with that token.", 404)
    with committing(catch=True) as unit:
        breakdown = services.apply_coupon(cart, code, _owner(cart))
    if isinstance(unit.error, CouponInvalid):
        return coupon_error(unit.error)
    if unit.error is not None:
        return json_error(unit.error.code, unit.error.message, 422)
    return ok(
        {
            "coupon_applied": True,
            "coupon_code": breakdown.coupon_code,
            "discount_amount": breakdown.coupon_discount,
            "new_total": breakdown.total,
            "currency_code": breakdown.currency,
        }
    )


@bp.delete("/cart/<token>/coupon")
def remove_coupon(token: str) -> Response:
    cart = _cart(token)
    if cart is None:
        return json_error("cart_not_found", "No cart with that token.", 404)
    with committing():
        services.remove_coupon(cart)
    return ok(services.estimate(cart, _owner(cart)))


@bp.post("/order")
@limiter.limit("30 per minute")
def create_order() -> Response:
    """Seed 002's order creation: {cart_token, provider?}, idempotent on the Idempotency-Key.

    Only for the logged-in owner of the cart: a cart token alone acts for nobody. The session
    cookie authenticates here without CSRF because the body must be application/json, which
    another site's form cannot send (and no CORS is allowed)."""
    owner = viewer()  # the session for now; API tokens come with the API issue
    if owner is None:
        return json_error("login_required", "Log in, then order your cart.", 401)
    body = json_object()
    cart = _cart(text(body, "cart_token", required=True))
    if cart is None or cart.user_id != owner.id:  # someone else's cart is not found, not forbidden
        return json_error("cart_not_found", "No cart with that token.", 404)
    key = request.headers.get("Idempotency-Key") or text(body, "idempotency_key")
    provider = text(body, "provider", max_length=40) or _default_provider(cart.currency)
    fingerprint = request_hash({"cart_token": cart.token, "provider": provider})
    with committing(catch=True) as unit:
        result = checkout_cart(owner, cart, provider, key, fingerprint)
    if unit.error is not None:
        err = unit.error
        if err.code == "no_provider":  # the provider asked for is not configured here
            raise _unknown_provider(cart.currency) from err
        return json_error(err.code, err.message, err.status if err.status >= 400 else 422)
    order = get_order_by_token(result.order_token)
    return ok(
        {"order": order_payload(order, result.redirect)}
        | {"replayed": result.replayed, "existing": result.existing}
    )


def _default_provider(currency: str) -> str:
    offered = providers_for(currency)
    return offered[0].name if offered else ""


def _unknown_provider(currency: str) -> InvalidField:
    offered = ", ".join(p.name for p in providers_for(currency)) or f"none for {currency}"
    return InvalidField(f"provider must be one of: {offered}.", field="provider")
