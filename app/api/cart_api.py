"""Seed 002's cart endpoints: create, read, add/remove a course, auth check, estimate, coupon.

A cart is reached by its token; a cart that belongs to a user answers only that user (bearer
token or browser session), anyone else gets 404, as for a token that names no cart.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, url_for
from flask.wrappers import Response

from app.accounts.models import User
from app.accounts.queries import get_user
from app.api import bp
from app.api.auth import rate_key
from app.api.cart_schemas import (
    AuthCheck,
    AuthCheckBody,
    CartCreated,
    CartData,
    CartTokenBody,
    CouponApplied,
    CouponBody,
    CreateCart,
    Estimate,
    Period,
    Product,
)
from app.api.spec import ok, operation
from app.cart import queries, services
from app.cart.models import Cart
from app.cart.services import CartError
from app.catalog.models import Course
from app.catalog.queries import get_course_by_slug
from app.core.errors import DomainError, NotFound
from app.core.unit import committing
from app.core.visitor import visitor_currency
from app.extensions import limiter

TAG = "Cart"


def cart_for(token: str, user: User | None) -> Cart:
    """The cart this caller may use: anonymous carts by token, a user's cart by that user."""
    cart = queries.get_cart_by_token(token)
    if cart is None or (cart.user_id is not None and (user is None or user.id != cart.user_id)):
        raise NotFound("No cart with that token.", code="cart_not_found", field="cart_token")
    return cart


def _owner(cart: Cart) -> User | None:
    return get_user(cart.user_id) if cart.user_id else None


def cart_url(cart: Cart) -> str:
    return url_for("cart.open_link", signed=services.sign_cart_link(cart), _external=True)


