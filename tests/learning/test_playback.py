"""Playback with access checks: the play JSON, the app-served playlists with signed segment URIs,
and the signed segments themselves, over a real video transcoded by ffmpeg into local storage."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Role, User
from app.catalog.models import Chapter, Course, CourseStatus, Lecture
from app.core.models import utcnow
from app.extensions import db
from app.learning import services as learning
from app.learning.models import EnrollmentSource, EnrollmentStatus
from app.media import hls
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.storage.local import FILE_PATH, LocalStorage
from app.media.storage.s3 import S3Storage
from app.media.storage.signing import UrlSigner
from tests.conftest import QueryCounter, login_as
from tests.factories import make_course, make_user
from tests.learning.builders import Transcoded, store_video, transcode_clip
from tests.media.conftest import install

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


# -- a real video, transcoded once for the module -------------------------------------------


@pytest.fixture(scope="module")
def transcoded(tmp_path_factory: pytest.TempPathFactory) -> Transcoded:
    """A 2 s 480p clip as HLS (360p + 480p renditions, thumbnail), made by the real ffmpeg."""
    return transcode_clip(tmp_path_factory.mktemp("playback"), seconds=2, height=480)


@pytest.fixture
def storage(app: Flask, tmp_path: Path) -> Iterator[LocalStorage]:
    """A media root of this test's own, used by the app as its storage."""
    storage = LocalStorage(tmp_path / "media", UrlSigner(app.config["SECRET_KEY"]))
    yield from install(app, storage)


def _teacher_id(lecture: Lecture) -> int:
    stmt = sa.select(Course.teacher_id).join(Chapter).where(Chapter.id == lecture.chapter_id)
    return int(db.session.scalar(stmt))


@dataclasses.dataclass
class World:
    course: Course
    preview: Lecture  # is_preview, with a video
    locked: Lecture  # not a preview, with a video
    bare: Lecture  # not a preview, no video
    users: dict[str, User | None]
    media: dict[int, MediaFile]


def _lectures(course: Course) -> list[Lecture]:
    stmt = sa.select(Lecture).join(Chapter).where(Chapter.course_id == course.id)
    return list(db.session.scalars(stmt.order_by(Lecture.position)))


@pytest.fixture
def world(db_session: Any, storage: LocalStorage, transcoded: Transcoded) -> World:
    teacher = make_user(Role.TEACHER)
    course = make_course(
        "Video course",
        teacher=teacher,
        chapters=(("Basics", (("Preview", 2), ("Locked", 2), ("Bare", 2))),),
    )
    preview, locked, bare = _lectures(course)
    assert preview.is_preview and not locked.is_preview and not bare.is_preview
    media = {lec.id: store_video(storage, transcoded, lec) for lec in (preview, locked)}

    enrolled, refunded, expired, lapsed = (make_user() for _ in range(4))
    for user in (enrolled, refunded, expired, lapsed):
        learning.grant_enrollment(user.id, course.id, EnrollmentSource.FREE)
    learning.drop_enrollment(refunded.id, course.id)
    enrollment = learning.get_enrollment(expired.id, course.id)
    assert enrollment is not None
    enrollment.expires_at = utcnow() - timedelta(minutes=1)  # still "active", past its end
    gone = learning.get_enrollment(lapsed.id, course.id)
    assert gone is not None
    gone.status = EnrollmentStatus.EXPIRED
    other_teacher = make_user(Role.TEACHER)
    make_course("Someone else's", teacher=other_teacher)
    users: dict[str, User | None] = {
        "anonymous": None,
        "student": make_user(),
        "enrolled": enrolled,
        "refunded": refunded,
        "expired": expired,
        "expired_status": lapsed,
        "teacher": teacher,
        "other_teacher": other_teacher,
        "admin": make_user(Role.ADMIN),
    }
    db.session.flush()
    return World(course, preview, locked, bare, users, media)


def _as(client: FlaskClient, user: User | None) -> FlaskClient:
    if user is not None:
        login_as(client, user)
    return client


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _uris(playlist: str) -> list[str]:
    """Every URI a playlist names: URI lines and URI="..." attributes."""
    found = []
    for line in playlist.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            found.append(line)
        found += re.findall(r'URI="([^"]*)"', line)
    return found


