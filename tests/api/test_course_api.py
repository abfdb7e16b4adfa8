"""Course-content endpoints (seed 000 flows 2 and 3) through the test client: the seed's video
flow end to end (create, lecture, one PUT to uploadUrl, confirm, a real worker's transcode,
status, videoUrl and its playlist), then authorisation and validation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Role, User
from app.catalog.models import CourseStatus
from app.extensions import db
from app.jobs.queues import QueueName, get_queue
from app.media.models import MediaFile
from app.media.storage.local import LocalStorage
from app.media.storage.signing import UrlSigner
from app.media.testcard import make_clip
from tests.api.tokens import bearer
from tests.conftest import IsolatedClient
from tests.factories import make_course, make_user
from tests.media.conftest import install, local, video_bytes  # noqa: F401 - local storage
from tests.payments.conftest import run_jobs

API = "/api/v1"


@pytest.fixture
def teacher(db_session: Any) -> User:
    return make_user(Role.TEACHER)


def _auth(user: User) -> dict[str, str]:
    """A bearer header whose login row is committed (a savepoint under db_session)."""
    headers = bearer(user)
    db.session.commit()
    return headers


def _create(client: FlaskClient, who: User, **body: Any) -> Any:
    payload = {"title": "Test Course", "price": 99.99, "status": "published", **body}
    return client.post(f"{API}/courses", json=payload, headers=_auth(who))


def _lecture(client: FlaskClient, who: User, course_id: int) -> int:
    answer = client.post(
        f"{API}/lectures",
        json={"courseId": str(course_id), "title": "Test Lecture"},
        headers=_auth(who),
    )
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["data"]["id"])


def _start(client: FlaskClient, who: User, lecture_id: int, size: int = 10485760) -> Any:
    return client.post(
        f"{API}/lectures/{lecture_id}/upload",
        json={"fileName": "test.mp4", "fileSize": size, "contentType": "video/mp4"},
        headers=_auth(who),
    )


# -- the seed's flow --------------------------------------------------------------------------
@pytest.fixture
def live_client(live_app: Flask, committed: Any, tmp_path: Path) -> Iterator[FlaskClient]:
    """A client of the app whose commits are real (the transcoder opens its own transactions),
    with a local storage root of this test's own."""
    storage = LocalStorage(tmp_path / "media", UrlSigner(live_app.config["SECRET_KEY"]))
    live_app.test_client_class = IsolatedClient
    for _installed in install(live_app, storage):
        yield live_app.test_client()


