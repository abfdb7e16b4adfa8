"""The S3 backend with the real boto3 against moto's server mode, over HTTP: uploads done by a
plain HTTP client to presigned part URLs, as a browser does them."""

from __future__ import annotations

import hashlib
import http.client
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from app.accounts.models import User
from app.extensions import db
from app.jobs.queues import QueueName, get_queue
from app.media import uploads
from app.media.errors import UploadGone, UploadRefused
from app.media.models import MediaFile, MediaStatus
from app.media.storage import NoSuchUpload, StorageError
from app.media.storage import s3 as s3_module
from app.media.storage.s3 import S3Storage
from app.media.uploads import PartUrl
from tests.media.conftest import video_bytes

MIB = 1 << 20
SIZE = 8 * MIB * 2 + 3 * MIB + 17  # three parts: 8 MiB, 8 MiB and the rest


def _chunk(data: bytes, part: PartUrl, part_size: int) -> bytes:
    start = (part.number - 1) * part_size
    return data[start : start + part.size]


def _put(url: str, body: bytes) -> str:
    """A plain HTTP PUT, as the browser sends it; returns the part's ETag."""
    response = requests.put(url, data=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.headers["ETag"].strip('"')


def _put_cut_off(url: str, body: bytes) -> None:
    """A PUT whose connection drops halfway (the network failed): the part is not stored."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[: len(body) // 2])
    conn.close()


def _start(teacher: User, size: int = SIZE, name: str = "lesson1.mp4") -> uploads.UploadTicket:
    return uploads.start_video_upload(teacher.id, None, name, size, "video/mp4")


def test_presigned_multipart_upload_by_a_plain_http_client(
    app: Flask, s3: S3Storage, teacher: User
) -> None:
    data = video_bytes(SIZE, seed=1)
    ticket = _start(teacher)
    assert ticket.part_count == 3 and ticket.part_size == 8 * MIB
    assert [p.size for p in ticket.parts] == [8 * MIB, 8 * MIB, SIZE - 16 * MIB]
    media = ticket.media
    assert media.storage_key.startswith("src/") and "lesson1" not in media.storage_key
    query = parse_qs(urlsplit(ticket.parts[0].url).query)
    assert "content-length" in query["X-Amz-SignedHeaders"][0]  # S3 refuses another size

    # Part 2's first attempt is cut off mid-body; the client retries that part alone.
    _put_cut_off(ticket.parts[1].url, _chunk(data, ticket.parts[1], ticket.part_size))
    assert 2 not in [p.number for p in s3.list_parts(media.storage_key, media.upload_id or "")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        etags = list(pool.map(lambda p: _put(p.url, _chunk(data, p, ticket.part_size)),
                              ticket.parts))  # fmt: skip
    stored = uploads.stored_parts(media)
    assert [p.etag for p in stored] == etags
    assert etags[0] == hashlib.md5(data[: 8 * MIB]).hexdigest()

    confirmed = uploads.confirm_upload(media)
    assert confirmed.status == MediaStatus.UPLOADED and confirmed.confirmed_at is not None
    assert s3.size(media.storage_key) == SIZE
    with s3.open(media.storage_key) as body:
        assert hashlib.md5(body.read()).digest() == hashlib.md5(data).digest()
    assert s3.read_head(media.storage_key, 64) == data[:64]


def test_a_reloaded_page_resumes_with_the_parts_not_yet_stored(
    app: Flask, s3: S3Storage, teacher: User
) -> None:
    data = video_bytes(SIZE, seed=2)
    ticket = _start(teacher)
    first = ticket.parts[0]
    _put(first.url, _chunk(data, first, ticket.part_size))
    # The page reloads: all it knows is the media row; it asks what storage already holds.
    media = db.session.get(MediaFile, ticket.media.id)
    assert media is not None
    done = {p.number for p in uploads.stored_parts(media)}
    assert done == {1}
    missing = uploads.part_urls(media, [n for n in range(1, 4) if n not in done])
    assert [p.number for p in missing] == [2, 3]
    for part in missing:
        _put(part.url, _chunk(data, part, ticket.part_size))
    assert uploads.confirm_upload(media).status == MediaStatus.UPLOADED
    assert s3.size(media.storage_key) == SIZE


def test_confirm_refuses_a_size_mismatch_and_changes_nothing(
    app: Flask, s3: S3Storage, teacher: User
) -> None:
    data = video_bytes(SIZE, seed=3)
    ticket = _start(teacher)
    one, two, three = ticket.parts
    for part in (one, three):
        _put(part.url, _chunk(data, part, ticket.part_size))
    with pytest.raises(UploadRefused) as refused:
        uploads.confirm_upload(ticket.media)
    assert refused.value.code == "size_mismatch"
    assert "parts missing or of the wrong size: 2" in refused.value.message
    media = ticket.media
    assert media.status == MediaStatus.UPLOADING and media.confirmed_at is None
    assert s3.size(media.storage_key) is None  # not completed
    assert [p.number for p in uploads.stored_parts(media)] == [1, 3]
    # A short part 2 (an old client): still refused, still nothing changed.
    _put(two.url, _chunk(data, two, ticket.part_size)[:-1])
    with pytest.raises(UploadRefused):
        uploads.confirm_upload(media)
    _put(two.url, _chunk(data, two, ticket.part_size))
    assert uploads.confirm_upload(media).status == MediaStatus.UPLOADED


def test_confirm_twice_queues_transcoding_once(app: Flask, s3: S3Storage, teacher: User) -> None:
    size = 5 * MIB
    ticket = _start(teacher, size)
    _put(ticket.parts[0].url, video_bytes(size, seed=4))
    uploads.confirm_upload(ticket.media)
    db.session.commit()
    queue = get_queue(QueueName.MEDIA)
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "app.media.jobs.transcode_media"
    assert job.args == (ticket.media.id,)
    confirmed_at = ticket.media.confirmed_at
    again = uploads.confirm_upload(ticket.media)
    db.session.commit()
    assert again.status == MediaStatus.UPLOADED and again.confirmed_at == confirmed_at
    assert queue.count == 1


def test_a_file_that_is_not_a_video_fails_and_its_object_is_deleted(
    app: Flask, s3: S3Storage, teacher: User
) -> None:
    text = (b"just some notes, renamed to .mp4\n" * 200_000)[: 6 * MIB]
    ticket = _start(teacher, len(text), "notes.mp4")
    _put(ticket.parts[0].url, text)
    media = uploads.confirm_upload(ticket.media)
    assert media.status == MediaStatus.FAILED
    assert media.error and "not an MP4, MOV, WebM or MKV video" in media.error
    assert s3.size(media.storage_key) is None
    db.session.commit()
    assert get_queue(QueueName.MEDIA).count == 0


def test_cancel_aborts_the_multipart_upload(app: Flask, s3: S3Storage, teacher: User) -> None:
    ticket = _start(teacher)
    _put(ticket.parts[0].url, video_bytes(8 * MIB, seed=5))
    upload_id = ticket.media.upload_id or ""
    media = uploads.cancel_upload(ticket.media)
    assert media.status == MediaStatus.ABORTED and media.upload_id is None
    with pytest.raises(NoSuchUpload):
        s3.list_parts(media.storage_key, upload_id)
    with pytest.raises(UploadGone):
        uploads.part_urls(media, [2])
    with pytest.raises(UploadGone):
        uploads.confirm_upload(media)
    assert uploads.cancel_upload(media).status == MediaStatus.ABORTED  # twice: no error


def test_stale_uploads_are_aborted_after_a_day(app: Flask, s3: S3Storage, teacher: User) -> None:
    old, fresh = _start(teacher), _start(teacher)
    _put(old.parts[0].url, video_bytes(8 * MIB, seed=6))
    now = old.media.created_at
    old.media.created_at = now - timedelta(hours=25)
    db.session.flush()
    old_upload = old.media.upload_id or ""
    assert uploads.abort_stale_uploads(now) == 1
    assert old.media.status == MediaStatus.ABORTED
    assert fresh.media.status == MediaStatus.UPLOADING
    with pytest.raises(NoSuchUpload):
        s3.list_parts(old.media.storage_key, old_upload)
    assert s3.list_parts(fresh.media.storage_key, fresh.media.upload_id or "") == []
    assert uploads.abort_stale_uploads(now) == 0  # idempotent


def test_delete_prefix_in_batches(s3: S3Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_module, "DELETE_BATCH", 3)  # 1000 in production; 3 batches here
    for i in range(7):
        s3.put_bytes(f"hls/abc/720p/seg_{i:05d}.ts", b"x" * i, "video/mp2t")
    s3.put_bytes("hls/abcd/master.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    assert len(list(s3.keys("hls/abc/"))) == 7
    assert s3.delete_prefix("hls/abc/") == 7
    assert list(s3.keys("hls/abc/")) == []
    assert list(s3.keys("hls/")) == ["hls/abcd/master.m3u8"]


def test_objects_round_trip(s3: S3Storage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.bin"
    source.write_bytes(video_bytes(MIB + 5, seed=7))
    s3.put_file("hls/x/out.bin", source, "application/octet-stream")
    target = tmp_path / "out.bin"
    s3.download("hls/x/out.bin", target)
    assert target.read_bytes() == source.read_bytes()
    assert s3.size("hls/x/missing") is None
    s3.delete("hls/x/out.bin")
    assert s3.size("hls/x/out.bin") is None
    s3.put_bytes("hls/x/empty", b"", "text/plain")
    assert s3.read_head("hls/x/empty", 64) == b""
    with pytest.raises(StorageError):
        s3.open("hls/x/missing")


def test_a_download_name_comes_back_as_the_content_disposition(s3: S3Storage) -> None:
    s3.put_bytes("att/z", b"%PDF-1.4", "application/pdf")
    url = s3.signed_url("att/z", 60, "application/pdf", "Certificate of Zoë.pdf")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"%PDF-1.4"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Certificate of Zo_.pdf"')
    assert "filename*=UTF-8''Certificate%20of%20Zo%C3%AB.pdf" in disposition


def test_signed_url_serves_the_object(s3: S3Storage) -> None:
    s3.put_bytes("hls/y/master.m3u8", b"#EXTM3U\n", "text/plain")
    url = s3.signed_url("hls/y/master.m3u8", 60, "application/vnd.apple.mpegurl")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"]
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"#EXTM3U\n"
    assert response.headers["Content-Type"] == "application/vnd.apple.mpegurl"