# -- the access matrix ------------------------------------------------------------------------

ALLOWED = {"enrolled", "teacher", "admin"}
EVERYONE = [
    "anonymous",
    "student",
    "enrolled",
    "refunded",
    "expired",
    "expired_status",
    "teacher",
    "other_teacher",
    "admin",
]


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_play_a_lecture(
    who: str, world: World, client: FlaskClient, storage: LocalStorage
) -> None:
    _as(client, world.users[who])
    lecture = world.locked
    play = client.get(f"/lectures/{lecture.id}/play", headers={"Accept": "application/json"})
    master = client.get(f"/lectures/{lecture.id}/hls/master.m3u8")
    rendition_name = world.media[lecture.id].renditions[0]["playlist"]
    rendition = client.get(f"/lectures/{lecture.id}/hls/{rendition_name}")
    if who not in ALLOWED:
        expected_play = 401 if who == "anonymous" else 403
        assert play.status_code == expected_play, play.data
        assert play.json is not None
        assert play.json["error"]["code"] == (
            "login_required" if who == "anonymous" else "no_access"
        )
        # A media request is never redirected to the login page: a plain 403 for everyone.
        assert master.status_code == 403 and rendition.status_code == 403
        assert b"#EXTM3U" not in master.data + rendition.data
        # Nor can they fetch a segment by its storage key without a signature.
        key = world.media[lecture.id].output_prefix + rendition_name.replace(
            "index.m3u8", "seg_00000.ts"
        )
        assert storage.size(key)  # the segment is there...
        assert client.get(f"{FILE_PATH}/{key}").status_code == 403  # ...but not for them
        return
    assert play.status_code == 200, play.data
    body = play.json
    assert body is not None and set(body) == {"videoUrl", "thumbnailUrl", "duration"}
    assert body["videoUrl"] == f"/lectures/{lecture.id}/hls/master.m3u8"
    assert body["duration"] == 2
    assert play.headers["Cache-Control"] == "private, no-store"
    thumb = client.get(_path(body["thumbnailUrl"]))
    assert thumb.status_code == 200 and thumb.data[:3] == b"\xff\xd8\xff"  # a JPEG
    assert thumb.mimetype == "image/jpeg"
    assert master.status_code == 200 and rendition.status_code == 200
    segment_uri = hls.parse_media(rendition.get_data(as_text=True)).segments[0].uri
    segment = client.get(_path(segment_uri))
    assert segment.status_code == 200 and segment.mimetype == "video/mp2t"
    assert segment.data[:1] == b"G"  # an MPEG-TS sync byte


@pytest.mark.parametrize("who", ["anonymous", "student", "other_teacher", "refunded"])
def test_a_preview_lecture_plays_for_anyone(who: str, world: World, client: FlaskClient) -> None:
    _as(client, world.users[who])
    lecture = world.preview
    play = client.get(f"/lectures/{lecture.id}/play")
    assert play.status_code == 200 and play.json is not None
    master = client.get(_path(play.json["videoUrl"]))
    assert master.status_code == 200
    for variant in hls.parse_master(master.get_data(as_text=True)):
        playlist = client.get(_path(variant.uri))
        assert playlist.status_code == 200
        segment = hls.parse_media(playlist.get_data(as_text=True)).segments[0]
        assert client.get(_path(segment.uri)).status_code == 200


def test_a_preview_of_an_unpublished_course_is_not_public(
    world: World, client: FlaskClient
) -> None:
    world.course.status = CourseStatus.DRAFT
    db.session.flush()
    lecture = world.preview
    assert client.get(f"/lectures/{lecture.id}/play").status_code == 404
    assert client.get(f"/lectures/{lecture.id}/hls/master.m3u8").status_code == 404
    login_as(client, world.users["teacher"])  # its teacher still previews it
    assert client.get(f"/lectures/{lecture.id}/play").status_code == 200


