"""Storage backends for media tests: a real moto S3 server over HTTP, and a local directory.

Each test gets its own bucket or directory, installed as the app's storage for its duration.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.accounts.models import Role, User
from app.media.storage import Storage
from app.media.storage.local import LocalStorage
from app.media.storage.s3 import S3Storage
from app.media.storage.signing import UrlSigner
from tests.factories import make_user
from tests.fakes import ports

PORTS = range(8321, 8330)  # this folder's servers (moto may hold 8320)


def free_port() -> int:
    return ports.free_port(PORTS)


def install(app: Flask, storage: Storage) -> Iterator[Storage]:
    before = app.extensions.get("media_storage")
    app.extensions["media_storage"] = storage
    try:
        yield storage
    finally:
        if before is None:
            app.extensions.pop("media_storage", None)
        else:
            app.extensions["media_storage"] = before


@pytest.fixture
def s3(app: Flask, moto_endpoint: str) -> Iterator[S3Storage]:
    """A fresh bucket, used by the app as its storage for this test."""
    storage = S3Storage(f"test-{uuid.uuid4().hex[:12]}", "us-east-1", moto_endpoint)
    storage.client.create_bucket(Bucket=storage.bucket)
    for installed in install(app, storage):
        assert isinstance(installed, S3Storage)
        yield installed


@pytest.fixture
def local(app: Flask, tmp_path: Path) -> Iterator[LocalStorage]:
    """A media root of this test's own, used by the app as its storage."""
    storage = LocalStorage(tmp_path / "media", UrlSigner(app.config["SECRET_KEY"]))
    for installed in install(app, storage):
        assert isinstance(installed, LocalStorage)
        yield installed


@pytest.fixture
def teacher(db_session: object) -> User:
    return make_user(Role.TEACHER)


MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def video_bytes(size: int, seed: int = 0) -> bytes:
    """`size` bytes that start like an MP4 (an ftyp box), then pseudo-random data."""
    return (MP4_HEAD + random.Random(seed).randbytes(size))[:size]
