"""The demo student's learning: two courses in progress with a place to resume, and one
finished course whose certificate the worker renders on first start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.queries import get_user_by_email
from app.catalog.models import Chapter, Course, Lecture
from app.catalog.queries import get_course_by_slug
from app.catalog.services import slugify
from app.checkout.services import enroll_free
from app.core.models import utcnow
from app.extensions import db
from app.learning.models import Enrollment, EnrollmentSource, LectureProgress
from app.learning.progress import recount_enrollment
from app.learning.queries import get_enrollment
from app.learning.services import grant_enrollment

DEMO_LEARNER = "student1@example.com"


@dataclass(frozen=True)
class Plan:
    title: str
    done: int | None  # lectures watched to the end (None: all of them)
    resume_at_s: int = 0  # where the next lecture was left
    days_ago: int = 0  # when it was last watched


PLANS = (
    Plan("Python for Absolute Beginners", done=1, resume_at_s=4, days_ago=0),
    Plan("Modern JavaScript: From ES6 to Async/Await", done=0, resume_at_s=3, days_ago=2),
    Plan("HTML & CSS: Build Your First Website", done=None, days_ago=9),
)


def seed_learning() -> int:
    """Enroll the demo student and write their watching history, once; how many courses."""
    student = get_user_by_email(DEMO_LEARNER)
    if student is None:
        return 0
    seeded = 0
    for plan in PLANS:
        course = get_course_by_slug(slugify(plan.title))
        if course is None:
            continue
        enrollment = _enrollment(student, course.id)
        if _has_history(enrollment):
            continue
        _write_history(enrollment, _lectures(course.id), plan)
        seeded += 1
    return seeded


def _enrollment(student: User, course_id: int) -> Enrollment:
    """The student's enrollment: a free course through the shop's free enrollment (its order
    and receipt), a paid one as an admin's gift (a paid order is fulfilled by the worker only
    later, on its first start: too late for the history written here)."""
    found = get_enrollment(student.id, course_id)
    if found is not None:
        return found
    course = db.session.scalars(
        select(Course).options(selectinload(Course.prices)).where(Course.id == course_id)
    ).one()
    if course.is_free:
        enroll_free(student, course, course.prices[0].currency)
        found = get_enrollment(student.id, course_id)
        assert found is not None
        return found
    return grant_enrollment(student.id, course_id, EnrollmentSource.ADMIN)


def _has_history(enrollment: Enrollment) -> bool:
    stmt = select(LectureProgress.id).where(LectureProgress.enrollment_id == enrollment.id)
    return db.session.scalar(stmt.limit(1)) is not None


def _lectures(course_id: int) -> list[Lecture]:
    stmt = (
        select(Lecture)
        .join(Chapter, Chapter.id == Lecture.chapter_id)
        .where(Chapter.course_id == course_id)
        .order_by(Chapter.position, Lecture.position)
    )
    return list(db.session.scalars(stmt))


def _write_history(enrollment: Enrollment, lectures: list[Lecture], plan: Plan) -> None:
    """Lecture rows as heartbeats would have left them, then the enrollment recounted."""
    done = len(lectures) if plan.done is None else plan.done
    last = utcnow() - timedelta(days=plan.days_ago, hours=1)
    at = last - timedelta(days=max(1, done // 4))  # a few lectures a day, up to `last`
    step = (last - at) / max(1, done)
    spent = 0
    for lecture in lectures[:done]:
        at += step
        watched = lecture.duration_s
        db.session.add(_row(enrollment, lecture, watched, at, done=True))
        spent += watched
    current = lectures[min(done, len(lectures) - 1)] if lectures else None
    if current is not None and done < len(lectures):
        db.session.add(_row(enrollment, current, plan.resume_at_s, last))
        spent += plan.resume_at_s
    enrollment.current_lecture_id = current.id if current is not None else None
    enrollment.last_accessed_at = last
    enrollment.last_active_on = last.date()
    enrollment.streak_days = 3 if plan.days_ago == 0 else 1
    enrollment.total_time_spent_s = spent
    db.session.flush()
    recount_enrollment(enrollment.id, now=last)


def _row(
    enrollment: Enrollment, lecture: Lecture, seconds: int, at: datetime, *, done: bool = False
) -> LectureProgress:
    """Watched from the start up to `seconds` (the end, when done)."""
    return LectureProgress(
        enrollment_id=enrollment.id,
        lecture_id=lecture.id,
        position_s=seconds,
        watched_s=seconds,
        completed_at=at if done else None,
        last_heartbeat_at=at,
        created_at=at,
    )
