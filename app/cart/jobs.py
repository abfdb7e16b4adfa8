"""Cart jobs (idempotent)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from app.cart import services
from app.core.models import utcnow
from app.core.unit import committing
from app.extensions import get_redis

log = logging.getLogger(__name__)
LAST_RUN_KEY = "coursefront:jobs:clean_up_carts:last_run"


def clean_up_carts() -> int:
    """Delete carts idle for more than CART_IDLE_HOURS (seed 002: every 15 minutes, > 24 h)."""
    hours = current_app.config["CART_IDLE_HOURS"]
    with committing():
        deleted = services.delete_idle_carts(timedelta(hours=hours))
    ran_at = utcnow().isoformat()
    get_redis().set(LAST_RUN_KEY, ran_at)
    log.info("event=cart_cleanup deleted=%d idle_hours=%d ran_at=%s", deleted, hours, ran_at)
    return deleted
