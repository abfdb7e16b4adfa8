"""Access periods ending (seed 002's product `period`): enrollments past their end become
expired, once, with a notice; those ending soon get a notice a few days before; and which
courses a student holds for good (nothing left to buy).

Every notice is keyed by the enrollment and the end it announces, so an enrollment extended
after its notice gets a fresh cycle for its new end, and a job that runs twice sends nothing
twice (notify() dedupes by key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.learning.models import ACCESS_STATUSES, Enrollment, EnrollmentStatus

# By dotted path: the job module imports this one.
ENDED_JOB = "app.learning.jobs.send_access_ended"
ENDING_JOB = "app.learning.jobs.send_access_ending"

NoticeKey = Callable[[int, datetime], str]


def ending_key(enrollment_id: int, expires_at: datetime) -> str:
    """The dedupe key of the "access ends soon" notice for this end."""
    return f"access-ending:{enrollment_id}:{expires_at:%Y%m%d}"


def ended_key(enrollment_id: int, expires_at: datetime) -> str:
    """The dedupe key of the "access ended" notice for this end."""
    return f"access-ended:{enrollment_id}:{expires_at:%Y%m%d}"


def held_for_good(user_id: int, course_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of the courses (of the given ones, or all) the user can watch for good: with
    access and no end. Buying one of them again adds nothing; a time-limited or ended
    enrollment can be bought again (extended or renewed)."""
    stmt = select(Enrollment.course_id).where(
        Enrollment.user_id == user_id,
        Enrollment.status.in_(ACCESS_STATUSES),
        Enrollment.expires_at.is_(None),
    )
    if course_ids is not None:
        stmt = stmt.where(Enrollment.course_id.in_(list(course_ids)))
    return set(db.session.scalars(stmt))


def expire_enrollments(now: datetime) -> int:
    """Enrollments with access whose end has come become expired (one UPDATE ... RETURNING,
    so two runs cannot both expire one), each with its "access ended" notice queued for after
    the commit; returns how many. A completed course keeps its completion and certificate."""
    stmt = (
        update(Enrollment)
        .where(
            Enrollment.expires_at.is_not(None),
            Enrollment.expires_at <= now,
            Enrollment.status.in_(ACCESS_STATUSES),
        )
        .values(status=EnrollmentStatus.EXPIRED, updated_at=now)
        .returning(Enrollment.id)
        .execution_options(synchronize_session=False)
    )
    expired = list(db.session.scalars(stmt))
    for enrollment_id in expired:
        enqueue_after_commit(ENDED_JOB, enrollment_id, retry=NOTIFY_RETRY)
    return len(expired)


def enrollments_ending(now: datetime, days: int) -> list[Enrollment]:
    """Enrollments with access that end after `now` and within `days` days, soonest first
    (the partial index on expires_at serves this). Access that started inside that window
    (a one-week purchase) is left out: its buyer was just told when it ends."""
    window = timedelta(days=days)
    stmt = (
        select(Enrollment)
        .where(
            Enrollment.expires_at.is_not(None),
            Enrollment.expires_at > now,
            Enrollment.expires_at <= now + window,
            Enrollment.status.in_(ACCESS_STATUSES),
            Enrollment.enrolled_at < Enrollment.expires_at - window,
        )
        .order_by(Enrollment.expires_at, Enrollment.id)
    )
    return list(db.session.scalars(stmt))


def queue_ending_notices(now: datetime, days: int) -> int:
    """Queue an "access ends soon" notice job for every enrollment ending within `days` days
    (after the commit); the job sends it once per end. Returns how many were queued."""
    ending = enrollments_ending(now, days)
    for enrollment in ending:
        enqueue_after_commit(ENDING_JOB, enrollment.id, retry=NOTIFY_RETRY)
    return len(ending)


def is_ending(enrollment: Enrollment, now: datetime, days: int) -> bool:
    """The enrollment's "ends soon" notice is due: as enrollments_ending selects."""
    end, window = enrollment.expires_at, timedelta(days=days)
    return (
        enrollment.has_access
        and end is not None
        and now < end <= now + window
        and enrollment.enrolled_at < end - window
    )
