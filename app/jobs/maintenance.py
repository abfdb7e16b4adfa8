"""Housekeeping jobs that belong to no domain."""

from __future__ import annotations

import logging

from app.core.models import utcnow
from app.extensions import get_redis

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "coursefront:scheduler:heartbeat"


def record_heartbeat() -> str:
    """Write the time the scheduler last got a job through a worker (shown by /readyz)."""
    stamp = utcnow().isoformat()
    get_redis().set(HEARTBEAT_KEY, stamp, ex=3600)
    log.info("event=heartbeat at=%s", stamp)
    return stamp
