"""Catalog jobs (idempotent)."""

from __future__ import annotations

import logging

from app.catalog import views_counter
from app.core.models import utcnow
from app.core.unit import committing

log = logging.getLogger(__name__)


def flush_course_views() -> int:
    """Move the course page views counted in Redis into course_view_days (every 5 minutes); the
    views added. Each day commits on its own, so one bad day does not hold back the others.
    See app.catalog.views_counter for why a crash neither loses views nor, but for one narrow
    window, counts them twice."""
    token = views_counter.lock_flush()
    if token is None:
        log.info("event=course_views_flush_skipped reason=locked")
        return 0
    added = 0
    try:
        for day in views_counter.days_to_flush(utcnow().date()):
            counts = views_counter.take_views(day)
            if not counts:
                continue
            with committing():
                day_added = views_counter.add_course_views(day, counts)
            views_counter.views_flushed(day)  # only after the commit: see the module doc
            added += day_added
            log.info("event=course_views_flushed day=%s courses=%d views=%d",
                     day, len(counts), day_added)  # fmt: skip
    finally:
        views_counter.unlock_flush(token)
    return added