def test_an_archived_course_keeps_playing_for_its_students(
    world: World, client: FlaskClient
) -> None:
    world.course.status = CourseStatus.ARCHIVED
    db.session.flush()
    lecture = world.locked
    _as(client, world.users["enrolled"])
    assert client.get(f"/lectures/{lecture.id}/play").status_code == 200
    assert client.get(f"/lectures/{lecture.id}/hls/master.m3u8").status_code == 200
    login_as(client, world.users["student"])  # not enrolled: the course is not even visible
    assert client.get(f"/lectures/{lecture.id}/play").status_code == 404
    assert client.get(f"/lectures/{lecture.id}/hls/master.m3u8").status_code == 404


def test_unknown_lectures_and_lectures_without_a_video_are_404(
    world: World, client: FlaskClient
) -> None:
    login_as(client, world.users["admin"])
    for lecture_id in (world.bare.id, 10_000_000):
        assert client.get(f"/lectures/{lecture_id}/play").status_code == 404
        assert client.get(f"/lectures/{lecture_id}/hls/master.m3u8").status_code == 404
        assert client.get(f"/lectures/{lecture_id}/thumbnail").status_code == 404
    # A video still processing does not play either.
    media = world.media[world.locked.id]
    media.status = MediaStatus.PROCESSING
    db.session.flush()
    assert client.get(f"/lectures/{world.locked.id}/play").status_code == 404


# -- what a playlist holds ------------------------------------------------------------------


def _check_signed(storage: LocalStorage, uri: str, prefix: str) -> str:
    """A signed storage URL of an object inside the video's output folder; returns its key."""
    parts = urlsplit(uri)
    assert parts.path.startswith(f"{FILE_PATH}/"), uri
    key = parts.path.removeprefix(f"{FILE_PATH}/")
    assert key.startswith(prefix) and ".." not in key.split("/")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert set(query) == {"exp", "ct", "sig"}
    assert int(query["exp"]) <= time.time() + 300 + 1  # MEDIA_SIGNED_URL_SECONDS
    assert storage.check_file_signature(key, query["exp"], query["sig"], query["ct"])
    return key


def test_every_uri_is_this_route_or_a_signed_url(
    world: World, client: FlaskClient, storage: LocalStorage
) -> None:
    login_as(client, world.users["enrolled"])
    lecture, media = world.locked, world.media[world.locked.id]
    route = f"/lectures/{lecture.id}/hls/"
    master = client.get(f"{route}master.m3u8")
    assert master.mimetype == PLAYLIST_TYPE
    assert master.headers["Cache-Control"] == "private, no-store"
    master_uris = _uris(master.get_data(as_text=True))
    assert master_uris == [route + r["playlist"] for r in media.renditions]
    segments = 0
    for uri in master_uris:
        playlist = client.get(uri)
        assert playlist.status_code == 200 and playlist.mimetype == PLAYLIST_TYPE
        assert playlist.headers["Cache-Control"] == "private, no-store"
        text = playlist.get_data(as_text=True)
        parsed = hls.parse_media(text)  # still a valid playlist after the rewrite
        assert parsed.ended and abs(parsed.duration - 2) < 1
        for segment_uri in _uris(text):
            key = _check_signed(storage, segment_uri, media.output_prefix or "")
            assert key.endswith(".ts")
            segments += 1
    assert segments >= 2


def test_the_playlist_route_reads_two_rows_at_most(
    world: World, client: FlaskClient, count_queries: QueryCounter
) -> None:
    login_as(client, world.users["enrolled"])
    name = world.media[world.locked.id].renditions[-1]["playlist"]
    url = f"/lectures/{world.locked.id}/hls/{name}"
    client.get(url)  # warm: the user's login is loaded by its own query on every request
    start = count_queries.count
    assert client.get(url).status_code == 200
    statements = count_queries.statements[start:]
    mine = [s for s in statements if "lectures" in s or "enrollments" in s]
    assert len(mine) == 2, mine  # lecture + course + media in one, the enrollment in the other
    assert len(statements) == 3, statements  # and the signed-in user


