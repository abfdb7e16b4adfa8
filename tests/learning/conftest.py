"""Shared fixtures of the learning tests: people in every role and a published course with
chapters, lectures in order and ready videos on some of them (tests/learning/builders.py
makes anything else: enrollments in any state, progress, certificates, real HLS videos)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app.accounts.models import Role, User
from app.catalog.models import Course, Lecture
from tests.factories import make_course, make_user
from tests.learning.builders import lectures_of, ready_video


@dataclasses.dataclass(frozen=True)
class VideoCourse:
    """A published course: chapter 1 has two lectures with videos (the first a preview),
    chapter 2 a lecture with a video and a reading without one."""

    course: Course
    teacher: User
    lectures: list[Lecture]  # in course order

    @property
    def with_video(self) -> list[Lecture]:
        return [lecture for lecture in self.lectures if lecture.media_file_id is not None]

    @property
    def reading(self) -> Lecture:
        return next(lecture for lecture in self.lectures if lecture.media_file_id is None)


@pytest.fixture
def student(db_session: Any) -> User:
    return make_user(name="Sam Student")


@pytest.fixture
def teacher(db_session: Any) -> User:
    return make_user(Role.TEACHER, name="Tess Teacher")


@pytest.fixture
def admin(db_session: Any) -> User:
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def video_course(db_session: Any, teacher: User) -> VideoCourse:
    course = make_course(
        "Video Basics",
        teacher=teacher,
        chapters=(
            ("Start", (("Welcome", 60), ("Setup", 120))),
            ("Going further", (("Deep dive", 180), ("Reading list", 0))),
        ),
    )
    lectures = lectures_of(course)
    for lecture in lectures[:3]:
        ready_video(lecture, seconds=lecture.duration_s or 60)
    return VideoCourse(course, teacher, lectures)
