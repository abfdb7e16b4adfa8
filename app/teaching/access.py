"""Who may use the studio, and the one way studio code loads a course, chapter, lecture or
upload: through its owner. Anything else answers 404, never 403: a teacher cannot even learn
that another teacher's course id exists."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from sqlalchemy import select

from app.accounts.access import viewer
from app.accounts.models import Role, User
from app.catalog.models import Chapter, Course, Lecture
from app.core.errors import NotFound
from app.extensions import db
from app.media.models import MediaFile, MediaKind

F = TypeVar("F", bound=Callable[..., Any])

STUDIO_ROLES = (Role.TEACHER, Role.ADMIN)


def can_teach(user: User | None) -> bool:
    return user is not None and user.role in STUDIO_ROLES


def studio_user() -> User:
    """The signed-in teacher or admin; a visitor goes to log in, anyone else gets 404."""
    user = viewer()
    if user is None:
        from app.extensions import login_manager

        abort(login_manager.unauthorized())
    if not can_teach(user):
        abort(404)
    return user


def studio_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        studio_user()
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _owns(user: User, course: Course | None) -> Course:
    # Admins may open every course in the studio; a teacher only their own.
    if course is None or (user.role is not Role.ADMIN and course.teacher_id != user.id):
        raise NotFound("No such course in your studio.")
    return course


def owned_course(user: User, course_id: int, *, lock: bool = False) -> Course:
    statement = select(Course).where(Course.id == course_id)
    if lock:
        statement = statement.with_for_update()
    return _owns(user, db.session.execute(statement).scalar_one_or_none())


def owned_chapter(user: User, chapter_id: int) -> Chapter:
    chapter = db.session.get(Chapter, chapter_id)
    if chapter is None:
        raise NotFound("No such chapter in your studio.")
    _owns(user, db.session.get(Course, chapter.course_id))
    return chapter


def owned_lecture(user: User, lecture_id: int) -> tuple[Lecture, Course]:
    row = db.session.execute(
        select(Lecture, Course)
        .join(Chapter, Chapter.id == Lecture.chapter_id)
        .join(Course, Course.id == Chapter.course_id)
        .where(Lecture.id == lecture_id)
    ).first()
    if row is None:
        raise NotFound("No such lecture in your studio.")
    lecture, course = row
    _owns(user, course)
    return lecture, course


def owned_media(user: User, token: uuid.UUID) -> MediaFile:
    """An upload by its token: the uploader's, or any for an admin."""
    media = db.session.execute(
        select(MediaFile).where(MediaFile.token == token)
    ).scalar_one_or_none()
    if media is None or (user.role is not Role.ADMIN and media.owner_id != user.id):
        raise NotFound("No such upload.")
    return media


def owned_attachment(user: User, token: uuid.UUID) -> tuple[MediaFile, Lecture, Course]:
    """A lecture attachment by its token, through the course that owns the lecture (so an
    admin's upload to a teacher's lecture is still that teacher's to remove)."""
    media = db.session.execute(
        select(MediaFile).where(MediaFile.token == token, MediaFile.kind == MediaKind.ATTACHMENT)
    ).scalar_one_or_none()
    if media is None or media.lecture_id is None:
        raise NotFound("No such attachment.")
    lecture, course = owned_lecture(user, media.lecture_id)
    return media, lecture, course
