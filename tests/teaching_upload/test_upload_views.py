"""The studio's upload endpoints through the Flask test client, against local storage: start, the
part PUTs to the returned URLs, resume, confirm (once), cancel, refusals, ownership, status JSON
and partial, and "Retry processing"."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import Role
from app.catalog.models import Lecture
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import QueueName, get_queue
from app.media.models import MediaFile, MediaStatus
from tests.factories import make_user
from tests.media.conftest import video_bytes
from tests.teaching_upload.conftest import JSON, MIB, Studio, new_client

TRANSCODE = "app.media.jobs.transcode_media"


def transcode_jobs() -> list[tuple[Any, ...]]:
    return [
        tuple(j.args) for j in get_queue(QueueName.MEDIA).get_jobs() if j.func_name == TRANSCODE
    ]


def put_parts(studio: Studio, parts: list[dict[str, Any]], data: bytes, part_size: int) -> None:
    for part in parts:
        start = (part["partNumber"] - 1) * part_size
        chunk = data[start : start + part["size"]]
        assert len(chunk) == part["size"]
        response = studio.client.put(part["url"], data=chunk)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["ETag"]


def media_of(token: str) -> MediaFile:
    db.session.expire_all()
    return db.session.query(MediaFile).filter_by(token=uuid.UUID(token)).one()


# -- the happy path ---------------------------------------------------------------------------
def test_upload_flow_puts_parts_to_storage_and_confirm_queues_one_transcode(
    studio: Studio,
) -> None:
    size = 2 * 8 * MIB + 1234
    data = video_bytes(size, seed=1)
    started = studio.start(size)
    assert started.status_code == 201, started.get_data(as_text=True)
    ticket = started.get_json()
    assert ticket["partSize"] == 8 * MIB and ticket["partCount"] == 3
    assert [p["partNumber"] for p in ticket["parts"]] == [1, 2, 3]
    assert [p["size"] for p in ticket["parts"]] == [8 * MIB, 8 * MIB, 1234]
    assert ticket["status"] == "uploading" and ticket["fileName"] == "lesson1.mp4"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", ticket["expiresAt"])
    token = ticket["uploadId"]
    assert str(uuid.UUID(token)) == token
    assert all(p["url"].startswith("/media/parts/") for p in ticket["parts"])
    put_parts(studio, ticket["parts"], data, ticket["partSize"])

    confirmed = studio.confirm(token)
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    answer = confirmed.get_json()
    assert answer["status"] == "uploaded" and answer["uploadId"] == token
    media = media_of(token)
    assert media.status is MediaStatus.UPLOADED and media.lecture_id == studio.lecture.id
    assert studio.storage.path(media.storage_key).read_bytes() == data
    assert transcode_jobs() == [(media.id,)]

    again = studio.confirm(token)  # a second confirm answers the same and queues nothing more
    assert again.status_code == 200
    assert again.get_json()["status"] == "uploaded"
    assert transcode_jobs() == [(media.id,)]


def test_the_seeds_file_id_name_confirms_too(studio: Studio) -> None:
    ticket = studio.start(1000, "short.webm", "video/webm").get_json()
    data = b"\x1a\x45\xdf\xa3" + bytes(996)
    put_parts(studio, ticket["parts"], data, ticket["partSize"])
    response = studio.post(
        f"/studio/lectures/{studio.lecture.id}/confirm-upload", {"fileId": ticket["uploadId"]}
    )
    assert response.status_code == 200 and response.get_json()["status"] == "uploaded"


def test_a_file_that_is_not_a_video_ends_failed_and_queues_nothing(studio: Studio) -> None:
    text = b"notes renamed to .mp4\n" * 100
    ticket = studio.start(len(text)).get_json()
    put_parts(studio, ticket["parts"], text, ticket["partSize"])
    answer = studio.confirm(ticket["uploadId"]).get_json()
    assert answer["status"] == "failed" and "not an MP4" in answer["error"]
    assert transcode_jobs() == []
    partial = studio.client.get(f"/studio/lectures/{studio.lecture.id}/status").get_data(True)
    assert "not an MP4" in partial and "Retry processing" not in partial  # its source is gone
    assert "hx-trigger" not in partial


# -- resuming ---------------------------------------------------------------------------------
def test_resume_lists_stored_parts_and_sends_only_the_missing_ones(studio: Studio) -> None:
    size = 3 * 8 * MIB
    data = video_bytes(size, seed=2)
    ticket = studio.start(size).get_json()
    token, part_size = ticket["uploadId"], ticket["partSize"]
    first, _second, third = ticket["parts"]
    put_parts(studio, [first, third], data, part_size)

    refused = studio.confirm(token)  # part 2 missing: nothing changes, the client is told
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "size_mismatch"
    assert transcode_jobs() == []

    state = studio.client.get(f"/studio/uploads/{token}", headers=JSON)  # after a reload
    assert state.status_code == 200
    body = state.get_json()
    assert body["status"] == "uploading" and body["fileSize"] == size
    assert [(p["partNumber"], p["size"]) for p in body["uploadedParts"]] == [
        (1, 8 * MIB),
        (3, 8 * MIB),
    ]
    assert all(p["etag"] for p in body["uploadedParts"])
    assert body["uploadedBytes"] == 2 * 8 * MIB

    fresh = studio.post(f"/studio/uploads/{token}/parts", {"partNumbers": [2]})
    assert fresh.status_code == 200
    parts = fresh.get_json()["parts"]
    assert [(p["partNumber"], p["size"]) for p in parts] == [(2, 8 * MIB)]
    put_parts(studio, parts, data, part_size)
    assert studio.confirm(token).get_json()["status"] == "uploaded"
    assert studio.storage.path(media_of(token).storage_key).read_bytes() == data


def test_more_part_urls_after_the_first_batch(studio: Studio) -> None:
    size = 25 * 8 * MIB  # 25 parts: the ticket carries the first 20
    ticket = studio.start(size).get_json()
    assert ticket["partCount"] == 25 and len(ticket["parts"]) == 20
    more = studio.post(
        f"/studio/uploads/{ticket['uploadId']}/parts", {"partNumbers": [21, 22, 23, 24, 25]}
    ).get_json()
    assert [p["partNumber"] for p in more["parts"]] == [21, 22, 23, 24, 25]


# -- cancelling -------------------------------------------------------------------------------
def test_cancel_aborts_and_the_upload_is_gone(studio: Studio) -> None:
    size = 9 * MIB
    data = video_bytes(size, seed=3)
    ticket = studio.start(size).get_json()
    token = ticket["uploadId"]
    put_parts(studio, ticket["parts"][:1], data, ticket["partSize"])
    cancelled = studio.client.delete(f"/studio/uploads/{token}", headers=JSON)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "aborted"
    assert media_of(token).status is MediaStatus.ABORTED
    state = studio.client.get(f"/studio/uploads/{token}", headers=JSON).get_json()
    assert state["status"] == "aborted" and state["uploadedParts"] == []
    late = studio.client.put(ticket["parts"][1]["url"], data=data[8 * MIB :])
    assert late.status_code == 404
    for response in (
        studio.post(f"/studio/uploads/{token}/parts", {"partNumbers": [2]}),
        studio.confirm(token),
    ):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "upload_aborted"
    again = studio.client.delete(f"/studio/uploads/{token}", headers=JSON)
    assert again.status_code == 200  # cancelling twice is harmless


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"fileSize": 1000, "contentType": "video/mp4"}, 422, "missing_field", "fileName"),
        ({"fileName": "a.mp4", "contentType": "video/mp4"}, 422, "missing_field", "fileSize"),
        ({"fileName": "a.mp4", "fileSize": "1000"}, 422, "invalid_field", "fileSize"),
        ({"fileName": "a.mp4", "fileSize": True}, 422, "invalid_field", "fileSize"),
        ({"fileName": 5, "fileSize": 1000}, 422, "invalid_field", "fileName"),
        (
            {"fileName": "a.txt", "fileSize": 1000, "contentType": "text/plain"},
            422,
            "unsupported_type",
            "contentType",
        ),
        (
            {"fileName": "a.mp4", "fileSize": 1000, "contentType": "video/webm"},
            422,
            "unsupported_type",
            "contentType",
        ),
        (
            {"fileName": "a.mp4", "fileSize": 6 * 1024**3, "contentType": "video/mp4"},
            422,
            "too_large",
            "fileSize",
        ),
        (
            {"fileName": "a.mp4", "fileSize": 0, "contentType": "video/mp4"},
            422,
            "empty_file",
            "fileSize",
        ),
        (
            {"fileName": "  ", "fileSize": 10, "contentType": "video/mp4"},
            422,
            "file_name_missing",
            None,
        ),
    ],
)
def test_bad_start_requests_get_json_errors_with_codes(
    studio: Studio, payload: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    response = studio.post(f"/studio/lectures/{studio.lecture.id}/upload", payload)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert error.get("field") == field
    assert db.session.query(MediaFile).count() == 0


def test_a_body_that_is_not_json_is_refused(studio: Studio) -> None:
    url = f"/studio/lectures/{studio.lecture.id}/upload"
    for response in (
        studio.client.post(url, data="fileName=a.mp4", headers=JSON),
        studio.client.post(url, data="[1, 2]", content_type="application/json", headers=JSON),
    ):
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] in {"invalid_json", "invalid_form_json"}


@pytest.mark.parametrize(
    ("numbers", "code"),
    [
        ([0], "bad_part_number"),
        ([2], "bad_part_number"),  # a one-part upload
        ([], "invalid_field"),
        (["1"], "invalid_field"),
        (None, "missing_field"),
    ],
)
def test_bad_part_numbers_are_refused(studio: Studio, numbers: Any, code: str) -> None:
    token = studio.start(1000).get_json()["uploadId"]
    payload = {} if numbers is None else {"partNumbers": numbers}
    response = studio.post(f"/studio/uploads/{token}/parts", payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code


def test_a_busy_lecture_refuses_a_second_upload_until_processing_ends(studio: Studio) -> None:
    ticket = studio.start(1000).get_json()
    put_parts(studio, ticket["parts"], video_bytes(1000), ticket["partSize"])
    studio.confirm(ticket["uploadId"])
    refused = studio.start(1000)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "busy"


def test_the_csrf_token_header_is_required(app: Flask, studio: Studio) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        without = studio.start(1000)
        assert without.status_code == 400
        assert without.get_json()["error"]["code"] == "csrf_failed"
        page = studio.client.get("/").get_data(as_text=True)
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
        assert token
        with_header = studio.client.post(
            f"/studio/lectures/{studio.lecture.id}/upload",
            json={"fileName": "a.mp4", "fileSize": 1000, "contentType": "video/mp4"},
            headers={**JSON, "X-CSRFToken": token[1]},
        )
        assert with_header.status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# -- ownership --------------------------------------------------------------------------------
def _routes(studio: Studio, token: str) -> list[tuple[str, str, Any]]:
    lecture = studio.lecture.id
    return [
        ("POST", f"/studio/lectures/{lecture}/upload", {"fileName": "a.mp4", "fileSize": 10}),
        ("POST", f"/studio/uploads/{token}/parts", {"partNumbers": [1]}),
        ("GET", f"/studio/uploads/{token}", None),
        ("POST", f"/studio/lectures/{lecture}/confirm-upload", {"uploadId": token}),
        ("DELETE", f"/studio/uploads/{token}", None),
        ("POST", f"/studio/uploads/{token}/retry", None),
        ("GET", f"/studio/lectures/{lecture}/status", None),
    ]


@pytest.mark.parametrize("who", ["other_teacher", "student"])
def test_someone_elses_lecture_or_upload_is_not_found(app: Flask, studio: Studio, who: str) -> None:
    token = studio.start(1000).get_json()["uploadId"]
    intruder = make_user(Role.TEACHER if who == "other_teacher" else Role.STUDENT)
    client = new_client(app, intruder)
    for method, url, payload in _routes(studio, token):
        response = client.open(url, method=method, json=payload, headers=JSON)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
        html = client.open(url, method=method, json=payload)  # the HTML routes: 404 too
        assert html.status_code == 404, (method, url)
    assert media_of(token).status is MediaStatus.UPLOADING  # nothing changed


def test_a_visitor_gets_401_json_and_the_login_page_for_html(app: Flask, studio: Studio) -> None:
    token = studio.start(1000).get_json()["uploadId"]
    guest = new_client(app)
    for method, url, payload in _routes(studio, token):
        response = guest.open(url, method=method, json=payload, headers=JSON)
        assert response.status_code == 401, (method, url)
        assert response.get_json()["error"]["code"] == "login_required"
    page = guest.get(f"/studio/lectures/{studio.lecture.id}/status")
    assert page.status_code in (302, 303) and "/login" in page.headers["Location"]


def test_an_admin_may_work_on_any_lecture(app: Flask, studio: Studio) -> None:
    admin = new_client(app, make_user(Role.ADMIN))
    response = admin.get(f"/studio/lectures/{studio.lecture.id}/status?format=json")
    assert response.status_code == 200 and response.get_json()["status"] == "none"


def test_an_upload_of_another_lecture_is_not_confirmed_here(studio: Studio) -> None:
    token = studio.start(1000).get_json()["uploadId"]
    media = media_of(token)
    media.lecture_id = None  # as if its lecture had been deleted
    db.session.commit()
    response = studio.confirm(token)
    assert response.status_code == 404


# -- status -----------------------------------------------------------------------------------
def _set(token: str, **values: Any) -> MediaFile:
    media = media_of(token)
    for name, value in values.items():
        setattr(media, name, value)
    db.session.commit()
    return media


def _confirmed(studio: Studio) -> str:
    ticket = studio.start(1000).get_json()
    put_parts(studio, ticket["parts"], video_bytes(1000), ticket["partSize"])
    assert studio.confirm(ticket["uploadId"]).status_code == 200
    return str(ticket["uploadId"])


def _status(studio: Studio, hx: bool = True) -> str:
    headers = {"HX-Request": "true"} if hx else {}
    response = studio.client.get(f"/studio/lectures/{studio.lecture.id}/status", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "HX-Request" in response.headers.get("Vary", "")
    return response.get_data(as_text=True)


def _status_json(studio: Studio, via: str = "accept") -> dict[str, Any]:
    url = f"/studio/lectures/{studio.lecture.id}/status"
    if via == "accept":
        response = studio.client.get(url, headers=JSON)
    else:
        response = studio.client.get(url + "?format=json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return dict(response.get_json())


def test_status_without_a_video_offers_the_upload_control(studio: Studio) -> None:
    assert _status_json(studio)["status"] == "none"
    html = _status(studio)
    assert html.lstrip().startswith('<section id="lecture-video"')
    assert f'data-lecture-id="{studio.lecture.id}"' in html
    assert "No video yet." in html and "data-uploader" in html
    assert 'type="file"' in html and ">Upload</button>" in html
    assert "Uploading a video needs JavaScript" in html
    assert "hx-trigger" not in html


def test_status_polls_while_processing_and_stops_when_ready(studio: Studio) -> None:
    token = _confirmed(studio)
    answer = _status_json(studio)
    assert (answer["status"], answer["progress"], answer["uploadId"]) == ("uploaded", 0, token)
    html = _status(studio)
    assert 'hx-trigger="every 2s"' in html and 'hx-target="this"' in html
    assert 'hx-swap="outerHTML"' in html and "data-uploader" not in html

    _set(token, status=MediaStatus.PROCESSING, progress=75)
    answer = _status_json(studio, via="format")
    assert {k: answer[k] for k in ("status", "progress")} == {
        "status": "processing",
        "progress": 75,
    }
    html = _status(studio)
    assert 'hx-trigger="every 2s"' in html
    assert '<progress max="100" value="75"' in html and "75 %" in html

    media = _set(token, status=MediaStatus.READY, progress=100, duration_ms=65_000)
    media.thumbnail_key = "hls/abc/thumbnail.jpg"
    lecture = db.session.get(Lecture, studio.lecture.id)
    assert lecture is not None
    lecture.media_file_id = media.id
    db.session.commit()
    answer = _status_json(studio)
    assert answer["status"] == "ready" and answer["progress"] == 100
    assert answer["duration"] == 65 and answer["hasVideo"] is True
    assert answer["thumbnailUrl"].startswith("/media/files/hls/abc/thumbnail.jpg?")
    html = _status(studio)
    assert "hx-trigger" not in html and "hx-get" not in html
    assert f'<video class="lecture-video-player" data-lecture-id="{studio.lecture.id}"' in html
    assert 'poster="/media/files/hls/abc/thumbnail.jpg?' in html
    assert "1:05" in html and "Replace the video" in html


def test_status_of_a_failed_video_stops_polling_and_offers_retry(studio: Studio) -> None:
    token = _confirmed(studio)
    _set(token, status=MediaStatus.FAILED, error="ffmpeg could not read the audio track.")
    answer = _status_json(studio)
    assert answer["status"] == "failed" and answer["error"].startswith("ffmpeg could not")
    html = _status(studio)
    assert "hx-trigger" not in html
    assert "ffmpeg could not read the audio track." in html and "Retry processing" in html
    assert f'hx-post="/studio/uploads/{token}/retry"' in html
    assert 'hx-target="closest section"' in html
    assert "data-uploader" in html  # or upload another file


def test_a_plain_status_request_renders_the_partial_too(studio: Studio) -> None:
    assert _status(studio, hx=False).lstrip().startswith('<section id="lecture-video"')


def test_an_unfinished_upload_offers_resume_in_the_partial(studio: Studio) -> None:
    token = studio.start(3 * MIB, "long talk.mov", "video/quicktime").get_json()["uploadId"]
    html = _status(studio)
    assert f'data-pending-upload="{token}"' in html and 'data-pending-size="3145728"' in html
    assert "long talk.mov" in html and "was not finished" in html
    assert "hx-trigger" not in html  # the uploader, not polling, drives an upload


def test_a_ready_video_with_a_newer_upload_in_processing_shows_both(studio: Studio) -> None:
    first = _confirmed(studio)
    media = _set(first, status=MediaStatus.READY, progress=100, duration_ms=3000)
    lecture = db.session.get(Lecture, studio.lecture.id)
    assert lecture is not None
    lecture.media_file_id = media.id
    db.session.commit()
    second = _confirmed(studio)
    _set(second, status=MediaStatus.PROCESSING, progress=40)
    html = _status(studio)
    assert 'hx-trigger="every 2s"' in html and "lecture-video-player" in html
    assert "keeps playing until the new one is ready" in html
    assert _status_json(studio)["progress"] == 40


# -- retry processing -------------------------------------------------------------------------
def test_retry_processing_by_json_queues_the_transcode_again(studio: Studio) -> None:
    token = _confirmed(studio)
    media = _set(token, status=MediaStatus.FAILED, error="boom", progress=30)
    assert transcode_jobs() == [(media.id,)]  # the first confirm's
    response = studio.post(f"/studio/uploads/{token}/retry", None)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "uploaded"
    assert transcode_jobs() == [(media.id,), (media.id,)]
    again = studio.post(f"/studio/uploads/{token}/retry", None)
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "not_failed"
    assert transcode_jobs() == [(media.id,), (media.id,)]


def test_retry_processing_by_htmx_answers_the_polling_partial(studio: Studio) -> None:
    token = _confirmed(studio)
    _set(token, status=MediaStatus.FAILED, error="boom")
    response = studio.client.post(f"/studio/uploads/{token}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="lecture-video"')
    assert 'hx-trigger="every 2s"' in html


def test_retry_processing_by_a_plain_form_redirects_back(studio: Studio) -> None:
    token = _confirmed(studio)
    _set(token, status=MediaStatus.FAILED, error="boom")
    back = "/studio/courses/1"
    response = studio.client.post(f"/studio/uploads/{token}/retry", data={"next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    assert media_of(token).status is MediaStatus.UPLOADED
    refused = studio.client.post(
        f"/studio/uploads/{token}/retry", data={"next": "https://evil.example/"}
    )
    assert refused.status_code == 303  # refused (not failed now): told so, sent back home
    assert refused.headers["Location"] == f"/studio/lectures/{studio.lecture.id}/status"


def test_a_file_refused_at_confirm_cannot_be_retried(studio: Studio) -> None:
    text = b"not a video" * 100
    ticket = studio.start(len(text)).get_json()
    put_parts(studio, ticket["parts"], text, ticket["partSize"])
    studio.confirm(ticket["uploadId"])
    response = studio.post(f"/studio/uploads/{ticket['uploadId']}/retry", None)
    assert response.status_code == 422


def test_stale_confirmed_at_is_kept_by_a_second_confirm(studio: Studio) -> None:
    token = _confirmed(studio)
    first = media_of(token).confirmed_at
    assert first is not None and first <= utcnow()
    studio.confirm(token)
    assert media_of(token).confirmed_at == first
