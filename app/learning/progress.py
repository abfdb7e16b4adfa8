"""Honest progress (seed 000 flow 4): heartbeats from the player say where the student is and
how long they watched since the previous one; the server credits at most the wall time that
passed (times the playback rate, plus a small allowance), never for a lecture they cannot
watch. A lecture is done at LECTURE_DONE_PERCENT of its duration watched; the enrollment's
progress is its done lectures over the course's lectures, and at 100 % it becomes completed
(once, whoever races) and earns a certificate.

A heartbeat is one statement: access check, the lecture's UPSERT (the credit computed inside
ON CONFLICT DO UPDATE, from the locked row, so two concurrent heartbeats cannot both claim the
same seconds) and the enrollment's counters. Only a heartbeat that completes a lecture runs a
second one, the recount, which sees every committed completion because the first statement
holds the enrollment's row lock until commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db
from app.learning.certificates import award_certificate

MIN_RATE, MAX_RATE = 0.25, 2.0  # what a player offers; a claimed rate is clamped to it
MAX_CLAIM_S = 3600  # one heartbeat never claims more than this, whatever the clock says


class LectureHasVideo(DomainError):
    """Lectures with a video are done by watching them, not by a button."""

    code = "lecture_has_video"
    status = 409


@dataclass(frozen=True)
class Beat:
    """What a player says: where it is, seconds played since its previous beat, at what rate."""

    position_s: float
    watched_s: float
    rate: float = 1.0


@dataclass(frozen=True)
class ProgressUpdate:
    lecture_id: int
    position_s: int
    watched_s: int
    credited_s: int
    lecture_done: bool
    progress: int
    completed_lectures: int
    total_lectures: int
    course_completed: bool  # this call completed the course


# The lecture, if the user may watch it now: an enrollment with access in its course.
_TARGET = """
    SELECT e.id AS enrollment_id, l.id AS lecture_id, l.duration_s AS duration_s,
           (l.media_file_id IS NOT NULL) AS has_video
    FROM lectures l
    JOIN chapters c ON c.id = l.chapter_id
    JOIN enrollments e ON e.course_id = c.course_id
    WHERE l.id = :lecture_id AND e.user_id = :user_id
      AND e.status IN ('active', 'completed')
      AND (e.expires_at IS NULL OR e.expires_at > :now)
"""

# The credit: the claim, capped by the wall time since the previous heartbeat (at the rate)
# plus a share of it, never a fixed amount per beat (a flood of beats would add those up). A
# lecture's first heartbeat has no previous one to measure from: it only starts the clock.
_CREDIT = """LEAST(:claim, GREATEST(0, FLOOR(
        EXTRACT(EPOCH FROM (:now - lecture_progress.last_heartbeat_at)) * :rate * :slack)))"""
_DONE = "(t.duration_s > 0 AND {watched} * 100 >= t.duration_s * :done_percent)"

# What both writers share: the lecture row they upsert, and their answer (the row, the
# enrollment's counters and the course's lecture count).
_INSERT = """INSERT INTO lecture_progress AS lecture_progress
        (enrollment_id, lecture_id, position_s, watched_s, last_credit_s, completed_at,
         last_heartbeat_at, created_at)"""
_RETURNING = (
    "RETURNING enrollment_id, lecture_id, position_s, watched_s, last_credit_s, completed_at"
)
_ANSWER = """SELECT up.*, enr.progress, enr.completed_lectures, enr.status,
       (SELECT co.lecture_count FROM courses co JOIN enrollments e2 ON e2.course_id = co.id
        WHERE e2.id = enr.id) AS total
FROM up JOIN enr ON enr.id = up.enrollment_id"""

# Composed from this module's constants only; every value is a bound parameter.
_HEARTBEAT = text(
    f"""
