"""The cart estimate cache in Redis: keyed to the cart's version, dropped on every change.

A cache, not a source of truth: when Redis is unreachable every call is a miss (logged), and
the estimate is computed from PostgreSQL as if nothing had been cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from redis import Redis

from app.cart.models import Cart
from app.extensions import get_redis

log = logging.getLogger(__name__)
T = TypeVar("T")


def _key(cart: Cart) -> str:
    return f"cart:estimate:{cart.token}"


def _soft(cart: Cart, call: Callable[[Redis], T]) -> T | None:
    try:
        return call(get_redis())
    except Exception:  # Redis down or slow: a cache miss, PostgreSQL stays the truth
        log.warning("event=cart_cache_unavailable cart=%s", cart.token)
        return None


def cached_estimate(cart: Cart, country: str) -> dict[str, object] | None:
    """The cached estimate payload, if it was computed for this very version of the cart."""
    raw = _soft(cart, lambda redis: redis.get(_key(cart)))
    if not raw:
        return None
    entry = json.loads(raw)
    if entry.get("version") != cart.touched_at.isoformat() or entry.get("country") != country:
        return None
    payload: dict[str, object] = entry["estimate"]
    return payload


def store_estimate(cart: Cart, country: str, payload: dict[str, object]) -> None:
    """Cache the estimate for this version of the cart for a few minutes."""
    entry = json.dumps(
        {"version": cart.touched_at.isoformat(), "country": country, "estimate": payload}
    )
    ttl = current_app.config["CART_ESTIMATE_TTL"]
    _soft(cart, lambda redis: redis.set(_key(cart), entry, ex=ttl))


def forget_estimate(cart: Cart) -> None:
    """Drop the cached estimate (the cart changed)."""
    _soft(cart, lambda redis: redis.delete(_key(cart)))
