"""Studio upload fixtures: local storage (tests/media), a teacher's lecture, a signed-in client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Role, User
from app.catalog.models import Chapter, Lecture
from app.extensions import db
from app.media.storage.local import LocalStorage
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_course, make_user
from tests.media.conftest import local  # noqa: F401 - the local storage fixture

MIB = 1 << 20
JSON = {"Accept": "application/json"}


@dataclass
class Studio:
    client: FlaskClient  # signed in as `teacher`
    teacher: User
    lecture: Lecture
    storage: LocalStorage

    def post(self, url: str, payload: Any, **kwargs: Any) -> Any:
        return self.client.post(url, json=payload, headers=JSON, **kwargs)

    def start(self, size: int, name: str = "lesson1.mp4", content_type: str = "video/mp4") -> Any:
        return self.post(
            f"/studio/lectures/{self.lecture.id}/upload",
            {"fileName": name, "fileSize": size, "contentType": content_type},
        )

    def confirm(self, token: str) -> Any:
        return self.post(f"/studio/lectures/{self.lecture.id}/confirm-upload", {"uploadId": token})


def new_client(app: Flask, user: User | None = None) -> FlaskClient:
    app.test_client_class = IsolatedClient
    fresh = app.test_client()
    if user is not None:
        login_as(fresh, user)
    return fresh


def lecture_of(course_id: int) -> Lecture:
    return db.session.scalars(
        sa.select(Lecture).join(Chapter).where(Chapter.course_id == course_id)
    ).one()


@pytest.fixture
def studio(
    app: Flask,
    client: FlaskClient,
    local: LocalStorage,  # noqa: F811 - the fixture above
) -> Studio:
    teacher = make_user(Role.TEACHER)
    course = make_course("Video course", teacher=teacher)
    login_as(client, teacher)
    return Studio(client, teacher, lecture_of(course.id), local)
