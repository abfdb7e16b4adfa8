"""A 300 MiB upload through a real gunicorn web process (the `make run` command): parts are
streamed to disk, so the worker's peak RSS stays within 100 MiB of its idle RSS."""

from __future__ import annotations

import hashlib
import http.client
import logging
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from flask import Flask

from app.accounts.models import User
from app.config import ROOT, child_environment
from app.devserver import _commands
from app.media import uploads
from app.media.models import MediaStatus
from app.media.storage.local import LocalStorage
from tests.media.conftest import MP4_HEAD, free_port
from tests.processes import stop_group

MIB = 1 << 20
SIZE = 300 * MIB
LIMIT = 100 * MIB


def _web_argv(instance: Path, port: int) -> list[str]:
    bare = Flask("argv")
    bare.config.update(
        PORT=port, WEB_CONCURRENCY=1, REDIS_URL="redis://unused", INSTANCE_PATH=str(instance)
    )
    return _commands(bare)["web"]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def web(app: Flask, service_urls: dict[str, str], local: LocalStorage, tmp_path: Path
        ) -> Iterator[tuple[int, int]]:  # fmt: skip
    """(port, worker pid) of gunicorn serving this app's media root with its secret."""
    instance = tmp_path / "instance"
    instance.mkdir()
    port = free_port()
    env = child_environment(
        **service_urls,
        INSTANCE_PATH=str(instance),
        MEDIA_ROOT=str(local.root),
        SECRET_KEY=app.config["SECRET_KEY"],
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    for name in ("APP_ENV", "TEST_DATABASE_URL", "TEST_REDIS_URL", "STORAGE_BACKEND"):
        env.pop(name, None)
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(_web_argv(instance, port), cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 1, workers
        yield port, workers[0].pid
    finally:
        stop_group(proc)


def _chunks(size: int, seed: int) -> Iterator[bytes]:
    """The file, generated 1 MiB at a time (never held whole by the test either)."""
    block = random.Random(seed).randbytes(MIB)
    for i in range(0, size, MIB):
        chunk = (i // MIB).to_bytes(8, "big") + block[8:]
        yield (MP4_HEAD + chunk[len(MP4_HEAD) :] if i == 0 else chunk)[: min(MIB, size - i)]


def _put_part(port: int, url: str, size: int, chunks: Iterator[bytes]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("PUT", url, skip_accept_encoding=True)
    conn.putheader("Content-Length", str(size))
    conn.putheader("Content-Type", "application/octet-stream")
    conn.endheaders()
    sent = 0
    while sent < size:
        chunk = next(chunks)
        conn.send(chunk)
        sent += len(chunk)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200, body


def test_a_300_mib_upload_keeps_the_web_worker_small(
    app: Flask, local: LocalStorage, teacher: User, web: tuple[int, int]
) -> None:
    port, worker = web
    for _ in range(3):  # warm: the first requests import and build what later ones reuse
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("PUT", "/media/parts/" + "0" * 32 + "/1?size=1&exp=1&sig=x", body=b"x")
        assert conn.getresponse().status == 403
        conn.close()
    idle = _status_kib(worker, "VmRSS")

    ticket = uploads.start_video_upload(teacher.id, None, "big.mp4", SIZE, "video/mp4")
    parts = uploads.part_urls(ticket.media, range(1, ticket.part_count + 1))
    assert len(parts) == 38  # 37 parts of 8 MiB and the rest
    chunks, digest = _digests(_chunks(SIZE, seed=9))
    started = time.monotonic()
    for part in parts:
        _put_part(port, part.url, part.size, chunks)
    # And one part of 150 MiB in a single request: it too must be streamed, not buffered.
    big = 150 * MIB
    other = local.start_upload("src/rss-single-part", "video/mp4")
    _put_part(port, local.part_url("src/rss-single-part", other, 1, big, 60), big,
              _chunks(big, seed=10))  # fmt: skip
    elapsed = time.monotonic() - started
    peak = _status_kib(worker, "VmHWM")
    assert local.list_parts("src/rss-single-part", other)[0].size == big
    assert peak - idle < LIMIT, f"peak {peak / MIB:.0f} MiB, idle {idle / MIB:.0f} MiB"

    media = uploads.confirm_upload(ticket.media)
    assert media.status == MediaStatus.UPLOADED
    path = local.path(media.storage_key)
    assert path.stat().st_size == SIZE
    assert _file_md5(path) == digest.hexdigest()
    logging.getLogger(__name__).warning(
        "450 MiB in %.1f s; worker idle %d MiB, peak %d MiB", elapsed, idle // MIB, peak // MIB
    )


def _digests(chunks: Iterator[bytes]) -> tuple[Iterator[bytes], hashlib._Hash]:
    digest = hashlib.md5()

    def tee() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    return tee(), digest


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as fh:
        while chunk := fh.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()
