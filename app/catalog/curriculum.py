"""A course's curriculum as plain values: chapters in order, each with its lectures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.catalog.models import Chapter, Lecture
from app.extensions import db


@dataclass(frozen=True, slots=True)
class LectureView:
    title: str
    is_preview: bool
    duration_s: int
    id: int
    has_video: bool  # a ready video plays (Lecture.media_file_id is set only once it is ready)


@dataclass(frozen=True, slots=True)
class ChapterView:
    position: int
    title: str
    lectures: tuple[LectureView, ...]

    @property
    def duration_s(self) -> int:
        return sum(lecture.duration_s for lecture in self.lectures)


_CURRICULUM = (
    select(Chapter.id, Chapter.position, Chapter.title, Lecture.title, Lecture.is_preview)
    .add_columns(Lecture.duration_s, Lecture.id, Lecture.media_file_id.is_not(None))
    .outerjoin(Lecture, Lecture.chapter_id == Chapter.id)
    .where(Chapter.course_id == bindparam("course_id"))
    .order_by(Chapter.position, Chapter.id, Lecture.position, Lecture.id)
)


def list_curriculum(course_id: int) -> list[ChapterView]:
    """The course's chapters with their lectures, in order, as plain values (one statement)."""
    chapters: dict[int, tuple[int, str, list[LectureView]]] = {}
    rows = db.session.execute(_CURRICULUM, {"course_id": course_id})
    for chapter_id, position, title, lecture, preview, seconds, lecture_id, video in rows:
        entry = chapters.setdefault(chapter_id, (position, title, []))
        if lecture_id is not None:
            entry[2].append(LectureView(lecture, preview, seconds, lecture_id, bool(video)))
    return [ChapterView(pos, title, tuple(items)) for pos, title, items in chapters.values()]


def first_preview(chapters: Sequence[ChapterView]) -> LectureView | None:
    """The first preview lecture with a video to play: the course page plays it."""
    lectures = (lecture for chapter in chapters for lecture in chapter.lectures)
    return next((x for x in lectures if x.is_preview and x.has_video), None)
