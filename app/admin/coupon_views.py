"""Coupons and sales (the full pages are in progress: wip/coupon_views.py.txt)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin.web import placeholder


@bp.get("/coupons")
def coupon_list() -> ResponseReturnValue:
    return placeholder("Coupons and sales")
