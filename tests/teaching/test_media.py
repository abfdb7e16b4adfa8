"""Covers and attachments: validated by their content, resized and stored under random keys,
shown through one URL helper; attachments listed, downloadable by the teacher, deletable."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from app.catalog.models import Course
from app.extensions import db
from app.jobs.queues import QueueName, get_queue
from app.media import queries as media_queries
from app.media.models import MediaFile, MediaKind
from app.media.storage.local import LocalStorage
from app.teaching import covers
from tests.teaching.conftest import HX, Studio, lectures_of, png_bytes


def _cover(
    client: FlaskClient, course: Course, data: bytes, name: str = "cover.png", hx: bool = True
) -> object:
    return client.post(
        f"/studio/courses/{course.id}/cover",
        data={"cover": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=HX if hx else {},
    )


def _course(course_id: int) -> Course:
    db.session.expire_all()
    course = db.session.get(Course, course_id)
    assert course is not None
    return course


# --- covers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_cover_is_resized_to_the_catalog_sizes(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage, fmt: str
) -> None:
    answer = _cover(teacher_client, studio.course, png_bytes((1600, 1200), fmt=fmt))
    assert answer.status_code == 200
    prefix = _course(studio.course.id).cover_image
    assert prefix and prefix.startswith("covers/") and len(prefix) == len("covers/") + 32
    for width in covers.COVER_SIZES:
        with Image.open(local.path(f"{prefix}/{width}.webp")) as image:
            assert (image.format, image.size) == ("WEBP", (width, width * 9 // 16))
    assert f"/studio/covers/{prefix}/640.webp" in answer.get_data(as_text=True)


def test_the_catalog_shows_uploaded_and_static_covers(
    app: Flask, teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    _cover(teacher_client, studio.course, png_bytes())
    course = _course(studio.course.id)
    with app.test_request_context():
        assert covers.cover_url(course, 320) == f"/studio/covers/{course.cover_image}/320.webp"
        assert covers.cover_url(course, 700) == f"/studio/covers/{course.cover_image}/1280.webp"
        course.cover_image = "img/covers/design.svg"
        assert covers.cover_url(course, 320).startswith("/static/img/covers/design.svg")
        course.cover_image = None
        assert covers.cover_url(course, 320).startswith("/static/img/covers/default.svg")


def test_cover_files_are_public_and_cached(
    app: Flask, teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    _cover(teacher_client, studio.course, png_bytes())
    key = f"{_course(studio.course.id).cover_image}/320.webp"
    guest = app.test_client()
    answer = guest.get(f"/studio/covers/{key}")
    assert answer.status_code == 200 and answer.mimetype == "image/webp"
    assert "immutable" in answer.headers["Cache-Control"]
    assert Image.open(io.BytesIO(answer.data)).size == (320, 180)
    assert guest.get("/studio/covers/covers/" + "0" * 32 + "/320.webp").status_code == 404
    assert guest.get("/studio/covers/src/abc").status_code == 404  # only cover keys


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text, not an image\n" * 20, "not an image"),
        (png_bytes((100, 100)), "at least 320x180"),
        (png_bytes((10_000, 10_000), mode="1"), "too many pixels"),  # tiny file, huge canvas
        (png_bytes()[:200], "not an image"),  # truncated
        (b"GIF89a" + b"\x00" * 100, "not an image"),
    ],
)
def test_what_is_not_a_usable_image_is_refused(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage, data: bytes, message: str
) -> None:
    answer = _cover(teacher_client, studio.course, data, name="cover.png")
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert _course(studio.course.id).cover_image is None
    assert not list(local.keys("covers/"))


def test_a_cover_over_10_mb_is_refused(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    answer = _cover(teacher_client, studio.course, png_bytes() + b"\0" * (10 * 1024 * 1024))
    assert answer.status_code == 422 and "10 MB" in answer.get_data(as_text=True)


def test_a_new_cover_retires_the_old_one_after_commit(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    _cover(teacher_client, studio.course, png_bytes())
    first = _course(studio.course.id).cover_image
    plain = _cover(teacher_client, studio.course, png_bytes((640, 360)), hx=False)
    assert plain.status_code == 303  # without JS: back to the page
    assert _course(studio.course.id).cover_image != first
    jobs = get_queue(QueueName.LOW).jobs
    assert [(j.func_name, j.args) for j in jobs] == [
        ("app.media.jobs.delete_media_outputs", (f"{first}/",))
    ]


# --- attachments -----------------------------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _attach(client: FlaskClient, lecture_id: int, data: bytes, name: str) -> object:
    return client.post(
        f"/studio/lectures/{lecture_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=HX,
    )


@pytest.mark.parametrize(("data", "kind"), [(PDF, "application/pdf"), (_zip(), "application/zip")])
def test_pdf_and_zip_are_attached_by_their_magic_bytes(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage, data: bytes, kind: str
) -> None:
    lecture = lectures_of(studio.course)[0]
    answer = _attach(teacher_client, lecture.id, data, "../../Week 1 notes.bin")
    assert answer.status_code == 200
    [media] = media_queries.list_attachments(lecture.id)
    assert (media.kind, media.content_type, media.size_bytes) == (
        MediaKind.ATTACHMENT,
        kind,
        len(data),
    )
    assert media.file_name == "Week 1 notes.bin"  # shown, never a key
    assert media.storage_key.startswith("att/") and "notes" not in media.storage_key
    assert local.path(media.storage_key).read_bytes() == data
    assert "Week 1 notes.bin" in answer.get_data(as_text=True)
    download = teacher_client.get(f"/studio/attachments/{media.token}")
    assert download.status_code == 302 and "/media/files/att/" in download.headers["Location"]


@pytest.mark.parametrize("data", [b"MZ\x90\x00 not a pdf", b"plain text named .pdf", b""])
def test_other_files_are_refused(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage, data: bytes
) -> None:
    lecture = lectures_of(studio.course)[0]
    answer = _attach(teacher_client, lecture.id, data, "notes.pdf")
    assert answer.status_code == 422
    assert media_queries.list_attachments(lecture.id) == []
    assert not list(local.keys("att/"))


def test_attachments_are_size_limited(
    app: Flask, teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    lecture = lectures_of(studio.course)[0]
    old = app.config["MEDIA_MAX_ATTACHMENT_BYTES"]
    app.config["MEDIA_MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    try:
        answer = _attach(teacher_client, lecture.id, PDF + b"\0" * (1024 * 1024), "big.pdf")
    finally:
        app.config["MEDIA_MAX_ATTACHMENT_BYTES"] = old
    assert answer.status_code == 422 and "limited to 1 MB" in answer.get_data(as_text=True)
    assert media_queries.list_attachments(lecture.id) == []


def test_an_attachment_is_deleted_with_its_object_after_commit(
    teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    lecture = lectures_of(studio.course)[0]
    _attach(teacher_client, lecture.id, PDF, "notes.pdf")
    [media] = media_queries.list_attachments(lecture.id)
    key = media.storage_key
    answer = teacher_client.post(f"/studio/attachments/{media.token}/delete", headers=HX)
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.query(MediaFile).filter_by(storage_key=key).count() == 0
    jobs = get_queue(QueueName.LOW).jobs
    assert [(j.func_name, j.args) for j in jobs] == [
        ("app.media.jobs.delete_media_outputs", (key,))
    ]


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    app: Flask, teacher_client: FlaskClient, studio: Studio, local: LocalStorage
) -> None:
    lecture = lectures_of(studio.course)[0]
    old = app.config["MEDIA_MAX_ATTACHMENT_BYTES"]
    app.config["MEDIA_MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    try:
        answer = _attach(teacher_client, lecture.id, PDF + b"\0" * (2 * 1024 * 1024), "big.pdf")
    finally:
        app.config["MEDIA_MAX_ATTACHMENT_BYTES"] = old
    assert answer.status_code == 422 and "limited to 1 MB" in answer.get_data(as_text=True)
    cover = _cover(teacher_client, studio.course, b"\0" * (11 * 1024 * 1024))
    assert cover.status_code == 422 and "10 MB" in cover.get_data(as_text=True)
