"""The local backend through the real Flask app: app-signed part URLs streamed to disk, signed
downloads (send_file or nginx's X-Accel-Redirect), confirm and cancel."""

from __future__ import annotations

import hashlib
import io
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import User
from app.media import uploads
from app.media.errors import UploadGone
from app.media.models import MediaStatus
from app.media.storage.local import LocalStorage, PartRefused
from tests.conftest import QueryCounter, login_as
from tests.media.conftest import video_bytes

MIB = 1 << 20


def _part_path(url: str) -> str:
    assert url.startswith("/media/parts/")
    return url


def _upload_all(client: FlaskClient, ticket: uploads.UploadTicket, data: bytes) -> list[str]:
    etags = []
    for part in ticket.parts:
        start = (part.number - 1) * ticket.part_size
        response = client.put(_part_path(part.url), data=data[start : start + part.size])
        assert response.status_code == 200, response.get_data(as_text=True)
        etags.append(response.headers["ETag"])
    return etags


def test_parts_stream_to_disk_and_confirm_joins_them(
    app: Flask, client: FlaskClient, local: LocalStorage, teacher: User
) -> None:
    size = 2 * 8 * MIB + 123
    data = video_bytes(size, seed=11)
    ticket = uploads.start_video_upload(teacher.id, None, "intro.mov", size, "video/quicktime")
    assert ticket.part_count == 3 and ticket.media.content_type == "video/quicktime"
    etags = _upload_all(client, ticket, data)
    assert etags[0] == f'"{hashlib.md5(data[: 8 * MIB]).hexdigest()}"'
    folder = local.root / ".uploads" / (ticket.media.upload_id or "")
    assert sorted(p.name for p in folder.iterdir() if p.name.isdigit()) == ["1", "2", "3"]
    assert [p.number for p in uploads.stored_parts(ticket.media)] == [1, 2, 3]

    media = uploads.confirm_upload(ticket.media)
    assert media.status == MediaStatus.UPLOADED
    assert local.path(media.storage_key).read_bytes() == data
    assert not folder.exists()  # the parts are gone once joined
    again = uploads.confirm_upload(media)  # a second confirm: as it was
    assert again.status == MediaStatus.UPLOADED and again.confirmed_at == media.confirmed_at


def test_a_part_put_loads_no_user_and_opens_no_database_session(
    app: Flask, client: FlaskClient, local: LocalStorage, teacher: User,
    count_queries: QueryCounter,
) -> None:  # fmt: skip
    login_as(client, teacher)  # the browser sends its session cookie along
    ticket = uploads.start_video_upload(teacher.id, None, "a.mp4", 1000, "video/mp4")
    before = count_queries.count
    response = client.put(ticket.parts[0].url, data=video_bytes(1000))
    assert response.status_code == 200
    assert count_queries.count == before, count_queries.statements[before:]
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("tamper", ["signature", "size", "number", "expired"])
def test_a_bad_or_expired_part_signature_gets_403(
    app: Flask, client: FlaskClient, local: LocalStorage, teacher: User, tamper: str
) -> None:
    ticket = uploads.start_video_upload(teacher.id, None, "a.mp4", 1000, "video/mp4")
    upload_id = ticket.media.upload_id or ""
    url = ticket.parts[0].url
    if tamper == "signature":
        url = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    elif tamper == "size":
        url = url.replace("size=1000", "size=999999")
    elif tamper == "number":
        url = url.replace(f"/{upload_id}/1?", f"/{upload_id}/2?")
    else:
        past = int(time.time()) - 1
        sig = local.signer.sign("part", upload_id, 1, 1000, past)
        url = f"/media/parts/{upload_id}/1?size=1000&exp={past}&sig={sig}"
    response = client.put(url, data=video_bytes(1000))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert uploads.stored_parts(ticket.media) == []


def test_a_part_larger_than_signed_is_refused(
    app: Flask, client: FlaskClient, local: LocalStorage, teacher: User
) -> None:
    ticket = uploads.start_video_upload(teacher.id, None, "a.mp4", 1000, "video/mp4")
    response = client.put(ticket.parts[0].url, data=video_bytes(1001))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "part_too_large"
    short = client.put(ticket.parts[0].url, data=video_bytes(999))
    assert short.status_code == 400
    assert short.get_json()["error"]["code"] == "part_incomplete"
    assert uploads.stored_parts(ticket.media) == []
    # Without a Content-Length (chunked), the limit holds while streaming.
    upload_id = ticket.media.upload_id or ""
    with pytest.raises(PartRefused) as refused:
        local.receive_part(upload_id, 1, 1000, io.BytesIO(b"x" * (3 * MIB)), None)
    assert refused.value.code == "part_too_large"
    folder = local.root / ".uploads" / upload_id
    assert list(folder.iterdir()) == []  # no temporary file left behind


