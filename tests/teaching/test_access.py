"""Who reaches the studio: teacher B gets 404 on every studio route for teacher A's course,
chapter, lecture, attachment or upload (walked over the URL map, so a new route is covered the
day it is added), students get 404, visitors go to log in, admins may open any course."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.accounts.models import Role
from app.extensions import db
from app.media.models import MediaFile, MediaKind, MediaStatus
from tests.factories import make_user
from tests.teaching.conftest import Studio, chapters_of, lectures_of, new_client

# Routes of the blueprint that load nothing owned: listed, so that any other route must take
# an owned object (and is then walked below).
UNOWNED = {"teaching.dashboard", "teaching.new_course", "teaching.markdown_preview"}
PUBLIC = {"teaching.cover_file"}  # covers are public images


def _media(studio: Studio, kind: MediaKind) -> MediaFile:
    lecture = lectures_of(studio.course)[0]
    media = MediaFile(
        kind=kind,
        status=MediaStatus.READY if kind is MediaKind.ATTACHMENT else MediaStatus.UPLOADING,
        owner_id=studio.teacher.id,
        lecture_id=lecture.id,
        file_name="notes.pdf" if kind is MediaKind.ATTACHMENT else "clip.mp4",
        content_type="application/pdf" if kind is MediaKind.ATTACHMENT else "video/mp4",
        size_bytes=10,
        storage_key=f"x/{uuid.uuid4().hex}",
        part_size=10,
    )
    db.session.add(media)
    db.session.flush()
    return media


def _owned_args(studio: Studio, rule: Rule) -> dict[str, Any]:
    chapter, lecture = chapters_of(studio.course)[0], lectures_of(studio.course)[0]
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "course_id":
            values[name] = studio.course.id
        elif name == "chapter_id":
            values[name] = chapter.id
        elif name == "lecture_id":
            values[name] = lecture.id
        elif name == "token":
            kind = MediaKind.ATTACHMENT if "/attachments/" in rule.rule else MediaKind.VIDEO
            values[name] = _media(studio, kind).token
        else:
            raise AssertionError(f"{rule.rule}: no owned value for <{name}>")
    return values


def _studio_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("teaching.")]


def _snapshot(studio: Studio) -> Any:
    db.session.expire_all()
    return (
        studio.course.title,
        studio.course.status,
        [(c.id, c.title, c.position) for c in chapters_of(studio.course)],
        [
            (x.id, x.title, x.position, x.chapter_id, x.is_preview)
            for x in lectures_of(studio.course)
        ],
        db.session.query(MediaFile).count(),
    )


def test_another_teacher_gets_404_on_every_route_and_changes_nothing(
    app: Flask, studio: Studio
) -> None:
    intruder = new_client(app, studio.other)
    paths = [
        (rule, rule.build(_owned_args(studio, rule), append_unknown=False)[1])
        for rule in _studio_rules(app)
        if rule.endpoint not in UNOWNED | PUBLIC
    ]
    before = _snapshot(studio)
    walked, wrong = [], []
    data = {"title": "Hacked", "direction": "up", "is_preview": "1", "status": "draft"}
    for rule, path in paths:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = intruder.open(path, method=method, data=data)
            walked.append(f"{method} {rule.rule}")
            if response.status_code != 404:
                wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong
    assert len(walked) >= 20  # the studio's own routes and the uploader's
    assert _snapshot(studio) == before


def test_every_route_but_the_listed_ones_loads_an_owned_object(app: Flask) -> None:
    loose = {
        r.endpoint
        for r in _studio_rules(app)
        if not set(r.arguments) & {"course_id", "chapter_id", "lecture_id", "token"}
    }
    assert loose == UNOWNED | PUBLIC


def test_students_get_404_and_visitors_go_to_log_in(app: Flask, studio: Studio) -> None:
    student = new_client(app, make_user(Role.STUDENT))
    guest = new_client(app)
    for path in ("/studio/", "/studio/courses/new", f"/studio/courses/{studio.course.id}"):
        assert student.get(path).status_code == 404
        answer = guest.get(path)
        assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
    assert student.post("/studio/courses/new", data={"title": "Mine"}).status_code == 404


def test_an_admin_may_open_any_course(app: Flask, studio: Studio) -> None:
    admin = new_client(app, make_user(Role.ADMIN))
    assert admin.get(f"/studio/courses/{studio.course.id}").status_code == 200
    assert admin.get(f"/studio/courses/{studio.theirs.id}/curriculum").status_code == 200


def test_the_header_offers_teach_to_teachers_only(app: Flask, studio: Studio) -> None:
    teach = re.compile(r'href="/studio/"[^>]*>Teach<')
    assert teach.search(new_client(app, studio.teacher).get("/").get_data(as_text=True))
    assert not teach.search(new_client(app, make_user()).get("/").get_data(as_text=True))


@pytest.mark.parametrize("path", ["/studio/", "/studio/courses/new"])
def test_teacher_pages_render(teacher_client: FlaskClient, path: str) -> None:
    assert teacher_client.get(path).status_code == 200