def _field(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def _course(product: Product, at: str) -> Course:
    course_id = product.course_id or product.internship_id
    course = queries.load_course(course_id) if course_id else None
    if product.course_slug is not None:
        found = get_course_by_slug(product.course_slug)
        course = queries.load_course(found.id) if found is not None else None
    if course is None:
        which = "course_slug" if product.course_slug else "course_id"
        raise DomainError("No such course.", code="unknown_course", field=_field(at, which))
    return course


def _currency(asked: str | None, courses: list[Course]) -> str:
    """The currency asked for; else the visitor's when every course has a price in it, else
    the first supported one that prices them all (seed 002 sends no currency)."""
    if asked:
        return asked
    visitor = visitor_currency()
    supported: tuple[str, ...] = current_app.config["SUPPORTED_CURRENCIES"]
    for currency in (visitor, *supported):
        if all(c.price_in(currency) is not None for c in courses):
            return currency
    return visitor


def _add(cart: Cart, course: Course, user: User | None, period: Period | None, at: str) -> None:
    """Add the course, naming the request's field (`products[0].period`) when refused."""
    try:
        services.add_course(cart, course.id, user, period.access_period() if period else None)
    except CartError as err:
        field = _field(at, err.field) if err.field else (at or None)
        raise CartError(err.message, code=err.code, field=field) from err


def cart_data(cart: Cart, user: User | None) -> dict[str, Any]:
    loaded = queries.load_cart(cart.id)
    items = [
        {
            "course_id": item.course_id,
            "internship_id": item.course_id,
            "course_slug": item.course.slug,
            "title": item.course.title,
            "period": item.period.as_json() if item.period else None,
        }
        for item in loaded.items
    ]
    return {
        "cart": {
            "cart_token": loaded.token,
            "cart_url": cart_url(loaded),
            "currency_code": loaded.currency,
            "user_id": loaded.user_id,
            "coupon_code": loaded.coupon.code if loaded.coupon else None,
            "analytics_data": loaded.analytics_data,
            "items": items,
        },
        "estimate": services.estimate(loaded, user),
    }


@operation(
    bp,
    "POST",
    "/cart",
    summary="Create a cart with courses (seed 002); a signed-in caller's cart becomes theirs",
    tag=TAG,
    auth="optional",
    body=CreateCart,
    response=CartCreated,
    status=201,
    errors=(404, 422),
)
def create_cart(user: User | None, body: CreateCart) -> Response:
    courses = [_course(p, f"products[{i}]") for i, p in enumerate(body.products)]
    if body.sale_slug is not None and queries.get_sale_by_slug(body.sale_slug) is None:
        raise DomainError("No sale with that slug.", code="unknown_sale", field="sale_slug")
    currency = _currency(body.currency, courses)
    with committing():
        cart = services.open_cart(currency)
        for i, (product, course) in enumerate(zip(body.products, courses, strict=True)):
            _add(cart, course, user, product.period, f"products[{i}]")
        analytics = [e.model_dump() for e in body.analytics_data or []]
        services.set_analytics(cart, analytics)
        if user is not None:
            cart = services.merge_carts(cart, user)
        link = {"cart_token": cart.token, "cart_url": cart_url(cart)}
    return ok({"cart": link}, 201, correlation_id=g.get("request_id", ""))


@operation(
    bp,
    "GET",
    "/cart/<token>",
    summary="A cart with its courses and estimate",
    tag=TAG,
    auth="optional",
    response=CartData,
    errors=(404,),
)
def get_cart(token: str, user: User | None) -> Response:
    cart = cart_for(token, user)
    return ok(cart_data(cart, _owner(cart)))


@operation(
    bp,
    "POST",
    "/cart/<token>/items",
    summary="Add a course (with an optional access period) to the cart",
    tag=TAG,
    auth="optional",
    body=Product,
    response=CartData,
    status=201,
    errors=(404, 422),
)
def add_item(token: str, user: User | None, body: Product) -> Response:
    cart = cart_for(token, user)
    course = _course(body, "")
    owner = _owner(cart)
    with committing():
        _add(cart, course, owner, body.period, "")
    return ok(cart_data(cart, owner), 201)


@operation(
    bp,
    "DELETE",
    "/cart/<token>/items/<int:course_id>",
    summary="Take a course out of the cart",
    tag=TAG,
    auth="optional",
    response=CartData,
    errors=(404,),
)
def remove_item(token: str, course_id: int, user: User | None) -> Response:
    cart = cart_for(token, user)
    with committing():
        services.remove_course(cart, course_id)
    return ok(cart_data(cart, _owner(cart)))


@operation(
    bp,
    "POST",
    "/cart/<token>/auth/check",
    summary="Whether the caller is signed in; a signed-in caller claims an anonymous cart",
    tag=TAG,
    auth="optional",
    body=AuthCheckBody,
    response=AuthCheck,
    errors=(404, 422),
)
def auth_check(token: str, user: User | None, body: AuthCheckBody) -> Response:
    if body.cart_token is not None and body.cart_token != token:
        raise DomainError("cart_token differs from the path's.", code="token_mismatch")
    cart = cart_for(token, user)
    if user is None:
        return ok({"authenticated": False})
    if cart.user_id is None:  # seed 002's ValidateCartAccess: the signed-in buyer's cart now
        with committing():
            cart = services.merge_carts(cart, user)
            claimed = cart.token
    else:
        claimed = cart.token
    return ok({"authenticated": True, "user_id": user.id, "cart_token": claimed})


@operation(
    bp,
    "POST",
    "/cart/estimate",
    summary="Price the cart: sale, coupon, tax (seed 002's numbers)",
    tag=TAG,
    auth="optional",
    body=CartTokenBody,
    response=Estimate,
    errors=(404, 422),
)
def estimate(user: User | None, body: CartTokenBody) -> Response:
    cart = cart_for(body.cart_token, user)
    return ok(services.estimate(cart, _owner(cart)))


@operation(
    bp,
    "POST",
    "/cart/<token>/coupon",
    summary="Apply a coupon; refusals carry seed 002's codes 2004-2012",
    tag=TAG,
    auth="optional",
    body=CouponBody,
    response=CouponApplied,
    errors=(404, 422, 429),
    decorators=(limiter.limit("30 per minute", key_func=rate_key, override_defaults=False),),
)
def apply_coupon(token: str, user: User | None, body: CouponBody) -> Response:
    cart = cart_for(token, user)
    with committing():
        quote = services.quote_coupon(cart, body.coupon, _owner(cart))
    b = quote.breakdown
    return ok(
        {
            "coupon_applied": True,
            "coupon_code": b.coupon_code,
            "discount_amount": quote.saving,
            "new_total": b.total,
            "total_before": quote.total_before,
            "coupon_discount": b.coupon_discount,
            "currency_code": b.currency,
        }
    )


@operation(
    bp,
    "DELETE",
    "/cart/<token>/coupon",
    summary="Remove the cart's coupon; answers the new estimate",
    tag=TAG,
    auth="optional",
    response=Estimate,
    errors=(404,),
)
def remove_coupon(token: str, user: User | None) -> Response:
    cart = cart_for(token, user)
    with committing():
        services.remove_coupon(cart)
    return ok(services.estimate(cart, _owner(cart)))