@pytest.mark.parametrize(
    "name",
    [
        "../master.m3u8",
        "360p/../../master.m3u8",
        "360p/../master.m3u8",
        "./master.m3u8",
        "%2e%2e/master.m3u8",
        "..%2fmaster.m3u8",
        ".master.m3u8",
        "360p//index.m3u8",
        "360p/seg_00000.ts",
        "thumbnail.jpg",
        "missing.m3u8",
    ],
)
def test_names_outside_the_output_folder_are_404(
    name: str, world: World, client: FlaskClient, storage: LocalStorage
) -> None:
    login_as(client, world.users["admin"])
    # Something a climbing name could reach: another video's master playlist next door.
    media = world.media[world.locked.id]
    assert storage.size((media.output_prefix or "") + "master.m3u8")
    response = client.get(f"/lectures/{world.locked.id}/hls/{name}")
    assert response.status_code == 404, (name, response.data[:200])
    assert b"#EXTM3U" not in response.data


# -- signed segment URLs ---------------------------------------------------------------------


def _segment_urls(client: FlaskClient, world: World) -> list[str]:
    name = world.media[world.locked.id].renditions[0]["playlist"]
    playlist = client.get(f"/lectures/{world.locked.id}/hls/{name}").get_data(as_text=True)
    return [_path(s.uri) for s in hls.parse_media(playlist).segments]


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_tampered_or_foreign_signatures_are_403(world: World, client: FlaskClient) -> None:
    login_as(client, world.users["enrolled"])
    first = _segment_urls(client, world)[0]
    assert client.get(first).status_code == 200
    sig = parse_qs(urlsplit(first).query)["sig"][0]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    other_media = world.media[world.preview.id]
    other_key = (other_media.output_prefix or "") + "360p/seg_00000.ts"
    forged = [
        _with(first, sig=flipped),  # a changed signature
        _with(first, exp=str(int(time.time()) + 86_400)),  # a longer life
        _with(first, ct="text/html"),  # another content type
        f"{FILE_PATH}/{other_key}?{urlsplit(first).query}",  # another object's key
        urlsplit(first).path,  # no signature at all
    ]
    for url in forged:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json is not None and response.json["error"]["code"] == "bad_signature"


def test_an_expired_signed_url_is_403(
    world: World, client: FlaskClient, storage: LocalStorage
) -> None:
    login_as(client, world.users["enrolled"])
    segment = _segment_urls(client, world)[0]
    key = urlsplit(segment).path.removeprefix(f"{FILE_PATH}/")
    exp = int(time.time()) - 5  # signed correctly, but its time is up
    sig = storage.signer.sign("file", key, "video/mp2t", exp)
    response = client.get(f"{FILE_PATH}/{key}?exp={exp}&ct=video/mp2t&sig={sig}")
    assert response.status_code == 403


def test_segment_urls_from_a_playlist_stop_working_when_they_expire(
    app: Flask, world: World, client: FlaskClient
) -> None:
    login_as(client, world.users["enrolled"])
    app.config["MEDIA_SIGNED_URL_SECONDS"] = 1
    try:
        segment = _segment_urls(client, world)[0]
    finally:
        app.config["MEDIA_SIGNED_URL_SECONDS"] = 300
    assert client.get(segment).status_code == 200
    time.sleep(2.1)
    assert client.get(segment).status_code == 403
    # Fetching the playlist again (the player does, on a 403) gives working URLs.
    assert client.get(_segment_urls(client, world)[0]).status_code == 200


# -- the course page ------------------------------------------------------------------------