def test_the_seed_video_flow_from_course_to_playable_lecture(
    live_client: FlaskClient, committed: Any, tmp_path: Path
) -> None:
    client = live_client
    teacher = make_user(Role.TEACHER)
    committed.commit()
    created = _create(client, teacher)
    assert created.status_code == 201, created.get_json()
    course = created.get_json()["data"]
    assert course["status"] == "published" and course["priceMinor"] == 9999
    assert course["price"] == 99.99 and course["currency"] == "USD"
    lecture_id = _lecture(client, teacher, course["id"])

    started = _start(client, teacher, lecture_id)
    assert started.status_code == 201, started.get_json()
    ticket = started.get_json()["data"]
    assert set(ticket) >= {"fileId", "uploadUrl", "expiresAt"}
    assert ticket["uploadUrl"].startswith("http://localhost/")

    # The seed PUTs its test file (far smaller than the 10 MiB it declared), no token.
    clip = make_clip(tmp_path / "test.mp4", seconds=2, height=240).read_bytes()
    put = client.put(ticket["uploadUrl"], data=clip, headers={"Content-Type": "video/mp4"})
    assert put.status_code == 200, put.get_data(as_text=True)

    confirmed = client.post(
        f"{API}/lectures/{lecture_id}/confirm-upload",
        json={"fileId": ticket["fileId"]},
        headers=_auth(teacher),
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["data"]["status"] == "processing"
    media = committed.query(MediaFile).filter_by(lecture_id=lecture_id).one()
    assert media.size_bytes == len(clip)
    queued = get_queue(QueueName.MEDIA).get_jobs()
    assert [j.args for j in queued if j.func_name.endswith("transcode_media")] == [(media.id,)]

    status = client.get(f"{API}/lectures/{lecture_id}/status", headers=_auth(teacher))
    assert status.get_json()["data"]["status"] == "processing"
    run_jobs()
    status = client.get(f"{API}/lectures/{lecture_id}/status", headers=_auth(teacher))
    assert status.get_json()["data"] == status.get_json()["data"] | {
        "status": "completed",
        "progress": 100,
    }

    shown = client.get(f"{API}/lectures/{lecture_id}", headers=_auth(teacher))
    assert shown.status_code == 200, shown.get_json()
    lecture = shown.get_json()["data"]
    assert lecture["duration"] == 2 and lecture["thumbnailUrl"].startswith("http://localhost/")
    playlist = client.get(lecture["videoUrl"])
    assert playlist.status_code == 200 and playlist.mimetype == "application/vnd.apple.mpegurl"
    variant = next(line for line in playlist.get_data(as_text=True).splitlines() if "hls/" in line)
    assert "#EXTINF" in client.get(variant).get_data(as_text=True)

    # A stranger's token: 403 for the lecture; a tampered playlist URL: 403.
    stranger = make_user(Role.STUDENT)
    committed.commit()
    refused = client.get(f"{API}/lectures/{lecture_id}", headers=_auth(stranger))
    assert refused.status_code == 403
    assert client.get(lecture["videoUrl"].replace("sig=", "sig=0")).status_code == 403
    assert client.get(f"{API}/lectures/{lecture_id}").status_code == 401


def test_the_seed_prefix_answers_the_same_routes(client: FlaskClient, teacher: User) -> None:
    rules = {rule.rule for rule in client.application.url_map.iter_rules()}
    if "/api/course/courses" not in rules:
        pytest.skip("app/api/aliases.register_aliases is not called by create_app yet")
    created = client.post(
        "/api/course/courses",
        json={"title": "Test Course", "price": 99.99, "status": "published"},
        headers=_auth(teacher),
    )
    assert created.status_code == 201, created.get_json()
    course_id = created.get_json()["data"]["id"]
    answer = client.post(
        "/api/course/lectures",
        json={"courseId": str(course_id), "title": "Test Lecture"},
        headers=_auth(teacher),
    )
    assert answer.status_code == 201
    detail = client.get(f"/api/course/courses/{course_id}").get_json()["data"]
    assert [c["title"] for c in detail["chapters"]] == ["Chapter 1"]
    assert [lec["title"] for lec in detail["chapters"][0]["lectures"]] == ["Test Lecture"]


def test_an_upload_larger_than_declared_is_refused(
    client: FlaskClient,
    teacher: User,
    local: LocalStorage,  # noqa: F811
) -> None:
    course = make_course(teacher=teacher, status=CourseStatus.DRAFT)
    lecture_id = _lecture(client, teacher, course.id)
    ticket = _start(client, teacher, lecture_id, size=1000).get_json()["data"]
    too_big = client.put(ticket["uploadUrl"], data=video_bytes(1001))
    assert too_big.status_code == 422
    bad = client.put(ticket["uploadUrl"].replace("max=1000", "max=5000"), data=video_bytes(10))
    assert bad.status_code == 403
    confirm = client.post(
        f"{API}/lectures/{lecture_id}/confirm-upload",
        json={"fileId": ticket["fileId"]},
        headers=_auth(teacher),
    )
    assert confirm.status_code == 422  # nothing stored yet
    assert client.put(ticket["uploadUrl"], data=video_bytes(600)).status_code == 200
    confirm = client.post(
        f"{API}/lectures/{lecture_id}/confirm-upload",
        json={"fileId": ticket["fileId"]},
        headers=_auth(teacher),
    )
    assert confirm.status_code == 200 and confirm.get_json()["data"]["status"] == "processing"


# -- courses ----------------------------------------------------------------------------------
def test_list_search_and_drafts(client: FlaskClient, teacher: User) -> None:
    make_course("Watercolour basics", teacher=teacher)
    draft = make_course("Secret draft", teacher=teacher, status=CourseStatus.DRAFT)
    found = client.get(f"{API}/courses?q=watercolour&perPage=5").get_json()["data"]
    assert [c["title"] for c in found["courses"]] == ["Watercolour basics"]
    assert found["perPage"] == 5 and found["courses"][0]["priceMinor"] == 1999
    assert client.get(f"{API}/courses?perPage=101").status_code == 422
    assert client.get(f"{API}/courses/{draft.id}").status_code == 404
    own = client.get(f"{API}/courses/{draft.id}", headers=_auth(teacher))
    assert own.status_code == 200 and own.get_json()["data"]["status"] == "draft"


def test_prices_are_exact_and_refuse_extra_decimals(client: FlaskClient, teacher: User) -> None:
    refused = _create(client, teacher, price=9.999)
    assert refused.status_code == 422 and refused.get_json()["field"] == "price"
    both = _create(client, teacher, priceMinor=100)
    assert both.status_code == 422
    minor = _create(client, teacher, price=None, priceMinor=12345, currency="INR")
    assert minor.status_code == 201
    assert minor.get_json()["data"]["prices"] == [
        {"currency": "INR", "amountMinor": 12345, "amount": 123.45}
    ]
    unknown = _create(client, teacher, colour="red")
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "colour"


def test_publishing_at_creation_needs_a_price_and_publish_needs_a_video(
    client: FlaskClient, teacher: User
) -> None:
    refused = _create(client, teacher, price=None)
    assert refused.status_code == 422 and refused.get_json()["code"] == "PUBLISH_REFUSED"
    draft = _create(client, teacher, status="draft").get_json()["data"]
    published = client.post(f"{API}/courses/{draft['id']}/publish", headers=_auth(teacher))
    body = published.get_json()
    assert published.status_code == 422 and any("video" in r for r in body["reasons"])
    patched = client.patch(
        f"{API}/courses/{draft['id']}",
        json={"subtitle": "Now with a subtitle", "price": 10, "level": "advanced"},
        headers=_auth(teacher),
    )
    assert patched.status_code == 200, patched.get_json()
    data = patched.get_json()["data"]
    assert data["subtitle"] == "Now with a subtitle" and data["priceMinor"] == 1000
    assert data["level"] == "advanced"


# -- authorisation ----------------------------------------------------------------------------
def test_authorisation(client: FlaskClient, teacher: User) -> None:
    course = make_course(teacher=teacher)
    other, student = make_user(Role.TEACHER), make_user(Role.STUDENT)
    lecture_id = _lecture(client, teacher, course.id)
    assert client.post(f"{API}/courses", json={"title": "x"}).status_code == 401
    assert _create(client, student).status_code == 403
    for method, url, body in (
        ("PATCH", f"/courses/{course.id}", {"title": "Mine now"}),
        ("POST", f"/courses/{course.id}/publish", None),
        ("POST", f"/courses/{course.id}/chapters", {"title": "More"}),
        ("POST", "/lectures", {"courseId": course.id, "title": "Sneaky"}),
        ("POST", f"/lectures/{lecture_id}/upload", {"fileName": "a.mp4", "fileSize": 9}),
        ("GET", f"/lectures/{lecture_id}/status", None),
    ):
        answer = client.open(API + url, method=method, json=body, headers=_auth(other))
        assert answer.status_code == 403, (url, answer.get_json())
        by_student = client.open(API + url, method=method, json=body, headers=_auth(student))
        assert by_student.status_code == 403, url
    missing = client.get(f"{API}/lectures/999999/status", headers=_auth(teacher))
    assert missing.status_code == 404
    assert client.get(f"{API}/lectures/{lecture_id}/status").status_code == 401
    admin = make_user(Role.ADMIN)
    assert (
        client.get(f"{API}/lectures/{lecture_id}/status", headers=_auth(admin)).status_code == 200
    )
