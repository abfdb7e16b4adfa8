"""Storage in an S3 bucket (AWS, MinIO or any S3-compatible store) through boto3.

boto3 and botocore are imported when the first client is built, not with this module: they
cost a web worker tens of MB (issue 9), and only the s3 backend needs them. Credentials come
from boto3's usual chain (environment, shared files, instance roles), never from our config.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from app.media.storage.base import NoSuchUpload, StorageError, StoredPart, attachment_disposition

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
DELETE_BATCH = 1000  # S3's limit for one DeleteObjects call
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    name = "s3"

    def __init__(self, bucket: str, region: str = "", endpoint_url: str = "") -> None:
        self.bucket = bucket
        self.region = region or None
        self.endpoint_url = endpoint_url or None
        self._client: S3Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        if self._client is None:
            with self._lock:  # boto3 clients are thread-safe; building one is not
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    def _build_client(self) -> S3Client:
        import boto3
        from botocore.config import Config

        # Path-style addressing for MinIO and other endpoints without bucket subdomains.
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
        )
        session = boto3.session.Session()
        return session.client(
            "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config
        )

    def _call(self, action: Callable[[], T], upload: bool = False) -> T:
        """Run one boto3 call, turning its errors into StorageError (NoSuchUpload for uploads)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except ClientError as exc:
            code = _error_code(exc)
            if upload and code == "NoSuchUpload":
                raise NoSuchUpload(str(exc)) from exc
            raise StorageError(f"S3 {code or 'error'}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 unreachable: {exc}") from exc

    # -- multipart uploads -------------------------------------------------------------------
    def start_upload(self, key: str, content_type: str) -> str:
        answer = self._call(
            lambda: self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        )
        return answer["UploadId"]

    def part_url(self, key: str, upload_id: str, number: int, size: int, expires_s: int) -> str:
        # ContentLength is signed: S3 refuses a body of any other size with this URL.
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": number,
            "ContentLength": size,
        }
        return self._call(
            lambda: self.client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=expires_s
            )
        )

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        def collect() -> list[StoredPart]:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            return [
                StoredPart(p["PartNumber"], p["Size"], p["ETag"].strip('"'))
                for page in pages
                for p in page.get("Parts", [])
            ]

        return sorted(self._call(collect, upload=True), key=lambda p: p.number)

    def complete_upload(self, key: str, upload_id: str, parts: list[StoredPart]) -> int:
        listing: Any = {"Parts": [{"PartNumber": p.number, "ETag": f'"{p.etag}"'} for p in parts]}
        self._call(
            lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload=listing
            ),
            upload=True,
        )
        size = self.size(key)
        if size is None:
            raise StorageError(f"S3 completed {key} but it is not there")
        return size

    def abort_upload(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(NoSuchUpload):  # completed or aborted: nothing left to drop
            self._call(
                lambda: self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                ),
                upload=True,
            )

    # -- objects -----------------------------------------------------------------------------
    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self._call(lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and _error_code(cause) in _MISSING:
                return None
            raise
        return int(head["ContentLength"])

    def read_head(self, key: str, length: int) -> bytes:
        if self.size(key) == 0:
            return b""  # S3 answers a range on an empty object with 416
        answer = self._call(
            lambda: self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}"
            )
        )
        return answer["Body"].read()

    def download(self, key: str, path: Path) -> None:
        self._call(lambda: self.client.download_file(self.bucket, key, str(path)))

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        extra = {"ContentType": content_type}
        self._call(lambda: self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra))

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._call(
            lambda: self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
        )

    def open(self, key: str) -> BinaryIO:
        answer = self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=key))
        return cast(BinaryIO, answer["Body"])  # a StreamingBody: read(), close(), iteration

    def keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in self._call(lambda: list(pages)):
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.keys(prefix))
        for start in range(0, len(keys), DELETE_BATCH):
            self._delete_batch(keys[start : start + DELETE_BATCH], prefix)
        return len(keys)

    def _delete_batch(self, keys: list[str], prefix: str) -> None:
        batch: Any = {"Objects": [{"Key": k} for k in keys], "Quiet": True}
        answer = self._call(lambda: self.client.delete_objects(Bucket=self.bucket, Delete=batch))
        if answer.get("Errors"):
            raise StorageError(f"S3 kept {len(answer['Errors'])} objects under {prefix}")

    def delete(self, key: str) -> None:
        self._call(lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    # -- reading by URL ----------------------------------------------------------------------
    def signed_url(
        self,
        key: str,
        expires_s: int,
        content_type: str | None = None,
        download_name: str | None = None,
    ) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        if download_name:
            params["ResponseContentDisposition"] = attachment_disposition(download_name)
        return self._call(
            lambda: self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_s
            )
        )


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
