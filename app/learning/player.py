"""What the lecture player page shows: who may open it and how (a student whose watching is
recorded, or the course's teacher or an admin, whose is not), the curriculum with the lectures
done, where to resume, and the lectures before and after. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from app.accounts.models import User
from app.catalog.curriculum import ChapterView, LectureView, list_curriculum
from app.catalog.models import Course
from app.catalog.queries import can_view
from app.core.models import utcnow
from app.extensions import db
from app.learning.dashboard import end_reason
from app.learning.models import Enrollment, LectureProgress
from app.learning.playback import LectureMedia, get_lecture_media


class Access(StrEnum):
    STUDENT = "student"  # enrolled with access: watching is recorded
    STAFF = "staff"  # the course's teacher or an admin: plays, nothing recorded
    ENDED = "ended"  # was enrolled; refunded, dropped or past the access period
    NOT_ENROLLED = "not_enrolled"  # may see the course, has not bought it
    HIDDEN = "hidden"  # may not even see the course


def get_player_lecture(course_slug: str, lecture_id: int) -> LectureMedia | None:
    """The lecture with its course and video when it belongs to the course of that slug."""
    found = get_lecture_media(lecture_id)
    if found is None or found.course.slug != course_slug:
        return None
    return found


def decide_access(
    user: User, course: Course, enrollment: Enrollment | None, now: datetime | None = None
) -> Access:
    """How this signed-in user may use the course's player (no query)."""
    if enrollment is not None and end_reason(enrollment, now or utcnow()) is None:
        return Access.STUDENT
    if user.is_admin or user.id == course.teacher_id:
        return Access.STAFF
    if not can_view(course, user):
        return Access.HIDDEN
    return Access.ENDED if enrollment is not None else Access.NOT_ENROLLED


@dataclass(frozen=True)
class PlayerPage:
    found: LectureMedia
    enrollment: Enrollment | None  # set only when watching is recorded
    chapters: list[ChapterView]
    done: frozenset[int]  # ids of the lectures this student has done
    resume_s: int  # where this lecture was left (0: from the start)

    @property
    def records_progress(self) -> bool:
        return self.enrollment is not None

    @property
    def lectures(self) -> list[LectureView]:
        return [lecture for chapter in self.chapters for lecture in chapter.lectures]

    def _neighbour(self, step: int) -> LectureView | None:
        order = self.lectures
        ids = [lecture.id for lecture in order]
        lecture_id = self.found.lecture.id
        if lecture_id not in ids:
            return None
        index = ids.index(lecture_id) + step
        return order[index] if 0 <= index < len(order) else None

    @property
    def previous(self) -> LectureView | None:
        return self._neighbour(-1)

    @property
    def next(self) -> LectureView | None:
        return self._neighbour(1)

    @property
    def is_done(self) -> bool:
        return self.found.lecture.id in self.done


def _watching(enrollment_id: int) -> list[tuple[int, int, bool]]:
    """(lecture id, position, done) of every lecture the enrollment has progress in."""
    stmt = select(
        LectureProgress.lecture_id,
        LectureProgress.position_s,
        LectureProgress.completed_at.is_not(None),
    ).where(LectureProgress.enrollment_id == enrollment_id)
    return [(int(a), int(b), bool(c)) for a, b, c in db.session.execute(stmt)]


def get_player_page(found: LectureMedia, enrollment: Enrollment | None) -> PlayerPage:
    """The page for the lecture; with the student's enrollment, their progress in it too."""
    rows = _watching(enrollment.id) if enrollment is not None else []
    done = frozenset(lecture_id for lecture_id, _at, is_done in rows if is_done)
    resume = next((at for lecture_id, at, _d in rows if lecture_id == found.lecture.id), 0)
    return PlayerPage(found, enrollment, list_curriculum(found.course.id), done, resume)