WITH target AS ({_TARGET}),
up AS (
    {_INSERT}
    SELECT t.enrollment_id, t.lecture_id,
           CASE WHEN t.duration_s > 0 THEN LEAST(:position, t.duration_s) ELSE :position END,
           0, 0, NULL, :now, :now
    FROM target t
    ON CONFLICT (enrollment_id, lecture_id) DO UPDATE SET
        position_s = EXCLUDED.position_s,
        watched_s = lecture_progress.watched_s + {_CREDIT},
        last_credit_s = {_CREDIT},
        completed_at = COALESCE(lecture_progress.completed_at, CASE
            WHEN (SELECT {_DONE.format(watched=f"(lecture_progress.watched_s + {_CREDIT})")}
                  FROM target t) THEN :now END),
        last_heartbeat_at = GREATEST(lecture_progress.last_heartbeat_at, :now)
    {_RETURNING}
),
enr AS (
    UPDATE enrollments e SET
        total_time_spent_s = e.total_time_spent_s + up.last_credit_s,
        last_accessed_at = :now,
        current_lecture_id = up.lecture_id,
        streak_days = CASE
            WHEN e.last_active_on = :today THEN e.streak_days
            WHEN e.last_active_on = :today - 1 THEN e.streak_days + 1
            ELSE 1 END,
        last_active_on = :today,
        updated_at = :now
    FROM up WHERE e.id = up.enrollment_id
    RETURNING e.id, e.progress, e.completed_lectures, e.status
)
{_ANSWER}
"""  # noqa: S608
)

# Done lectures over the course's lectures (those still in it). Completed stays completed
# (at 100 %) when lectures are added later; `was` is read under the row lock this
# transaction holds (_LOCK), so exactly one transaction sees the move to completed.
_RECOUNT = text(
    """
WITH counts AS (
    SELECT
        (SELECT count(*) FROM lectures l JOIN chapters c ON c.id = l.chapter_id
         WHERE c.course_id = e.course_id) AS total,
        (SELECT count(*) FROM lecture_progress lp
         JOIN lectures l ON l.id = lp.lecture_id JOIN chapters c ON c.id = l.chapter_id
         WHERE lp.enrollment_id = e.id AND lp.completed_at IS NOT NULL
           AND c.course_id = e.course_id) AS done,
        e.status AS was
    FROM enrollments e WHERE e.id = :enrollment_id
)
UPDATE enrollments e SET
    completed_lectures = counts.done,
    progress = CASE
        WHEN counts.was = 'completed' THEN 100
        WHEN counts.total = 0 THEN 0
        ELSE LEAST(100, FLOOR(100.0 * counts.done / counts.total)) END,
    status = CASE
        WHEN counts.was = 'active' AND counts.total > 0 AND counts.done >= counts.total
        THEN 'completed' ELSE e.status END,
    completed_at = CASE
        WHEN counts.was = 'active' AND counts.total > 0 AND counts.done >= counts.total
        THEN :now ELSE e.completed_at END,
    updated_at = :now
FROM counts WHERE e.id = :enrollment_id
RETURNING e.progress, e.completed_lectures, counts.total,
    (counts.was = 'active' AND e.status = 'completed') AS just_completed
"""
)

_ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")

_LOCK = text("SELECT id FROM enrollments WHERE id = :enrollment_id FOR UPDATE")

_MARK_DONE = text(
    f"""
