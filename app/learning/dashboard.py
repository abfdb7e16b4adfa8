"""What "My learning" and a course page show a student about their courses: each enrollment
as a card (progress, last watched lecture, where "Continue" goes, why access ended), and their
certificates. Reads only, a fixed number of statements whatever the number of courses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased, joinedload

from app.catalog.models import Chapter, Course, Lecture
from app.core.models import utcnow
from app.extensions import db
from app.learning.models import Certificate, Enrollment, EnrollmentStatus


class Section(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ENDED = "ended"


class EndReason(StrEnum):
    REFUNDED = "refunded"
    EXPIRED = "expired"
    DROPPED = "dropped"


def end_reason(enrollment: Enrollment, now: datetime) -> EndReason | None:
    """Why the enrollment no longer gives access (None while it does); a passed end date
    counts at once, before the daily job marks the enrollment expired."""
    if enrollment.status is EnrollmentStatus.DROPPED:
        # Refunds drop the enrollment an order paid for; an admin may drop any other.
        return EndReason.REFUNDED if enrollment.order_id is not None else EndReason.DROPPED
    if enrollment.status is EnrollmentStatus.EXPIRED:
        return EndReason.EXPIRED
    if enrollment.expires_at is not None and enrollment.expires_at <= now:
        return EndReason.EXPIRED
    return None


def ended_on(enrollment: Enrollment, now: datetime) -> datetime | None:
    """When access ended: the drop (refund) or the end of the access period."""
    reason = end_reason(enrollment, now)
    if reason is EndReason.EXPIRED:
        return enrollment.expires_at
    return enrollment.dropped_at if reason is not None else None


@dataclass(frozen=True)
class LearningCard:
    """One enrollment as the dashboard shows it."""

    enrollment: Enrollment
    course: Course
    current_lecture_title: str | None  # the last lecture watched (None: not started)
    continue_lecture_id: int | None  # where "Continue" opens: that lecture, else the first
    now: datetime

    @property
    def ended(self) -> EndReason | None:
        return end_reason(self.enrollment, self.now)

    @property
    def ended_on(self) -> datetime | None:
        return ended_on(self.enrollment, self.now)

    @property
    def section(self) -> Section:
        if self.ended is not None:
            return Section.ENDED
        if self.enrollment.status is EnrollmentStatus.COMPLETED:
            return Section.COMPLETED
        return Section.IN_PROGRESS

    @property
    def total_lectures(self) -> int:
        return self.course.lecture_count

    @property
    def new_lectures(self) -> int:
        """Lectures a completed course gained since (it stays completed)."""
        if self.enrollment.status is not EnrollmentStatus.COMPLETED:
            return 0
        return max(0, self.course.lecture_count - self.enrollment.completed_lectures)


@dataclass(frozen=True)
class Dashboard:
    in_progress: list[LearningCard]
    completed: list[LearningCard]
    ended: list[LearningCard]
    certificates: list[Certificate]

    @property
    def is_empty(self) -> bool:
        return not (self.in_progress or self.completed or self.ended)


def _first_lectures(course_ids: Iterable[int]) -> dict[int, int]:
    """The first lecture (chapter, then lecture order) of each course, in one statement."""
    ids = list(set(course_ids))
    if not ids:
        return {}
    stmt = (
        select(Chapter.course_id, Lecture.id)
        .join(Lecture, Lecture.chapter_id == Chapter.id)
        .where(Chapter.course_id.in_(ids))
        .order_by(Chapter.course_id, Chapter.position, Chapter.id, Lecture.position, Lecture.id)
        .ext(distinct_on(Chapter.course_id))
    )
    return {int(course_id): int(lecture_id) for course_id, lecture_id in db.session.execute(stmt)}


def _cards(where: list[ColumnElement[bool]], now: datetime) -> list[LearningCard]:
    """Enrollments matching `where` with their course, teacher and current lecture's title."""
    current = aliased(Lecture)
    stmt = (
        select(Enrollment, current.title)
        .outerjoin(current, current.id == Enrollment.current_lecture_id)
        .where(*where)
        .options(joinedload(Enrollment.course).joinedload(Course.teacher))
        .order_by(Enrollment.last_accessed_at.desc().nulls_last(), Enrollment.enrolled_at.desc())
    )
    rows = db.session.execute(stmt).all()
    missing = (e.course_id for e, _title in rows if e.current_lecture_id is None)
    first = _first_lectures(missing)
    return [
        LearningCard(e, e.course, title, e.current_lecture_id or first.get(e.course_id), now)
        for e, title in rows
    ]


def list_certificates(user_id: int) -> list[Certificate]:
    """The user's certificates, newest first (revoked ones too: the dashboard says so)."""
    stmt = (
        select(Certificate)
        .where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    return list(db.session.scalars(stmt))


def get_dashboard(user_id: int, now: datetime | None = None) -> Dashboard:
    """Every course the user is or was enrolled in, by section, and their certificates."""
    cards = _cards([Enrollment.user_id == user_id], now or utcnow())
    by_section: dict[Section, list[LearningCard]] = {s: [] for s in Section}
    for card in cards:
        by_section[card.section].append(card)
    by_section[Section.COMPLETED].sort(key=_completed_key, reverse=True)
    by_section[Section.ENDED].sort(key=_ended_key, reverse=True)
    return Dashboard(
        by_section[Section.IN_PROGRESS],
        by_section[Section.COMPLETED],
        by_section[Section.ENDED],
        list_certificates(user_id),
    )


def get_course_card(
    user_id: int, course_id: int, now: datetime | None = None
) -> LearningCard | None:
    """The user's enrollment in one course as a card (None when never enrolled)."""
    where = [Enrollment.user_id == user_id, Enrollment.course_id == course_id]
    cards = _cards(where, now or utcnow())
    return cards[0] if cards else None


def _completed_key(card: LearningCard) -> datetime:
    return card.enrollment.completed_at or card.enrollment.enrolled_at


def _ended_key(card: LearningCard) -> datetime:
    return card.ended_on or card.enrollment.enrolled_at


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """A past moment in words: "just now", "5 minutes ago", "yesterday", "3 Mar 2025"."""
    if moment is None:
        return "never"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return _plural(seconds // 60, "minute") + " ago"
    if seconds < 86400:
        return _plural(seconds // 3600, "hour") + " ago"
    days = seconds // 86400
    if days == 1:
        return "yesterday"
    if days < 30:
        return f"{days} days ago"
    return f"{moment.day} {moment.strftime('%b %Y')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
