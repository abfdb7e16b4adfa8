"""Seed 002's cart bodies and replies (app/api/cart_api.py serves them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import current_app
from pydantic import BeforeValidator, Field, field_validator, model_validator

from app.api.spec import Body, Reply
from app.core.periods import AccessPeriod

MAX_PRODUCTS = 50


def _numeric_id(value: Any) -> Any:
    # Seed 002's curl quotes ids ("$COURSE_ID"): digits in a string are the number; a bool
    # is not an id.
    if isinstance(value, bool):
        raise ValueError("An id is a whole number.")
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


Id = Annotated[int, BeforeValidator(_numeric_id), Field(ge=1, le=2**31 - 1, strict=True)]
Token = Annotated[str, Field(min_length=1, max_length=64)]


class Period(Body):
    value: int = Field(ge=1, le=3650, strict=True)
    unit: Literal["day", "days", "week", "weeks", "month", "months", "year", "years"]

    def access_period(self) -> AccessPeriod:
        return AccessPeriod(self.value, self.unit.removesuffix("s"))


class Product(Body):
    """One course: by slug, or by id (seed 002's `internship_id` is our course id)."""

    course_slug: str | None = Field(default=None, min_length=1, max_length=200)
    course_id: Id | None = None
    internship_id: Id | None = None
    period: Period | None = None

    @model_validator(mode="after")
    def _one_course(self) -> Product:
        named = [v for v in (self.course_slug, self.course_id, self.internship_id) if v]
        if len(named) != 1:
            raise ValueError("Name the course once: course_slug, course_id or internship_id.")
        return self


class AnalyticsEntry(Body):
    key: str = Field(min_length=1, max_length=64)
    value: str = Field(max_length=500)


class CreateCart(Body):
    sale_slug: str | None = Field(default=None, min_length=1, max_length=80)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    products: list[Product] = Field(default_factory=list, max_length=MAX_PRODUCTS)
    analytics_data: list[AnalyticsEntry] | None = Field(default=None, max_length=50)

    @field_validator("currency")
    @classmethod
    def _supported(cls, value: str | None) -> str | None:
        if value is None:
            return None
        supported: tuple[str, ...] = current_app.config["SUPPORTED_CURRENCIES"]
        if value.upper() not in supported:
            raise ValueError(f"One of {', '.join(supported)}.")
        return value.upper()


class CartTokenBody(Body):
    cart_token: Token


class AuthCheckBody(Body):
    cart_token: Token | None = None  # seed 002 repeats the path's token in the body


class CouponBody(Body):
    coupon: str = Field(max_length=40)


class CartLink(Reply):
    cart_token: str
    cart_url: str


class CartCreatedData(Reply):
    cart: CartLink


class CartCreated(Reply):
    """Seed 002: `data.cart.{cart_token, cart_url}` and `correlation_id` (X-Request-ID)."""

    data: CartCreatedData
    correlation_id: str


class EstimateItem(Reply):
    internship_id: int
    course_id: int
    base_price: int
    sale_price: int
    total: int
    tax_total: int
    discount_percentage: int


class Estimate(Reply):
    """Seed 002's estimate; minor units. sub_total/items[].total: after discounts, before tax."""

    currency_code: str
    tax_rate: float
    sub_total: int
    total: int
    tax_total: int
    discount_amount: int
    discount_percentage: int
    base_total: int
    items: list[EstimateItem]


class CartItemReply(Reply):
    course_id: int
    internship_id: int
    course_slug: str
    title: str
    period: dict[str, Any] | None


class CartReply(Reply):
    cart_token: str
    cart_url: str
    currency_code: str
    user_id: int | None
    coupon_code: str | None
    analytics_data: list[dict[str, str]] | None
    items: list[CartItemReply]


class CartData(Reply):
    cart: CartReply
    estimate: Estimate


class AuthCheck(Reply):
    authenticated: bool
    user_id: int | None = None
    cart_token: str | None = None


class CouponApplied(Reply):
    """Seed 002's worked example: SAVE20 on 19796 → discount_amount 3959, new_total 15837."""

    coupon_applied: bool
    discount_amount: int
    new_total: int
    total_before: int
    coupon_discount: int
    coupon_code: str
    currency_code: str