WITH target AS ({_TARGET}),
up AS (
    {_INSERT}
    SELECT t.enrollment_id, t.lecture_id, 0, 0, 0, :now, :now, :now FROM target t
    WHERE NOT t.has_video
    ON CONFLICT (enrollment_id, lecture_id) DO UPDATE SET
        completed_at = COALESCE(lecture_progress.completed_at, :now),
        last_credit_s = 0
    {_RETURNING}
),
enr AS (
    UPDATE enrollments e SET last_accessed_at = :now, current_lecture_id = up.lecture_id,
        updated_at = :now
    FROM up WHERE e.id = up.enrollment_id
    RETURNING e.id, e.progress, e.completed_lectures, e.status
)
{_ANSWER}
"""  # noqa: S608
)


def record_heartbeat(
    user_id: int, lecture_id: int, beat: Beat, *, now: datetime | None = None
) -> ProgressUpdate | None:
    """Credit a heartbeat (capped by the time that passed) and move the student's place;
    None when the user may not watch the lecture now (nothing is written then)."""
    now = now or utcnow()
    rate = beat.rate if math.isfinite(beat.rate) else 1.0
    params = {
        "user_id": user_id,
        "lecture_id": lecture_id,
        "now": now,
        "today": now.date(),
        "position": _seconds(beat.position_s, limit=10**7),
        "claim": _seconds(beat.watched_s, limit=MAX_CLAIM_S),
        "rate": min(MAX_RATE, max(MIN_RATE, rate)),
        "slack": 1 + int(current_app.config["HEARTBEAT_ALLOWANCE_PERCENT"]) / 100,
        "done_percent": int(current_app.config["LECTURE_DONE_PERCENT"]),
    }
    # Progress, not money: a heartbeat lost in a database crash is made up by the next one,
    # so its commit does not wait for the WAL to reach the disk (a third of its time).
    db.session.execute(_ASYNC_COMMIT)
    row = db.session.execute(_HEARTBEAT, params).mappings().first()
    return None if row is None else _finish(row, now)


def mark_lecture_done(
    user_id: int, lecture_id: int, *, now: datetime | None = None
) -> ProgressUpdate | None:
    """A lecture without a video is done when the student says so; None without access.
    Raises LectureHasVideo for a lecture that has one (watching it is what counts)."""
    now = now or utcnow()
    params = {"user_id": user_id, "lecture_id": lecture_id, "now": now}
    row = db.session.execute(_MARK_DONE, params).mappings().first()
    if row is None:
        if _has_video_access(params):
            raise LectureHasVideo("This lecture is done once you have watched its video.")
        return None
    return _finish(row, now)


@dataclass(frozen=True)
class Recount:
    progress: int
    completed_lectures: int
    total_lectures: int
    just_completed: bool


def recount_enrollment(enrollment_id: int, *, now: datetime | None = None) -> Recount:
    """Progress recomputed from the done lectures still in the course; the move to completed
    (once, whoever races: the caller holds or takes the enrollment's row lock) awards the
    certificate. Called when a lecture gets done, and by anything that changes a course's
    lectures or writes lecture progress in bulk (demo data, imports)."""
    now = now or utcnow()
    params = {"enrollment_id": enrollment_id, "now": now}
    # The lock first, in a statement of its own: the recount's snapshot, taken after it, sees
    # every completion committed by whoever held it (a heartbeat already holds it: no wait).
    db.session.execute(_LOCK, params)
    row = db.session.execute(_RECOUNT, params).mappings().one()
    counted = Recount(
        row["progress"], row["completed_lectures"], row["total"], bool(row["just_completed"])
    )
    if counted.just_completed:
        award_certificate(enrollment_id)
    return counted


def _finish(row: Any, now: datetime) -> ProgressUpdate:
    """The answer to a heartbeat; a lecture done by this very call recounts the enrollment."""
    progress, done, total, completed = (
        row["progress"],
        row["completed_lectures"],
        row["total"],
        False,
    )
    if row["completed_at"] == now:  # this call completed the lecture
        counted = recount_enrollment(row["enrollment_id"], now=now)
        progress, done, total = counted.progress, counted.completed_lectures, counted.total_lectures
        completed = counted.just_completed
    return ProgressUpdate(
        lecture_id=row["lecture_id"],
        position_s=row["position_s"],
        watched_s=row["watched_s"],
        credited_s=row["last_credit_s"],
        lecture_done=row["completed_at"] is not None,
        progress=progress,
        completed_lectures=done,
        total_lectures=total,
        course_completed=completed,
    )


def _has_video_access(params: dict[str, Any]) -> bool:
    found = db.session.execute(text(_TARGET), params).mappings().first()
    return found is not None and bool(found["has_video"])


def _seconds(value: float, *, limit: int) -> int:
    """A client's number of seconds as the nearest whole number within [0, limit] (rounded,
    not truncated: a 4 s lecture's 3.9 s played is its 4 s)."""
    if not math.isfinite(value):
        return 0
    return round(min(limit, max(0.0, value)))
