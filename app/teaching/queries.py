"""Studio reads: a teacher's courses with their figures, the curriculum being edited, the state
of every lecture's video, attachments. Reads only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on

from app.catalog.models import Category, Chapter, Course, CoursePrice, CourseStatus, Lecture
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.models import ACCESS_STATUSES, Enrollment
from app.media.models import MediaFile, MediaKind, MediaStatus

MAX_STUDIO_COURSES = 500


class VideoStage(StrEnum):
    NONE = "none"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"none": "No video"}.get(self.value, self.value.capitalize())


_STAGES = {
    MediaStatus.UPLOADING: VideoStage.UPLOADING,
    MediaStatus.UPLOADED: VideoStage.PROCESSING,
    MediaStatus.PROCESSING: VideoStage.PROCESSING,
    MediaStatus.FAILED: VideoStage.FAILED,
    MediaStatus.READY: VideoStage.READY,
}


@dataclass(frozen=True)
class VideoState:
    """Where a lecture's video stands: the newest upload's stage, and whether a video plays
    meanwhile (a replacement keeps the old one playing until it is ready)."""

    stage: VideoStage
    progress: int = 0
    playing: bool = False

    @property
    def is_busy(self) -> bool:
        return self.stage in (VideoStage.UPLOADING, VideoStage.PROCESSING)


@dataclass(frozen=True)
class VideoSummary:
    ready: int = 0
    busy: int = 0
    failed: int = 0
    missing: int = 0


@dataclass(frozen=True)
class StudioCourse:
    id: int
    title: str
    slug: str
    status: CourseStatus
    lecture_count: int
    students: int
    videos: VideoSummary


def video_states(lectures: Iterable[tuple[int, int | None]]) -> dict[int, VideoState]:
    """(lecture id, current media id) -> the state of that lecture's video, in one query."""
    current = dict(lectures)
    if not current:
        return {}
    newest = db.session.execute(
        select(MediaFile.lecture_id, MediaFile.status, MediaFile.progress)
        .where(MediaFile.lecture_id.in_(list(current)), MediaFile.kind == MediaKind.VIDEO)
        .order_by(MediaFile.lecture_id, MediaFile.created_at.desc(), MediaFile.id.desc())
        .ext(distinct_on(MediaFile.lecture_id))
    )
    latest = {lecture_id: (status, progress) for lecture_id, status, progress in newest}
    states = {}
    for lecture_id, media_id in current.items():
        playing = media_id is not None
        status, progress = latest.get(lecture_id, (None, 0))
        stage = _STAGES.get(status) if status is not None else None
        if stage is None:  # nothing uploaded, or the newest upload was abandoned
            stage = VideoStage.READY if playing else VideoStage.NONE
        states[lecture_id] = VideoState(stage, int(progress), playing)
    return states


def count_students(course_ids: Sequence[int]) -> dict[int, int]:
    """Students who can watch each course (active or completed enrollments)."""
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(Enrollment.course_id, func.count())
        .where(Enrollment.course_id.in_(list(course_ids)), Enrollment.status.in_(ACCESS_STATUSES))
        .group_by(Enrollment.course_id)
    )
    return {course_id: int(n) for course_id, n in rows}


def _lecture_media(course_ids: Sequence[int]) -> list[tuple[int, int, int | None]]:
    rows = db.session.execute(
        select(Chapter.course_id, Lecture.id, Lecture.media_file_id)
        .join(Lecture, Lecture.chapter_id == Chapter.id)
        .where(Chapter.course_id.in_(list(course_ids)))
    )
    return [(course_id, lecture_id, media_id) for course_id, lecture_id, media_id in rows]


def _summaries(course_ids: Sequence[int]) -> dict[int, VideoSummary]:
    rows = _lecture_media(course_ids)
    states = video_states((lecture_id, media_id) for _, lecture_id, media_id in rows)
    counts: dict[int, dict[str, int]] = {}
    for course_id, lecture_id, _ in rows:
        state = states[lecture_id]
        bucket = counts.setdefault(course_id, {"ready": 0, "busy": 0, "failed": 0, "missing": 0})
        if state.stage is VideoStage.FAILED:
            bucket["failed"] += 1
        elif state.is_busy:
            bucket["busy"] += 1
        elif state.playing:
            bucket["ready"] += 1
        else:
            bucket["missing"] += 1
    return {course_id: VideoSummary(**bucket) for course_id, bucket in counts.items()}


def list_studio_courses(teacher_id: int) -> list[StudioCourse]:
    """The teacher's own courses, newest first, with students and the state of their videos
    (revenue comes from checkout.queries.revenue_by_course)."""
    courses = db.session.execute(
        select(Course.id, Course.title, Course.slug, Course.status, Course.lecture_count)
        .where(Course.teacher_id == teacher_id)
        .order_by(Course.created_at.desc(), Course.id.desc())
        .limit(MAX_STUDIO_COURSES)
    ).all()
    ids = [row.id for row in courses]
    students, videos = count_students(ids), _summaries(ids)
    return [
        StudioCourse(
            row.id,
            row.title,
            row.slug,
            row.status,
            row.lecture_count,
            students.get(row.id, 0),
            videos.get(row.id, VideoSummary()),
        )
        for row in courses
    ]


@dataclass(frozen=True)
class CurriculumChapter:
    chapter: Chapter
    lectures: list[Lecture]


def get_curriculum(course_id: int) -> list[CurriculumChapter]:
    """The course's chapters and lectures in order (two queries)."""
    chapters = list(
        db.session.scalars(
            select(Chapter)
            .where(Chapter.course_id == course_id)
            .order_by(Chapter.position, Chapter.id)
        )
    )
    lectures: dict[int, list[Lecture]] = {c.id: [] for c in chapters}
    if chapters:
        for lecture in db.session.scalars(
            select(Lecture)
            .where(Lecture.chapter_id.in_(list(lectures)))
            .order_by(Lecture.position, Lecture.id)
        ):
            lectures[lecture.chapter_id].append(lecture)
    return [CurriculumChapter(c, lectures[c.id]) for c in chapters]


def curriculum_videos(curriculum: Sequence[CurriculumChapter]) -> dict[int, VideoState]:
    """The video state of every lecture on the curriculum page."""
    return video_states(
        (lecture.id, lecture.media_file_id) for entry in curriculum for lecture in entry.lectures
    )


def list_category_choices() -> list[tuple[int, str]]:
    """Every category (id, name), in display order."""
    rows = db.session.execute(select(Category.id, Category.name).order_by(Category.position))
    return [(category_id, name) for category_id, name in rows]


def get_prices(course_id: int) -> dict[str, int]:
    """The course's price per currency, in minor units."""
    rows = db.session.execute(
        select(CoursePrice.currency, CoursePrice.amount_minor).where(
            CoursePrice.course_id == course_id
        )
    )
    return {row.currency: row.amount_minor for row in rows}


def get_price_periods(course_id: int) -> dict[str, AccessPeriod]:
    """The access period of each of the course's prices that has one, by currency."""
    rows = db.session.execute(
        select(
            CoursePrice.currency, CoursePrice.access_period_value, CoursePrice.access_period_unit
        ).where(CoursePrice.course_id == course_id, CoursePrice.access_period_value.is_not(None))
    )
    return {
        row.currency: AccessPeriod(row.access_period_value, row.access_period_unit) for row in rows
    }
