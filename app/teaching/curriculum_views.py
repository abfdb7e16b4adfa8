"""Curriculum routes: chapters and lectures added, renamed, moved, reordered and deleted.
Each answers the curriculum fragment for HTMX and a 303 back to the page without JS."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from htmx_flask import request

from app.core.htmx import render
from app.core.unit import committing
from app.teaching import bp, curriculum
from app.teaching.access import (
    owned_chapter,
    owned_course,
    owned_lecture,
    studio_required,
    studio_user,
)
from app.teaching.curriculum import Move
from app.teaching.web import CURRICULUM_PAGE, curriculum_answer, curriculum_context


def _title() -> str:
    return str(request.form.get("title", ""))[:400]


def _move() -> Move:
    return Move.UP if request.form.get("direction") == Move.UP.value else Move.DOWN


@bp.get("/courses/<int:course_id>/curriculum")
@studio_required
def curriculum_page(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id)
    page, partial = CURRICULUM_PAGE, "teaching/partials/curriculum.html"
    return render(page, partial, **curriculum_context(course))


@bp.post("/courses/<int:course_id>/chapters")
@studio_required
def add_chapter(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id, lock=True)
    with committing(catch=True) as unit:
        curriculum.add_chapter(course, _title())
    return curriculum_answer(course, unit.error)


@bp.post("/courses/<int:course_id>/order")
@studio_required
def reorder(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id, lock=True)
    order = [int(v) for v in request.form.getlist("chapter") if v.isdigit()]
    lectures = {
        chapter_id: [int(v) for v in request.form.getlist(f"lectures-{chapter_id}") if v.isdigit()]
        for chapter_id in order
    }
    with committing(catch=True) as unit:
        curriculum.reorder_curriculum(course, order, lectures)
    return curriculum_answer(course, unit.error)


@bp.post("/chapters/<int:chapter_id>/rename")
@studio_required
def rename_chapter(chapter_id: int) -> ResponseReturnValue:
    user = studio_user()
    chapter = owned_chapter(user, chapter_id)
    course = owned_course(user, chapter.course_id, lock=True)
    with committing(catch=True) as unit:
        curriculum.rename_chapter(chapter, _title())
    return curriculum_answer(course, unit.error)


@bp.post("/chapters/<int:chapter_id>/move")
@studio_required
def move_chapter(chapter_id: int) -> ResponseReturnValue:
    user = studio_user()
    chapter = owned_chapter(user, chapter_id)
    course = owned_course(user, chapter.course_id, lock=True)
    with committing(catch=True) as unit:
        curriculum.move_chapter(course, chapter, _move())
    return curriculum_answer(course, unit.error)


@bp.post("/chapters/<int:chapter_id>/delete")
@studio_required
def delete_chapter(chapter_id: int) -> ResponseReturnValue:
    user = studio_user()
    chapter = owned_chapter(user, chapter_id)
    course = owned_course(user, chapter.course_id, lock=True)
    with committing(catch=True) as unit:
        curriculum.delete_chapter(course, chapter)
    return curriculum_answer(course, unit.error)


@bp.post("/chapters/<int:chapter_id>/lectures")
@studio_required
def add_lecture(chapter_id: int) -> ResponseReturnValue:
    user = studio_user()
    chapter = owned_chapter(user, chapter_id)
    course = owned_course(user, chapter.course_id, lock=True)
    with committing(catch=True) as unit:
        curriculum.add_lecture(chapter, _title())
    return curriculum_answer(course, unit.error)


@bp.post("/lectures/<int:lecture_id>/rename")
@studio_required
def rename_lecture(lecture_id: int) -> ResponseReturnValue:
    lecture, course = owned_lecture(studio_user(), lecture_id)
    with committing(catch=True) as unit:
        curriculum.rename_lecture(lecture, _title())
    return curriculum_answer(course, unit.error)


@bp.post("/lectures/<int:lecture_id>/preview")
@studio_required
def set_preview(lecture_id: int) -> ResponseReturnValue:
    lecture, course = owned_lecture(studio_user(), lecture_id)
    with committing(catch=True) as unit:
        curriculum.set_preview(lecture, request.form.get("is_preview") == "1")
    return curriculum_answer(course, unit.error)


@bp.post("/lectures/<int:lecture_id>/move")
@studio_required
def move_lecture(lecture_id: int) -> ResponseReturnValue:
    user = studio_user()
    lecture, course = owned_lecture(user, lecture_id)
    owned_course(user, course.id, lock=True)  # one curriculum edit at a time per course
    with committing(catch=True) as unit:
        curriculum.move_lecture(course, lecture, _move())
    return curriculum_answer(course, unit.error)


@bp.post("/lectures/<int:lecture_id>/delete")
@studio_required
def delete_lecture(lecture_id: int) -> ResponseReturnValue:
    user = studio_user()
    lecture, course = owned_lecture(user, lecture_id)
    owned_course(user, course.id, lock=True)
    with committing(catch=True) as unit:
        curriculum.delete_lecture(course, lecture)
    return curriculum_answer(course, unit.error)
