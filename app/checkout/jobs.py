"""Checkout jobs: receipts and conversion analytics (non-critical: they never touch an order)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.checkout.models import Order
from app.core.models import utcnow
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db, get_redis
from app.notifications.models import NotificationKind
from app.notifications.services import notify

log = logging.getLogger(__name__)


def _order(order_id: int) -> Order | None:
    stmt = (
        select(Order)
        .where(Order.id == order_id)
        .options(joinedload(Order.user), selectinload(Order.items))
    )
    return db.session.scalars(stmt).first()


def send_order_receipt(order_id: int) -> None:
    """One in-app notification and one receipt email per order (items, tax, total)."""
    order = _order(order_id)
    if order is None:
        return
    with committing():
        notify(
            order.user,
            f"receipt:{order.id}",
            NotificationKind.RECEIPT,
            link=absolute_url("checkout.order_page", token=order.token),
            order=order,
            learning=absolute_url("learning.my_learning"),
        )
    log.info("event=receipt_sent order=%s", order.token)


def record_conversion(order_id: int) -> None:
    """Count the conversion for the daily analytics (idempotent per order)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    redis = get_redis()
    day = (order.paid_at or utcnow()).date().isoformat()
    if redis.sadd(f"analytics:converted:{day}", order.token):
        redis.hincrby(f"analytics:conversions:{day}", order.currency, order.total_minor)
        log.info(
            "event=conversion order=%s total=%d currency=%s",
            order.token,
            order.total_minor,
            order.currency,
        )
