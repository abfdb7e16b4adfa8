"""STORAGE_BACKEND picks the backend; one that cannot work is refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_config
from app.media.storage import build_storage
from app.media.storage.local import LocalStorage
from app.media.storage.s3 import S3Storage


def test_local_is_the_default_under_the_instance_folder() -> None:
    cfg = load_config({"APP_ENV": "test"})
    assert cfg["STORAGE_BACKEND"] == "local"
    assert Path(cfg["MEDIA_ROOT"]) == Path(cfg["INSTANCE_PATH"]) / "media"
    assert cfg["MEDIA_MAX_UPLOAD_BYTES"] == 5 * 1024**3
    storage = build_storage(cfg)
    assert isinstance(storage, LocalStorage) and storage.root == Path(cfg["MEDIA_ROOT"])


def test_s3_needs_a_bucket_and_builds_no_client_until_used() -> None:
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        load_config({"APP_ENV": "test", "STORAGE_BACKEND": "s3"})
    cfg = load_config({"APP_ENV": "test", "STORAGE_BACKEND": "s3", "S3_BUCKET": "media"})
    storage = build_storage(cfg)
    assert isinstance(storage, S3Storage) and storage.bucket == "media"
    assert storage._client is None  # boto3 is imported when the first call needs it


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match="local or s3"):
        load_config({"APP_ENV": "test", "STORAGE_BACKEND": "ftp"})