def test_cancel_drops_the_parts(
    app: Flask, client: FlaskClient, local: LocalStorage, teacher: User
) -> None:
    ticket = uploads.start_video_upload(teacher.id, None, "a.webm", 9 * MIB, "video/webm")
    first = ticket.parts[0]
    assert (
        client.put(first.url, data=b"\x1a\x45\xdf\xa3" + bytes(first.size - 4)).status_code == 200
    )
    media = uploads.cancel_upload(ticket.media)
    assert media.status == MediaStatus.ABORTED
    assert not (local.root / ".uploads").exists() or not any((local.root / ".uploads").iterdir())
    response = client.put(ticket.parts[1].url, data=bytes(ticket.parts[1].size))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_such_upload"
    with pytest.raises(UploadGone):
        uploads.confirm_upload(media)


def test_signed_download_with_ranges_and_expiry(
    app: Flask, client: FlaskClient, local: LocalStorage
) -> None:
    local.put_bytes("hls/abc/720p/seg_00001.ts", b"0123456789", "video/mp2t")
    url = local.signed_url("hls/abc/720p/seg_00001.ts", 60, "video/mp2t")
    response = client.get(url)
    assert response.status_code == 200 and response.data == b"0123456789"
    assert response.mimetype == "video/mp2t"
    assert response.headers["Cache-Control"].startswith("private, max-age=")
    ranged = client.get(url, headers={"Range": "bytes=2-4"})
    assert ranged.status_code == 206 and ranged.data == b"234"
    assert client.get(url.replace("seg_00001", "seg_00002")).status_code == 403
    assert client.get(url.replace("ct=video", "ct=text")).status_code == 403
    past = int(time.time()) - 1
    sig = local.signer.sign("file", "hls/abc/720p/seg_00001.ts", "", past)
    expired = client.get(f"/media/files/hls/abc/720p/seg_00001.ts?exp={past}&sig={sig}")
    assert expired.status_code == 403
    assert expired.get_json()["error"]["code"] == "bad_signature"


def test_a_download_name_saves_the_file_under_it(client: FlaskClient, local: LocalStorage) -> None:
    local.put_bytes("att/abc", b"%PDF-1.4", "application/pdf")
    url = local.signed_url("att/abc", 60, "application/pdf", "Notes ł week 1.pdf")
    response = client.get(url)
    assert response.status_code == 200 and response.data == b"%PDF-1.4"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Notes _ week 1.pdf"')
    assert "filename*=UTF-8''Notes%20%C5%82%20week%201.pdf" in disposition
    # The name is signed: another one, or none, is refused.
    assert client.get(url.replace("week", "month")).status_code == 403
    assert client.get(re.sub(r"&dn=[^&]*", "", url)).status_code == 403
    # Without a name, the URL is what it always was, and the browser shows the file.
    plain = client.get(local.signed_url("att/abc", 60, "application/pdf"))
    assert plain.status_code == 200
    assert plain.headers["Content-Disposition"].startswith("inline")


def test_x_accel_redirect_hands_the_file_to_nginx(
    app: Flask, client: FlaskClient, local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MEDIA_X_ACCEL_PREFIX", "/_media")
    local.put_bytes("hls/abc/master.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    url = local.signed_url("hls/abc/master.m3u8", 60, "application/vnd.apple.mpegurl")
    response = client.get(url)
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == "/_media/hls/abc/master.m3u8"
    assert response.mimetype == "application/vnd.apple.mpegurl"


def test_keys_and_delete_prefix_leave_uploads_in_progress_alone(local: LocalStorage) -> None:
    upload_id = local.start_upload("src/abc", "video/mp4")
    for name in ("hls/abc/master.m3u8", "hls/abc/720p/seg_00001.ts", "hls/abcd/x.ts"):
        local.put_bytes(name, b"x", "text/plain")
    assert list(local.keys("hls/abc/")) == ["hls/abc/720p/seg_00001.ts", "hls/abc/master.m3u8"]
    assert local.delete_prefix("hls/abc/") == 2
    assert not (local.root / "hls" / "abc").exists()
    assert list(local.keys("")) == ["hls/abcd/x.ts"]
    assert local.delete_prefix("") == 1
    assert (local.root / ".uploads" / upload_id).is_dir()


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", ".uploads/x/1", "a//b", "a/../b"])
def test_keys_must_be_app_made(local: LocalStorage, key: str, tmp_path: Path) -> None:
    from app.media.storage import StorageError

    with pytest.raises(StorageError):
        local.path(key)
