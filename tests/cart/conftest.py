from __future__ import annotations

from datetime import datetime

from app.cart import services
from app.cart.models import Coupon
from app.cart.pricing import CouponKind
from app.core.money import Money


def make_coupon(code: str = "SAVE10", **fields: object) -> Coupon:
    """A coupon built through the service (percent 10% unless told otherwise)."""
    kind = fields.pop("kind", CouponKind.PERCENT)
    spec = services.CouponSpec(
        code=code,
        kind=kind,  # type: ignore[arg-type]
        percent_off_bp=int(fields.pop("percent_off_bp", 1000 if kind is CouponKind.PERCENT else 0)),  # type: ignore[call-overload]
        amount_off=fields.pop("amount_off", None),  # type: ignore[arg-type]
        currency=fields.pop("currency", None),  # type: ignore[arg-type]
        minimum=fields.pop("minimum", None),  # type: ignore[arg-type]
        max_discount=fields.pop("max_discount", None),  # type: ignore[arg-type]
        max_uses=fields.pop("max_uses", None),  # type: ignore[arg-type]
        max_uses_per_user=fields.pop("max_uses_per_user", None),  # type: ignore[arg-type]
        valid_from=fields.pop("valid_from", None),  # type: ignore[arg-type]
        valid_until=fields.pop("valid_until", None),  # type: ignore[arg-type]
        course_ids=tuple(fields.pop("course_ids", ())),  # type: ignore[arg-type]
    )
    assert not fields, fields
    return services.create_coupon(spec)


__all__ = ["CouponKind", "Money", "datetime", "make_coupon"]
