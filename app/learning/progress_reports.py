"""An app's coarse progress report (seed 000 flow 4: PATCH .../enrollments/course/<id>/progress
{progressPercentage, totalWatchTime}) mapped onto the per-lecture progress heartbeats keep, with
the same honesty (app/learning/progress.py):

1. Time. `totalWatchTime` is the enrollment's total watch time (what the API answers, plus
   what the app played since). Only its increase over ours is claimed, and it is credited at
   most the wall time since the enrollment's previous activity (report or heartbeat; the
   enrollment itself before any) plus HEARTBEAT_ALLOWANCE_PERCENT, and at most MAX_CLAIM_S
   per report. A lower total credits nothing: watch time never goes down.
2. Where the time goes. Credited seconds fill the course's video lectures that are not done,
   in course order, each up to the seconds that make it done (LECTURE_DONE_PERCENT of its
   duration), as if the student had watched them in order.
3. Progress. The reported percentage says how many lectures, from the start, the app claims
   (half a percentage point of rounding allowed): of those, a video lecture is done once its
   watched seconds reach the mark, and a lecture without a video is done on the app's word
   (as its "mark as done" button does). Progress is then recounted from the done lectures, so
   it never exceeds what watched time supports, nor what the app claimed, and never goes down.
   Every lecture done makes the course completed and earns its certificate, as on the player.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.catalog.curriculum import list_curriculum
from app.core.errors import DomainError, NotFound
from app.core.models import utcnow
from app.extensions import db
from app.learning.dashboard import end_reason
from app.learning.models import Enrollment, LectureProgress
from app.learning.progress import MAX_CLAIM_S, recount_enrollment
from app.learning.queries import get_enrollment

ROUNDING_ALLOWANCE = 0.5  # percentage points: an app's 33.3 % of three lectures is one


class NoAccess(DomainError):
    """The enrollment ended (refunded, dropped, expired): nothing is recorded."""

    code = "no_access"
    status = 403


@dataclass(frozen=True)
class ProgressReport:
    percent: float  # 0-100, what the app shows
    watch_time_s: int  # the enrollment's total watch time as the app counts it


@dataclass(frozen=True)
class Slot:
    """A lecture in course order, with this enrollment's progress in it."""

    lecture_id: int
    has_video: bool
    duration_s: int
    watched_s: int
    done: bool


@dataclass(frozen=True)
class Fill:
    lecture_id: int
    add_s: int  # watched seconds credited to the lecture
    done: bool  # the lecture becomes done


@dataclass(frozen=True)
class ReportResult:
    enrollment: Enrollment
    credited_s: int
    course_completed: bool  # this report completed the course


def covered_lectures(percent: float, total: int) -> int:
    """How many lectures, from the first, the reported percentage claims."""
    if percent >= 100:
        return total
    return min(total, math.floor((percent + ROUNDING_ALLOWANCE) * total / 100))


