"""Housekeeping jobs that belong to no domain."""

from __future__ import annotations

import logging

from app.core.health import HEARTBEAT_KEY
from app.core.models import utcnow
from app.extensions import get_redis

__all__ = ["HEARTBEAT_KEY", "record_heartbeat"]

log = logging.getLogger(__name__)


def record_heartbeat() -> str:
    """Write the time the scheduler last got a job through a worker (shown by /readyz)."""
    stamp = utcnow().isoformat()
    get_redis().set(HEARTBEAT_KEY, stamp, ex=3600)
    log.info("event=heartbeat at=%s", stamp)
    return stamp
