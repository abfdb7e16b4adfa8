"""Mux as the video processor: the studio's upload against the Mux double over HTTP, Mux's signed
webhooks through the payments' verified inbox, and playback from Mux's URLs; without MUX_*
settings everything stays on our storage and ffmpeg."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app.accounts.models import Role, User
from app.catalog.models import Chapter, Lecture
from app.extensions import db
from app.media.models import MediaFile, MediaProvider, MediaStatus
from app.media.mux import sign_webhook
from app.notifications.models import Notification, NotificationKind
from app.payments.models import WebhookEvent, WebhookStatus
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_course, make_user
from tests.fakes.mux import NOT_A_VIDEO, Delivery, MuxDouble, free_port
from tests.fakes.mux import mux_double as mux_double  # the session fixture
from tests.media.conftest import video_bytes
from tests.payments.conftest import queued, run_jobs

JSON = {"Accept": "application/json"}
SIZE = 300_000


def _settings(double: MuxDouble, **extra: str) -> dict[str, Any]:
    return {
        "MUX_TOKEN_ID": double.token_id,
        "MUX_TOKEN_SECRET": double.token_secret,
        "MUX_WEBHOOK_SECRET": double.webhook_secret,
        "MUX_API_URL": double.url,
        "MUX_SIGNING_KEY_ID": "",
        "MUX_SIGNING_KEY_PRIVATE": "",
        **extra,
    }


def _configure(app: Flask, settings: dict[str, Any], tmp_path: Path) -> Iterator[None]:
    """Mux on (and mail into tmp_path) for one test."""
    settings = {**settings, "INSTANCE_PATH": str(tmp_path), "SMTP_URL": ""}
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    try:
        yield
    finally:
        app.config.update(saved)


@pytest.fixture
def with_mux(app: Flask, mux_double: MuxDouble, tmp_path: Path) -> Iterator[MuxDouble]:
    """The test app on the Mux double; webhooks are kept in `sent`, for the test to post."""
    mux_double.reset()
    yield from (mux_double for _ in _configure(app, _settings(mux_double), tmp_path))


@pytest.fixture
def live_mux(live_app: Flask, mux_double: MuxDouble, tmp_path: Path) -> Iterator[MuxDouble]:
    """The committing app on the double, served over HTTP so the double POSTs its webhooks."""
    server = make_server("127.0.0.1", free_port(), live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    mux_double.reset(f"http://127.0.0.1:{server.server_port}/webhooks/mux")
    try:
        yield from (mux_double for _ in _configure(live_app, _settings(mux_double), tmp_path))
    finally:
        mux_double.reset()
        server.shutdown()
        server.server_close()


def _teacher_lecture() -> tuple[User, Lecture]:
    teacher = make_user(Role.TEACHER)
    chapters = (("Basics", (("Preview", 60), ("Enrolled only", 300))),)
    course = make_course("Muxed course", teacher=teacher, chapters=chapters)
    lecture = db.session.scalars(
        sa.select(Lecture)
        .join(Chapter)
        .where(Chapter.course_id == course.id, Lecture.is_preview.is_(False))
    ).one()
    return teacher, lecture


def _start(client: FlaskClient, lecture_id: int, size: int = SIZE) -> dict[str, Any]:
    response = client.post(
        f"/studio/lectures/{lecture_id}/upload",
        json={"fileName": "lesson.mp4", "fileSize": size, "contentType": "video/mp4"},
        headers=JSON,
    )
    assert response.status_code == 201, response.get_data(True)
    return response.json  # type: ignore[no-any-return]


def _confirm(client: FlaskClient, lecture_id: int, token: str) -> dict[str, Any]:
    response = client.post(
        f"/studio/lectures/{lecture_id}/confirm-upload", json={"uploadId": token}, headers=JSON
    )
    assert response.status_code == 200, response.get_data(True)
    return response.json  # type: ignore[no-any-return]


def _upload(client: FlaskClient, lecture_id: int, data: bytes) -> dict[str, Any]:
    """Start, PUT the whole file to Mux's URL (one part), confirm: the confirm's answer."""
    ticket = _start(client, lecture_id, len(data))
    assert ticket["partCount"] == 1 and ticket["partSize"] == len(data)
    (part,) = ticket["parts"]
    assert part["partNumber"] == 1 and part["size"] == len(data)
    put = requests.put(part["url"], data=data, headers={"Content-Type": "video/mp4"}, timeout=10)
    assert put.status_code == 200
    return _confirm(client, lecture_id, ticket["uploadId"])


def _post(client: FlaskClient, delivery: Delivery) -> Any:
    return client.post("/webhooks/mux", data=delivery.body, headers=delivery.headers)


def _media(session: Session, token: str) -> MediaFile:
    session.expire_all()
    return session.scalars(sa.select(MediaFile).where(MediaFile.token == token)).one()


def _count(session: Session, model: type, *where: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def _notices(session: Session, user: User, kind: NotificationKind) -> int:
    return _count(session, Notification, Notification.user_id == user.id, Notification.kind == kind)


# -- the whole path, over HTTP ----------------------------------------------------------------
def test_upload_put_confirm_webhooks_ready_and_play_from_mux(
    committed: Session, live_app: Flask, live_mux: MuxDouble
) -> None:
    teacher, lecture = _teacher_lecture()
    student = make_user()
    committed.commit()
    live_app.test_client_class = IsolatedClient  # a request's own app context (and `g`)
    client = live_app.test_client()
    login_as(client, teacher)
    data = video_bytes(SIZE, seed=3)

    answer = _upload(client, lecture.id, data)
    assert answer["status"] == "processing"
    media = _media(committed, answer["uploadId"])
    assert media.provider is MediaProvider.MUX and media.provider_upload_id
    assert live_mux.received[media.provider_upload_id] == data  # the file went to Mux, not us
    created = live_mux.uploads[media.provider_upload_id]["new_asset_settings"]
    assert created == {"playback_policies": ["public"], "passthrough": answer["uploadId"]}

    # Mux's webhooks reach /webhooks/mux over HTTP; the inbox's job applies them.
    delivered = live_mux.wait_delivered(3)
    assert [d.type for d in delivered] == [
        "video.upload.asset_created",
        "video.asset.created",
        "video.asset.ready",
    ]
    run_jobs()
    media = _media(committed, answer["uploadId"])
    asset = live_mux.assets[media.provider_asset_id or ""]
    playback_id = asset["playback_ids"][0]["id"]
    assert media.status is MediaStatus.READY and media.playback_id == playback_id
    assert media.duration_ms == 4040 and (media.width, media.height) == (1280, 720)
    committed.refresh(lecture)
    assert lecture.media_file_id == media.id and lecture.duration_s == 4
    statuses = committed.scalars(
        sa.select(WebhookEvent.status)
        .where(WebhookEvent.provider == "mux")
        .order_by(WebhookEvent.id)
    ).all()
    assert statuses == [WebhookStatus.PROCESSED, WebhookStatus.IGNORED, WebhookStatus.PROCESSED]
    assert _notices(committed, teacher, NotificationKind.VIDEO_READY) == 1

    play = client.get(f"/lectures/{lecture.id}/play")
    assert play.status_code == 200
    assert play.json == {
        "videoUrl": f"https://stream.mux.com/{playback_id}.m3u8",
        "thumbnailUrl": f"https://image.mux.com/{playback_id}/thumbnail.jpg",
        "duration": 4,
    }
    # The access check stays ours: a student who is not enrolled gets nothing from Mux's URLs.
    outsider = live_app.test_client()
    login_as(outsider, student)
    assert outsider.get(f"/lectures/{lecture.id}/play").status_code == 403
    assert client.get(f"/lectures/{lecture.id}/hls/master.m3u8").status_code == 404


# -- webhooks through the test client ---------------------------------------------------------
def test_a_bad_signature_is_refused_and_nothing_is_stored(
    client: FlaskClient, db_session: Session, with_mux: MuxDouble
) -> None:
    good = with_mux.event("video.asset.ready", "asset", {"id": "asset1", "status": "ready"})
    secret = with_mux.webhook_secret
    cases = [
        {**good.headers, "Mux-Signature": sign_webhook("not-the-secret", good.body)},
        {**good.headers, "Mux-Signature": sign_webhook(secret, good.body, int(time.time()) - 3600)},
        {"Content-Type": "application/json"},
        {**good.headers, "Mux-Signature": "t=abc,v1=00"},
    ]
    for headers in cases:
        response = _post(client, Delivery(good.body, headers, good.type))
        assert response.status_code == 400
        assert response.json["error"]["code"] == "invalid_signature"
    tampered = Delivery(good.body.replace(b"asset1", b"asset2"), good.headers, good.type)
    assert _post(client, tampered).status_code == 400
    assert _count(db_session, WebhookEvent) == 0 and queued() == 0
    assert _post(client, good).json == {"received": True, "duplicate": False}  # the control


def test_a_replayed_webhook_does_nothing_more(
    client: FlaskClient, db_session: Session, with_mux: MuxDouble
) -> None:
    teacher, lecture = _teacher_lecture()
    login_as(client, teacher)
    token = _upload(client, lecture.id, video_bytes(SIZE))["uploadId"]
    assert [_post(client, d).json["duplicate"] for d in with_mux.sent] == [False] * 3
    run_jobs()
    media = _media(db_session, token)
    ready_at, events = media.ready_at, _count(db_session, WebhookEvent)
    assert media.status is MediaStatus.READY and ready_at is not None

    # The same deliveries again (Mux retries), and the same news under a new event id.
    assert [_post(client, d).json["duplicate"] for d in with_mux.sent] == [True] * 3
    ready = with_mux.sent[-1]
    again = with_mux.event(ready.type, "asset", json.loads(ready.body)["data"])
    assert _post(client, again).json["duplicate"] is False
    run_jobs()
    media = _media(db_session, token)
    assert media.status is MediaStatus.READY and media.ready_at == ready_at
    assert _count(db_session, WebhookEvent) == events + 1
    assert _notices(db_session, teacher, NotificationKind.VIDEO_READY) == 1


def test_an_errored_asset_ends_failed_with_muxs_reason(
    client: FlaskClient, db_session: Session, with_mux: MuxDouble
) -> None:
    teacher, lecture = _teacher_lecture()
    login_as(client, teacher)
    token = _upload(client, lecture.id, b"just some text, not a video\n" * 100)["uploadId"]
    assert [d.type for d in with_mux.sent][-1] == "video.asset.errored"
    for delivery in with_mux.sent:
        _post(client, delivery)
    run_jobs()
    media = _media(db_session, token)
    assert media.status is MediaStatus.FAILED and NOT_A_VIDEO in (media.error or "")
    assert _notices(db_session, teacher, NotificationKind.VIDEO_FAILED) == 1
    status = client.get(f"/studio/lectures/{lecture.id}/status", headers=JSON).json
    assert status["status"] == "failed" and NOT_A_VIDEO in status["error"]
    retry = client.post(f"/studio/uploads/{token}/retry", headers=JSON)
    assert retry.status_code == 422 and retry.json["error"]["code"] == "upload_again"
    db_session.refresh(lecture)
    assert lecture.media_file_id is None


def test_a_webhook_before_the_confirm_and_resume_ask_mux(
    client: FlaskClient, db_session: Session, with_mux: MuxDouble
) -> None:
    teacher, lecture = _teacher_lecture()
    login_as(client, teacher)
    ticket = _start(client, lecture.id)
    state = client.get(f"/studio/uploads/{ticket['uploadId']}").json
    assert state["uploadedParts"] == [] and state["status"] == "uploading"
    again = client.post(
        f"/studio/uploads/{ticket['uploadId']}/parts", json={"partNumbers": [1]}, headers=JSON
    ).json
    assert again["parts"][0]["url"] == ticket["parts"][0]["url"]
    requests.put(ticket["parts"][0]["url"], data=video_bytes(SIZE), timeout=10)
    state = client.get(f"/studio/uploads/{ticket['uploadId']}").json
    assert [p["partNumber"] for p in state["uploadedParts"]] == [1]
    assert state["uploadedBytes"] == SIZE
    for delivery in with_mux.sent:  # Mux is quicker than the browser's confirm
        _post(client, delivery)
    run_jobs()
    assert _media(db_session, ticket["uploadId"]).status is MediaStatus.READY
    assert _confirm(client, lecture.id, ticket["uploadId"])["status"] == "ready"


def test_signed_playback_gives_tokens_signed_with_the_signing_key(
    app: Flask, client: FlaskClient, db_session: Session, with_mux: MuxDouble
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    app.config.update(
        MUX_SIGNING_KEY_ID="signing-key-1", MUX_SIGNING_KEY_PRIVATE=base64.b64encode(pem).decode()
    )
    teacher, lecture = _teacher_lecture()
    login_as(client, teacher)
    token = _upload(client, lecture.id, video_bytes(SIZE))["uploadId"]
    settings = with_mux.uploads[_media(db_session, token).provider_upload_id or ""]
    assert settings["new_asset_settings"]["playback_policies"] == ["signed"]
    for delivery in with_mux.sent:
        _post(client, delivery)
    run_jobs()
    play = client.get(f"/lectures/{lecture.id}/play").json
    playback_id = _media(db_session, token).playback_id
    for url, audience in ((play["videoUrl"], "v"), (play["thumbnailUrl"], "t")):
        base, _, jwt = url.partition("?token=")
        assert base.startswith(("https://stream.mux.com/", "https://image.mux.com/"))
        header, claims = (_jwt_part(p) for p in jwt.split(".")[:2])
        assert header == {"alg": "RS256", "typ": "JWT", "kid": "signing-key-1"}
        assert claims["sub"] == playback_id and claims["aud"] == audience
        assert 0 < claims["exp"] - time.time() <= app.config["MEDIA_SIGNED_URL_SECONDS"]
        signed, _, signature = jwt.rpartition(".")
        key.public_key().verify(
            base64.urlsafe_b64decode(signature + "=="),
            signed.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )  # raises InvalidSignature when it is not signed with the key


def _jwt_part(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- without Mux ----------------------------------------------------------------------------
def test_without_mux_settings_uploads_stay_on_our_storage(
    app: Flask, client: FlaskClient, db_session: Session, mux_double: MuxDouble, local: Any
) -> None:
    from app.config import media_origin

    assert not app.config["MUX_TOKEN_ID"]
    mux_double.clear_requests()
    teacher, lecture = _teacher_lecture()
    login_as(client, teacher)
    ticket = _start(client, lecture.id, 20 * 1024 * 1024)
    assert ticket["partCount"] == 3 and ticket["partSize"] == 8 * 1024 * 1024
    media = _media(db_session, ticket["uploadId"])
    assert media.provider is MediaProvider.LOCAL and media.provider_upload_id is None
    assert mux_double.requests == []  # nobody asked Mux
    event = mux_double.event("video.asset.ready", "asset", {"id": "a", "status": "ready"})
    response = _post(client, event)
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_provider"
    assert _count(db_session, WebhookEvent) == 0
    assert "mux.com" not in media_origin({}) and "mux.com" in media_origin({"MUX_TOKEN_ID": "x"})
