"""Cart, coupon and sale rules (one module each); import from here."""

from app.cart.services.carts import (
    CartError,
    CartView,
    add_course,
    apply_coupon,
    delete_idle_carts,
    estimate,
    merge_carts,
    open_cart,
    remove_coupon,
    remove_course,
    set_country,
    set_currency,
    touch,
    view_cart,
)
from app.cart.services.coupons import (
    CouponInvalid,
    CouponSpec,
    create_coupon,
    redeem_coupon,
    release_coupon,
    reserve_coupon,
    validate_coupon,
)
from app.cart.services.sales import SaleSpec, create_sale

__all__ = [
    "CartError",
    "CartView",
    "CouponInvalid",
    "CouponSpec",
    "SaleSpec",
    "add_course",
    "apply_coupon",
    "create_coupon",
    "create_sale",
    "delete_idle_carts",
    "estimate",
    "merge_carts",
    "open_cart",
    "redeem_coupon",
    "release_coupon",
    "remove_coupon",
    "remove_course",
    "reserve_coupon",
    "set_country",
    "set_currency",
    "touch",
    "validate_coupon",
    "view_cart",
]
