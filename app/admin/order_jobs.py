"""Jobs the order console queues: ids in, idempotent, each commits its own work."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.checkout.models import Order
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.notifications.models import NotificationKind
from app.notifications.services import notify
from app.payments.services.reconcile import reconcile_payment

log = logging.getLogger(__name__)


def resend_order_receipt(order_id: int, form_key: str) -> None:
    """The order's receipt once more (in-app and email); one per resend form, so a job that
    runs twice sends it once."""
    order = db.session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .options(joinedload(Order.user), selectinload(Order.items))
    ).first()
    if order is None:
        return
    with committing():
        notify(
            order.user,
            f"receipt:{order.id}:resend:{form_key}",
            NotificationKind.RECEIPT,
            link=absolute_url("checkout.order_page", token=order.token),
            order=order,
            learning=absolute_url("learning.my_learning"),
        )
    log.info("event=receipt_resent order=%s", order.token)


def reconcile_order_payment(payment_id: int) -> str | None:
    """Ask the provider about one payment now and apply what it says (an admin asked)."""
    with committing():
        status = reconcile_payment(payment_id)
    log.info("event=reconcile_one payment_id=%s status=%s", payment_id, status)
    return status.value if status else None