def test_the_course_page_shows_a_preview_player(world: World, client: FlaskClient) -> None:
    page = client.get(f"/courses/{world.course.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    video = re.search(r"<video[^>]*>", html)
    assert video is not None, html
    assert f'data-lecture-id="{world.preview.id}"' in video.group(0)
    poster = re.search(r'poster="([^"]+)"', video.group(0))
    assert poster is not None
    assert "js/player.js" in html and "vendor/hls.js/hls.min.js" in html
    assert "Playing the preview needs JavaScript" in html  # the <noscript> note
    # The poster (the thumbnail without JavaScript) redirects to a signed, working URL.
    thumb = client.get(poster.group(1))
    assert thumb.status_code == 302
    image = client.get(_path(thumb.headers["Location"]))
    assert image.status_code == 200 and image.data[:3] == b"\xff\xd8\xff"


def test_no_player_without_a_preview_video(
    world: World, client: FlaskClient, storage: LocalStorage
) -> None:
    world.preview.media_file_id = None
    db.session.flush()
    html = client.get(f"/courses/{world.course.slug}").get_data(as_text=True)
    assert "<video" not in html and "player.js" not in html
    assert 'class="cover"' in html  # the course's cover image instead


# -- S3: the presigned URL is the credential ---------------------------------------------------


def test_with_s3_segments_are_presigned_bucket_urls(
    app: Flask, world: World, client: FlaskClient, storage: LocalStorage, moto_endpoint: str
) -> None:
    s3 = S3Storage(f"play-{uuid.uuid4().hex[:12]}", "us-east-1", moto_endpoint)
    s3.client.create_bucket(Bucket=s3.bucket)
    media = world.media[world.locked.id]
    for key in storage.keys(media.output_prefix or "-"):  # the same outputs, now in a bucket
        s3.put_file(key, storage.path(key), "application/octet-stream")
    app.extensions["media_storage"] = s3  # the `storage` fixture puts the previous one back
    login_as(client, world.users["enrolled"])
    play = client.get(f"/lectures/{world.locked.id}/play")
    assert play.status_code == 200 and play.json is not None
    assert play.json["thumbnailUrl"].startswith(f"{moto_endpoint}/{s3.bucket}/")
    master = client.get(play.json["videoUrl"]).get_data(as_text=True)
    for variant in hls.parse_master(master):
        assert variant.uri.startswith(f"/lectures/{world.locked.id}/hls/")  # still the app
        playlist = client.get(variant.uri).get_data(as_text=True)
        for segment in hls.parse_media(playlist).segments:
            url = urlsplit(segment.uri)
            assert f"{url.scheme}://{url.netloc}" == moto_endpoint
            query = parse_qs(url.query)
            assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
            with urlopen(segment.uri, timeout=10) as answer:
                assert answer.status == 200
                assert answer.headers["Content-Type"] == "video/mp2t"
                assert answer.read(1) == b"G"


# -- the lecture page moved to the player (tests/learning/test_player_views.py) ---------------


def test_the_old_lecture_address_leads_to_the_player(world: World, client: FlaskClient) -> None:
    answer = client.get(f"/lectures/{world.locked.id}")
    assert answer.status_code == 302
    assert _path(answer.headers["Location"]) == f"/learning/{world.course.slug}/{world.locked.id}"
    assert client.get("/lectures/999999").status_code == 404


def _attach(storage: LocalStorage, lecture: Lecture) -> MediaFile:
    key = f"att/{uuid.uuid4().hex}"
    storage.put_bytes(key, b"%PDF-1.4 notes", "application/pdf")
    media = MediaFile(
        kind=MediaKind.ATTACHMENT,
        status=MediaStatus.READY,
        owner_id=_teacher_id(lecture),
        lecture_id=lecture.id,
        file_name="notes.pdf",
        content_type="application/pdf",
        size_bytes=14,
        storage_key=key,
        part_size=0,
        progress=100,
    )
    db.session.add(media)
    db.session.flush()
    return media


@pytest.mark.parametrize("who", EVERYONE)
def test_lecture_files_download_for_who_may_watch(
    who: str, world: World, client: FlaskClient, storage: LocalStorage
) -> None:
    notes = _attach(storage, world.locked)
    url = f"/lectures/{world.locked.id}/attachments/{notes.token}"
    answer = _as(client, world.users[who]).get(url)
    if who == "anonymous":
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    elif who in ALLOWED:
        assert answer.status_code == 302 and answer.headers["Cache-Control"] == "private, no-store"
        download = client.get(_path(answer.headers["Location"]))
        assert download.data == b"%PDF-1.4 notes"
        assert download.headers["Content-Disposition"].startswith(
            'attachment; filename="notes.pdf"'
        )
        page = client.get(f"/learning/{world.course.slug}/{world.locked.id}").text
        assert url in page and "notes.pdf" in page
    else:
        assert answer.status_code == 403
    # Another lecture's address for the same file finds nothing.
    assert client.get(f"/lectures/{world.preview.id}/attachments/{notes.token}").status_code == 404
