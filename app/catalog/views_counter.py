"""Course page views: counted in Redis as they happen, added to course_view_days by a job.

A page view is one HINCRBY on the day's hash (`cf:course-views:YYYY-MM-DD`, field = course id),
so showing a course page writes no row. `flush_course_views` (app.catalog.jobs) moves the
counts into PostgreSQL every few minutes:

1. `take_views(day)` atomically (one Lua script) adds the live hash into the day's pending hash
   and deletes the live one, then returns the pending counts. Views arriving meanwhile start a
   fresh live hash, so none is lost.
2. `add_course_views(day, counts)` upserts them (views = views + excluded.views); the job commits.
3. `views_flushed(day)` deletes the pending hash.

A crash before the commit leaves the pending hash in place: the next run adds the newer live
counts to it and writes everything once (nothing lost, nothing twice). Only a crash between the
commit and step 3 (one Redis round trip) counts that one batch twice — a few minutes of one
day's views at worst, which we accept over losing views. A lock keeps two flushes from taking
the same pending hash at once.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.catalog.models import Course, CourseViewDay
from app.core.models import utcnow
from app.extensions import db, get_redis

log = logging.getLogger(__name__)

KEY_PREFIX = "cf:course-views:"
LOCK_KEY = "cf:course-views-flush:lock"
# A day's hash lives this long after its last view: a flush that did not run for a while (a
# stopped scheduler) still finds it. The flush looks this many days back.
KEEP_DAYS = 3
LOCK_S = 120
# After a Redis error, this process stops counting for a while: a frozen Redis would otherwise
# cost every course page its socket timeout (about a second).
PAUSE_AFTER_ERROR_S = 30.0
_PAUSE = "course_views_paused_until"

# Crawlers, link previews and scripts; an empty User-Agent is no browser either.
_NOT_A_BROWSER = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|monitor|uptime|"
    r"headless|lighthouse|curl|wget|httpie|python-|go-http|java/|okhttp|libwww|scrapy",
    re.IGNORECASE,
)

# Add the live hash into the pending one (left by an unfinished flush, or new) and return it.
_TAKE = """
local live = redis.call('HGETALL', KEYS[1])
for i = 1, #live, 2 do
  redis.call('HINCRBY', KEYS[2], live[i], live[i + 1])
end
if #live > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return redis.call('HGETALL', KEYS[2])
"""
# Release the lock only if it is still ours (it may have timed out and been taken since).
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def day_key(day: date) -> str:
    return f"{KEY_PREFIX}{day.isoformat()}"


def pending_key(day: date) -> str:
    return f"{KEY_PREFIX}{day.isoformat()}:pending"


def is_browser(user_agent: str) -> bool:
    """Whether a User-Agent looks like a person's browser (not a crawler or a script)."""
    return bool(user_agent.strip()) and _NOT_A_BROWSER.search(user_agent) is None


def count_course_view(course_id: int, now: datetime | None = None) -> bool:
    """Count one view of the course's page today (UTC). Never raises: a Redis error is logged
    and the view goes uncounted (False)."""
    state = current_app.extensions
    if time.monotonic() < state.get(_PAUSE, 0.0):
        return False
    key = day_key((now or utcnow()).date())
    try:
        pipe = get_redis().pipeline(transaction=False)  # one round trip
        pipe.hincrby(key, str(course_id), 1)
        pipe.expire(key, int(timedelta(days=KEEP_DAYS).total_seconds()))
        pipe.execute()
    except RedisError as exc:
        state[_PAUSE] = time.monotonic() + PAUSE_AFTER_ERROR_S
        log.warning(
            "event=course_view_not_counted course=%s error=%r pause_s=%.0f",
            course_id, exc, PAUSE_AFTER_ERROR_S,
        )  # fmt: skip
        return False
    return True


def days_to_flush(today: date) -> list[date]:
    """Today and the days before it whose hashes may still exist, oldest first: the first run
    after midnight moves what is left of yesterday."""
    return [today - timedelta(days=n) for n in range(KEEP_DAYS, -1, -1)]


def take_views(day: date) -> dict[int, int]:
    """The day's counts not yet in PostgreSQL, moved to its pending hash (see the module doc)."""
    raw = get_redis().eval(
        _TAKE, 2, day_key(day), pending_key(day), int(timedelta(days=KEEP_DAYS).total_seconds())
    )
    counts: dict[int, int] = {}
    for field, value in zip(raw[::2], raw[1::2], strict=True):
        try:
            course_id, views = int(field), int(value)
        except ValueError:
            log.warning("event=course_views_bad_field day=%s field=%r", day, field)
            continue
        if views > 0:
            counts[course_id] = views
    return counts


def views_flushed(day: date) -> None:
    """The day's pending counts are committed: forget them."""
    get_redis().delete(pending_key(day))


def add_course_views(day: date, counts: Mapping[int, int]) -> int:
    """Add views to the day's rows (created as needed); the views added. Courses deleted since
    their page was shown are skipped."""
    if not counts:
        return 0
    found = db.session.scalars(select(Course.id).where(Course.id.in_(list(counts))))
    # In id order, so two upserts of the same rows never wait on each other crosswise.
    kept = sorted(course_id for course_id in found if counts[course_id] > 0)
    rows = [{"day": day, "course_id": c, "views": counts[c]} for c in kept]
    if len(rows) < len(counts):
        log.info("event=course_views_skipped day=%s courses=%d", day, len(counts) - len(rows))
    if not rows:
        return 0
    stmt = insert(CourseViewDay).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CourseViewDay.day, CourseViewDay.course_id],
        set_={"views": CourseViewDay.views + stmt.excluded.views},
    )
    db.session.execute(stmt)
    return sum(counts[c] for c in kept)


def lock_flush() -> str | None:
    """A token when this process may flush now, None while another flush holds the lock."""
    token = secrets.token_hex(8)
    return token if get_redis().set(LOCK_KEY, token, nx=True, ex=LOCK_S) else None


def unlock_flush(token: str) -> None:
    get_redis().eval(_UNLOCK, 1, LOCK_KEY, token)