def plan_fills(slots: Sequence[Slot], credit_s: int, covered: int, done_percent: int) -> list[Fill]:
    """Rules 2 and 3: where the credited seconds go, and which lectures become done."""
    fills, remaining = [], credit_s
    for index, slot in enumerate(slots):
        if slot.done:
            continue
        add, done = 0, index < covered
        if slot.has_video and slot.duration_s > 0:
            mark = -(-slot.duration_s * done_percent // 100)  # ceil: the player's 90 % rule
            add = min(remaining, max(0, mark - slot.watched_s))
            remaining -= add
            done = done and slot.watched_s + add >= mark
        if add or done:
            fills.append(Fill(slot.lecture_id, add, done))
    return fills


def credit_for(enrollment: Enrollment, report: ProgressReport, now: datetime) -> int:
    """Rule 1: the seconds this report may add to the enrollment's watch time."""
    claim = min(MAX_CLAIM_S, max(0, report.watch_time_s - enrollment.total_time_spent_s))
    since = enrollment.last_accessed_at or enrollment.enrolled_at
    slack = 1 + int(current_app.config["HEARTBEAT_ALLOWANCE_PERCENT"]) / 100
    wall = max(0.0, (now - since).total_seconds())
    return min(claim, math.floor(wall * slack))


def _locked(user_id: int, course_id: int) -> tuple[Enrollment, dict[int, LectureProgress]]:
    """The enrollment and its lecture rows, locked in the heartbeat's order (lecture rows,
    then the enrollment), so a concurrent heartbeat waits instead of deadlocking."""
    found = get_enrollment(user_id, course_id)
    if found is None:
        raise NotFound("You are not enrolled in this course.")
    rows = db.session.scalars(
        select(LectureProgress)
        .where(LectureProgress.enrollment_id == found.id)
        .order_by(LectureProgress.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    progress = {row.lecture_id: row for row in rows}
    stmt = select(Enrollment).where(Enrollment.id == found.id).with_for_update()
    enrollment = db.session.scalars(stmt.execution_options(populate_existing=True)).one()
    return enrollment, progress


def _slots(course_id: int, progress: dict[int, LectureProgress]) -> list[Slot]:
    slots = []
    for chapter in list_curriculum(course_id):
        for lecture in chapter.lectures:
            row = progress.get(lecture.id)
            watched = row.watched_s if row else 0
            done = row is not None and row.completed_at is not None
            slots.append(Slot(lecture.id, lecture.has_video, lecture.duration_s, watched, done))
    return slots


def _write(enrollment_id: int, fill: Fill, now: datetime) -> None:
    """One lecture's upsert: seconds added on the row as it is, done kept once done."""
    lp = LectureProgress
    done_at = now if fill.done else None
    stmt = insert(lp).values(
        enrollment_id=enrollment_id,
        lecture_id=fill.lecture_id,
        position_s=fill.add_s,
        watched_s=fill.add_s,
        last_credit_s=fill.add_s,
        completed_at=done_at,
        last_heartbeat_at=now,
        created_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["enrollment_id", "lecture_id"],
        set_={
            "watched_s": lp.watched_s + fill.add_s,
            "position_s": func.greatest(lp.position_s, lp.watched_s + fill.add_s),
            "last_credit_s": fill.add_s,
            "completed_at": func.coalesce(lp.completed_at, done_at),
            # The player's next heartbeat on this lecture is credited from now on.
            "last_heartbeat_at": func.greatest(lp.last_heartbeat_at, now),
        },
    )
    db.session.execute(stmt)


def _touch(enrollment: Enrollment, credit_s: int, fills: list[Fill], now: datetime) -> None:
    """The enrollment's counters, as a heartbeat moves them (the row is locked)."""
    enrollment.last_accessed_at = now
    enrollment.updated_at = now
    if credit_s <= 0:
        return
    enrollment.total_time_spent_s += credit_s
    watched = [fill.lecture_id for fill in fills if fill.add_s]
    if watched:
        enrollment.current_lecture_id = watched[-1]
    today, last = now.date(), enrollment.last_active_on
    if last != today:
        same_run = last is not None and (today - last).days == 1
        enrollment.streak_days = enrollment.streak_days + 1 if same_run else 1
        enrollment.last_active_on = today


def record_progress_report(
    user_id: int, course_id: int, report: ProgressReport, *, now: datetime | None = None
) -> ReportResult:
    """Apply an app's report under the rules above; NotFound without an enrollment, NoAccess
    once it has ended. Returns the enrollment as it is now."""
    now = now or utcnow()
    enrollment, progress = _locked(user_id, course_id)
    if end_reason(enrollment, now) is not None:
        raise NoAccess("Your access to this course has ended: progress cannot be saved.")
    credit = credit_for(enrollment, report, now)
    slots = _slots(course_id, progress)
    done_percent = int(current_app.config["LECTURE_DONE_PERCENT"])
    fills = plan_fills(slots, credit, covered_lectures(report.percent, len(slots)), done_percent)
    for fill in fills:
        _write(enrollment.id, fill, now)
    _touch(enrollment, credit, fills, now)
    db.session.flush()
    completed = False
    if any(fill.done for fill in fills):
        completed = recount_enrollment(enrollment.id, now=now).just_completed
    db.session.refresh(enrollment)
    return ReportResult(enrollment, credit, completed)
