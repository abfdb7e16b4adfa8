"""Studio fixtures: two teachers, a course of each with chapters and lectures, a local media
root of the test's own, and helpers for ready videos and generated images."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Chapter, Course, CourseStatus, Lecture
from app.extensions import db
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.storage.local import LocalStorage
from app.media.storage.signing import UrlSigner
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_course, make_user
from tests.media.conftest import install

HX = {"HX-Request": "true"}


@pytest.fixture
def local(app: Flask, tmp_path: Path) -> Iterator[LocalStorage]:
    """A media root of this test's own, used by the app as its storage."""
    storage = LocalStorage(tmp_path / "media", UrlSigner(app.config["SECRET_KEY"]))
    for installed in install(app, storage):
        assert isinstance(installed, LocalStorage)
        yield installed


def ready_video(lecture: Lecture, owner: User) -> MediaFile:
    """A processed video playing on the lecture (as processing leaves it)."""
    media = MediaFile(
        kind=MediaKind.VIDEO,
        status=MediaStatus.READY,
        owner_id=owner.id,
        lecture_id=lecture.id,
        file_name="clip.mp4",
        content_type="video/mp4",
        size_bytes=1000,
        storage_key=f"src/{uuid.uuid4().hex}",
        part_size=1000,
        progress=100,
        output_prefix=f"hls/{uuid.uuid4().hex}/",
    )
    db.session.add(media)
    db.session.flush()
    lecture.media_file_id = media.id
    db.session.flush()
    return media


def png_bytes(size: tuple[int, int] = (800, 450), mode: str = "RGB", fmt: str = "PNG") -> bytes:
    """A real image made by Pillow (a gradient, so it does not compress to nothing)."""
    from PIL import Image

    image = Image.linear_gradient("L").resize(size).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def lectures_of(course: Course) -> list[Lecture]:
    return list(
        db.session.scalars(
            db.select(Lecture)
            .join(Chapter, Chapter.id == Lecture.chapter_id)
            .where(Chapter.course_id == course.id)
            .order_by(Chapter.position, Lecture.position)
        )
    )


def chapters_of(course: Course) -> list[Chapter]:
    return list(
        db.session.scalars(
            db.select(Chapter).where(Chapter.course_id == course.id).order_by(Chapter.position)
        )
    )


@dataclass
class Studio:
    teacher: User
    other: User
    course: Course  # the teacher's draft: two chapters, three lectures
    theirs: Course  # the other teacher's


@pytest.fixture
def studio(db_session: Session) -> Studio:
    teacher = make_user(Role.TEACHER, name="Tina Teacher")
    other = make_user(Role.TEACHER, name="Otto Other")
    course = make_course(
        "Studio course",
        teacher=teacher,
        status=CourseStatus.DRAFT,
        chapters=(("One", (("A", 60), ("B", 60))), ("Two", (("C", 60),))),
    )
    theirs = make_course("Their course", teacher=other, status=CourseStatus.DRAFT)
    return Studio(teacher, other, course, theirs)


@pytest.fixture
def teacher_client(client: FlaskClient, studio: Studio) -> FlaskClient:
    login_as(client, studio.teacher)
    return client


def new_client(app: Flask, user: User | None = None) -> FlaskClient:
    app.test_client_class = IsolatedClient
    fresh = app.test_client()
    if user is not None:
        login_as(fresh, user)
    return fresh


def details_form(**overrides: str) -> dict[str, str]:
    """The studio's details form as a browser posts it (lifetime prices), with changes."""
    return {
        "title": "Kitchen chemistry",
        "subtitle": "Science you can eat",
        "description": "Learn **why** bread rises.",
        "category": "",
        "level": "beginner",
        "language": "en",
        "price_usd": "24.50",
        "period_usd": "",
        "period_unit_usd": "month",
        "price_inr": "",
        "period_inr": "",
        "period_unit_inr": "month",
        **overrides,
    }
