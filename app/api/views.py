"""Seed 002's cart and order endpoints (app/api/cart_api.py, app/api/order_api.py).

JSON bodies only: another site cannot send one with our cookies without a CORS preflight we
never allow, so CSRF tokens do not apply to the blueprint.
"""

from __future__ import annotations

from app.api import bp, cart_api, order_api
from app.extensions import csrf

csrf.exempt(bp)

__all__ = ["cart_api", "order_api"]
