"""The storage backend the app is configured with: STORAGE_BACKEND = local | s3."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app

from app.media.storage.base import NoSuchUpload, Storage, StorageError, StoredPart

__all__ = ["NoSuchUpload", "Storage", "StorageError", "StoredPart", "build_storage", "get_storage"]
_EXTENSION = "media_storage"


def get_storage() -> Storage:
    """This app's backend, built once per app (an S3 client is reused across requests)."""
    extensions = current_app.extensions
    storage: Storage | None = extensions.get(_EXTENSION)
    if storage is None:
        storage = extensions[_EXTENSION] = build_storage(current_app.config)
    return storage


def build_storage(config: Mapping[str, Any]) -> Storage:
    if config["STORAGE_BACKEND"] == "s3":
        from app.media.storage.s3 import S3Storage  # boto3 only where it is used

        return S3Storage(config["S3_BUCKET"], config["S3_REGION"], config["S3_ENDPOINT_URL"])
    from app.media.storage.local import LocalStorage
    from app.media.storage.signing import UrlSigner

    return LocalStorage(
        Path(config["MEDIA_ROOT"]), UrlSigner(config["SECRET_KEY"]), config.get("PUBLIC_URL", "")
    )
