"""Chapters and lectures: create, rename, delete, reorder, preview flag, description.

Positions are 1..n within their parent and rewritten whole on every move, so they never
collide or leave gaps. Lectures are only ever updated in place, never deleted and recreated:
a student's enrollment and progress refer to the same rows before and after an edit.

Deleting content students may have started is refused: while a course has students (an
active or completed enrollment), its lectures and non-empty chapters cannot be deleted —
rename, replace the video or unpublish instead. The catalog's lecture counts follow every
change through the triggers on chapters and lectures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from sqlalchemy import exists, func, select

from app.catalog.models import Chapter, Course, Lecture
from app.core.errors import DomainError
from app.core.markdown import render_markdown
from app.extensions import db
from app.learning.models import ACCESS_STATUSES, Enrollment
from app.teaching.services import keep_publishable

MAX_TITLE = 200


class Move(StrEnum):
    UP = "up"
    DOWN = "down"


def _title(text: str, what: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise DomainError(f"A {what} needs a title.", code="title_required", field="title")
    if len(title) > MAX_TITLE:
        raise DomainError(f"Keep the title under {MAX_TITLE} characters.", field="title")
    return title


def _chapters(course_id: int) -> list[Chapter]:
    stmt = select(Chapter).where(Chapter.course_id == course_id)
    return list(db.session.scalars(stmt.order_by(Chapter.position, Chapter.id).with_for_update()))


def _lectures(chapter_ids: Sequence[int]) -> list[Lecture]:
    stmt = select(Lecture).where(Lecture.chapter_id.in_(list(chapter_ids)))
    return list(db.session.scalars(stmt.order_by(Lecture.position, Lecture.id).with_for_update()))


def has_students(course_id: int) -> bool:
    """Someone can watch the course (an active or completed enrollment)."""
    stmt = exists().where(Enrollment.course_id == course_id, Enrollment.status.in_(ACCESS_STATUSES))
    return bool(db.session.scalar(select(stmt)))


def add_chapter(course: Course, title: str) -> Chapter:
    """Append a chapter."""
    last = db.session.scalar(
        select(func.coalesce(func.max(Chapter.position), 0)).where(Chapter.course_id == course.id)
    )
    chapter = Chapter(
        course_id=course.id, position=int(last or 0) + 1, title=_title(title, "chapter")
    )
    db.session.add(chapter)
    db.session.flush()
    return chapter


def rename_chapter(chapter: Chapter, title: str) -> Chapter:
    chapter.title = _title(title, "chapter")
    db.session.flush()
    return chapter


def delete_chapter(course: Course, chapter: Chapter) -> None:
    """Delete a chapter; one with lectures only while nobody is enrolled."""
    count = db.session.scalar(select(func.count()).where(Lecture.chapter_id == chapter.id))
    if count and has_students(course.id):
        raise DomainError(
            "Students are enrolled in this course: its lectures cannot be deleted. "
            "Move them to another chapter first, or rename them.",
            code="has_students",
        )
    db.session.delete(chapter)
    db.session.flush()
    _renumber(_chapters(course.id))
    keep_publishable(course)


def add_lecture(chapter: Chapter, title: str) -> Lecture:
    """Append a lecture to the chapter."""
    last = db.session.scalar(
        select(func.coalesce(func.max(Lecture.position), 0)).where(Lecture.chapter_id == chapter.id)
    )
    lecture = Lecture(
        chapter_id=chapter.id, position=int(last or 0) + 1, title=_title(title, "lecture")
    )
    db.session.add(lecture)
    db.session.flush()
    return lecture


def update_lecture(lecture: Lecture, title: str, description_md: str, is_preview: bool) -> Lecture:
    """Title, description (Markdown, stored with its sanitised HTML) and preview flag."""
    lecture.title = _title(title, "lecture")
    if description_md != lecture.description_md:
        lecture.description_md = description_md
        lecture.description_html = render_markdown(description_md)
    lecture.is_preview = is_preview
    db.session.flush()
    return lecture


def rename_lecture(lecture: Lecture, title: str) -> Lecture:
    lecture.title = _title(title, "lecture")
    db.session.flush()
    return lecture


def set_preview(lecture: Lecture, is_preview: bool) -> Lecture:
    """A preview lecture plays for anyone, on the course page."""
    lecture.is_preview = is_preview
    db.session.flush()
    return lecture


def delete_lecture(course: Course, lecture: Lecture) -> None:
    """Delete a lecture of a course nobody is enrolled in (see the module docstring)."""
    if has_students(course.id):
        raise DomainError(
            "Students are enrolled in this course, so its lectures stay: rename the lecture "
            "or replace its video instead.",
            code="has_students",
        )
    chapter_id = lecture.chapter_id
    db.session.delete(lecture)
    db.session.flush()
    _renumber(_lectures([chapter_id]))
    keep_publishable(course)


def _renumber(items: Sequence[Chapter | Lecture]) -> None:
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
    db.session.flush()


def move_chapter(course: Course, chapter: Chapter, move: Move) -> None:
    """One place up or down (the keyboard and no-JS way to reorder)."""
    chapters = _chapters(course.id)
    i = next(n for n, c in enumerate(chapters) if c.id == chapter.id)
    j = i - 1 if move is Move.UP else i + 1
    if 0 <= j < len(chapters):
        chapters[i], chapters[j] = chapters[j], chapters[i]
    _renumber(chapters)


def move_lecture(course: Course, lecture: Lecture, move: Move) -> None:
    """One place up or down; past the top or bottom of its chapter it moves to the end of the
    previous chapter or the start of the next one."""
    chapters = _chapters(course.id)
    by_chapter: dict[int, list[Lecture]] = {c.id: [] for c in chapters}
    for item in _lectures(list(by_chapter)):
        by_chapter[item.chapter_id].append(item)
    ids = [c.id for c in chapters]
    c = ids.index(lecture.chapter_id)
    items = by_chapter[lecture.chapter_id]
    i = items.index(lecture)
    j = i - 1 if move is Move.UP else i + 1
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
    else:
        k = c - 1 if move is Move.UP else c + 1
        if not 0 <= k < len(ids):
            return
        items.remove(lecture)
        lecture.chapter_id = ids[k]
        target = by_chapter[ids[k]]
        target.insert(len(target) if move is Move.UP else 0, lecture)
    for items in by_chapter.values():
        _renumber(items)


def reorder_curriculum(
    course: Course, order: Sequence[int], lectures: Mapping[int, Sequence[int]]
) -> None:
    """The whole order at once (drag and drop): `order` lists every chapter id, `lectures`
    every lecture id under the chapter it now belongs to. Anything missing, repeated or not of
    this course is refused, so a stale page cannot lose a lecture."""
    chapters = {c.id: c for c in _chapters(course.id)}
    existing = {item.id: item for item in _lectures(list(chapters))}
    placed = [lecture_id for chapter_id in order for lecture_id in lectures.get(chapter_id, ())]
    if (
        sorted(order) != sorted(chapters)
        or sorted(placed) != sorted(existing)
        or set(lectures) - set(chapters)
    ):
        raise DomainError(
            "The curriculum changed since this page was loaded: reload it and try again.",
            code="stale_order",
        )
    _renumber([chapters[chapter_id] for chapter_id in order])
    for chapter_id in order:
        items = [existing[lecture_id] for lecture_id in lectures.get(chapter_id, ())]
        for item in items:
            item.chapter_id = chapter_id
        _renumber(items)
