"""Storage in a local directory (the default): `<root>/<key>`, multipart parts under
`<root>/.uploads/<upload_id>/<n>`, received by the app through app-signed URLs.

Parts and objects are always written to a temporary file and renamed into place, so a reader
never sees half a file and a retried part replaces the previous attempt whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import quote, urlencode

from app.media.storage.base import NoSuchUpload, StorageError, StoredPart
from app.media.storage.signing import UrlSigner

CHUNK = 1 << 20  # bytes read and written at a time: a part never sits in memory
UPLOADS = ".uploads"
PART_PATH = "/media/parts"  # PUT <PART_PATH>/<upload_id>/<n> (app/media/views.py)
FILE_PATH = "/media/files"  # GET <FILE_PATH>/<key>
# App-made keys only ("src/<hex>", "hls/<hex>/720p/seg_00001.ts"): no dot files, no "..".
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class PartRefused(StorageError):
    """A part PUT that cannot be stored; `code` and `status` are what the client is told."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def _md5() -> hashlib._Hash:
    return hashlib.md5(usedforsecurity=False)  # S3's ETag, not a security check


class LocalStorage:
    name = "local"

    def __init__(self, root: Path, signer: UrlSigner, base_url: str = "") -> None:
        self.root = root
        self.signer = signer
        self.base_url = base_url.rstrip("/")  # PUBLIC_URL, or "" for root-relative URLs

    # -- paths -------------------------------------------------------------------------------
    def path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key.split("/"):
            raise StorageError(f"not a storage key: {key!r}")
        return self.root / key

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.match(upload_id):
            raise NoSuchUpload(f"not an upload id: {upload_id!r}")
        return self.root / UPLOADS / upload_id

    def _tmp(self, folder: Path, label: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f".{label}.{uuid.uuid4().hex}.tmp"

    # -- multipart uploads -------------------------------------------------------------------
    def start_upload(self, key: str, content_type: str) -> str:  # noqa: ARG002 - no metadata
        self.path(key)  # refuse a bad key now, not at completion
        upload_id = uuid.uuid4().hex
        (self.root / UPLOADS / upload_id).mkdir(parents=True)
        return upload_id

    def part_url(self, key: str, upload_id: str, number: int, size: int, expires_s: int) -> str:
        self.path(key)  # the upload id alone names the object here; the key must still be ours
        exp = self.signer.expiry(expires_s)
        sig = self.signer.sign("part", upload_id, number, size, exp)
        query = urlencode({"size": size, "exp": exp, "sig": sig})
        return f"{self.base_url}{PART_PATH}/{upload_id}/{number}?{query}"

    def check_part_signature(
        self, upload_id: str, number: int, size: str, exp: str, sig: str
    ) -> bool:
        return size.isdigit() and self.signer.check(sig, exp, "part", upload_id, number, int(size))

    def receive_part(
        self, upload_id: str, number: int, size: int, body: IO[bytes], declared: int | None
    ) -> str:
        """Stream one part to disk in CHUNK-sized pieces; returns its ETag (md5 hex)."""
        folder = self._upload_dir(upload_id)
        if not folder.is_dir():
            raise PartRefused("no_such_upload", 404, "This upload was cancelled or has ended.")
        if declared is not None and declared > size:
            raise PartRefused("part_too_large", 413, f"This part may be at most {size} bytes.")
        tmp, digest = self._tmp(folder, str(number)), _md5()
        try:
            received = _copy_limited(body, tmp, digest, size)
            if received != size:
                raise PartRefused(
                    "part_incomplete", 400, f"This part must be {size} bytes; {received} arrived."
                )
            os.replace(tmp, folder / str(number))
        finally:
            tmp.unlink(missing_ok=True)
        etag = digest.hexdigest()
        mark = self._tmp(folder, f"{number}.md5")
        mark.write_text(etag)
        os.replace(mark, folder / f"{number}.md5")
        return etag

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:  # noqa: ARG002
        folder = self._upload_dir(upload_id)
        if not folder.is_dir():
            raise NoSuchUpload(f"no upload {upload_id}")
        parts = []
        for entry in os.scandir(folder):
            if entry.name.isdigit():
                number = int(entry.name)
                parts.append(StoredPart(number, entry.stat().st_size, _etag(folder, number)))
        return sorted(parts, key=lambda p: p.number)

    def complete_upload(self, key: str, upload_id: str, parts: list[StoredPart]) -> int:
        target = self.path(key)
        folder = self._upload_dir(upload_id)
        stored = {p.number: p for p in self.list_parts(key, upload_id)}
        numbers = [p.number for p in parts]
        if numbers != sorted(set(numbers)) or any(stored.get(p.number) != p for p in parts):
            raise StorageError("the parts given are not the parts stored")
        tmp = self._tmp(folder, "object")
        with tmp.open("wb") as out:
            for part in parts:
                with (folder / str(part.number)).open("rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        shutil.rmtree(folder, ignore_errors=True)
        return target.stat().st_size

    def abort_upload(self, key: str, upload_id: str) -> None:  # noqa: ARG002
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)

    # -- objects -----------------------------------------------------------------------------
    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def read_head(self, key: str, length: int) -> bytes:
        with self.open(key) as fh:
            return fh.read(length)

    def download(self, key: str, path: Path) -> None:
        with self.open(key) as src, path.open("wb") as out:
            shutil.copyfileobj(src, out, CHUNK)

    def put_file(self, key: str, path: Path, content_type: str) -> None:  # noqa: ARG002
        target = self.path(key)
        tmp = self._tmp(target.parent, target.name)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:  # noqa: ARG002
        target = self.path(key)
        tmp = self._tmp(target.parent, target.name)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no object {key}") from exc

    def keys(self, prefix: str) -> Iterator[str]:
        """Keys under prefix in lexicographic order, as S3 lists them."""
        base, found = self.root / prefix.rpartition("/")[0], []
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                key = Path(folder, name).relative_to(self.root).as_posix()
                if not name.startswith(".") and key.startswith(prefix):
                    found.append(key)
        return iter(sorted(found))

    def delete_prefix(self, prefix: str) -> int:
        doomed = list(self.keys(prefix))
        for key in doomed:
            self.path(key).unlink(missing_ok=True)
        self._prune(self.root / prefix.rpartition("/")[0])
        return len(doomed)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def _prune(self, base: Path) -> None:
        """Remove empty directories from base upwards, never the root."""
        found = []
        for folder, dirs, _files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]  # never an upload in progress
            found.append(folder)
        for folder in reversed(found):  # children before their parents
            if Path(folder) != self.root and not os.listdir(folder):
                os.rmdir(folder)
        while base != self.root and base.is_dir() and not os.listdir(base):
            base.rmdir()
            base = base.parent

    # -- reading by URL ----------------------------------------------------------------------
    def signed_url(
        self,
        key: str,
        expires_s: int,
        content_type: str | None = None,
        download_name: str | None = None,
    ) -> str:
        self.path(key)
        exp = self.signer.expiry(expires_s)
        params: dict[str, str | int] = {"exp": exp}
        if content_type:
            params["ct"] = content_type
        if download_name:
            params["dn"] = download_name
        fields = _file_fields(key, content_type or "", download_name or "")
        params["sig"] = self.signer.sign(*fields, exp)
        return f"{self.base_url}{FILE_PATH}/{quote(key)}?{urlencode(params)}"

    def check_file_signature(
        self, key: str, exp: str, sig: str, content_type: str, download_name: str = ""
    ) -> bool:
        return self.signer.check(sig, exp, *_file_fields(key, content_type, download_name))


def _file_fields(key: str, content_type: str, download_name: str) -> tuple[str, ...]:
    """What a download URL's signature covers; the name only when there is one, so URLs
    without it are signed as they always were."""
    return ("file", key, content_type, *((download_name,) if download_name else ()))


def _copy_limited(body: IO[bytes], target: Path, digest: hashlib._Hash, limit: int) -> int:
    """Copy body to target; PartRefused as soon as more than `limit` bytes arrive."""
    received = 0
    with target.open("wb") as out:
        while chunk := body.read(CHUNK):
            received += len(chunk)
            if received > limit:
                raise PartRefused("part_too_large", 413, f"This part may be at most {limit} bytes.")
            digest.update(chunk)
            out.write(chunk)
    return received


def _etag(folder: Path, number: int) -> str:
    """The md5 written when the part arrived; recomputed if that note is missing (a crash)."""
    try:
        return (folder / f"{number}.md5").read_text().strip()
    except FileNotFoundError:
        digest = _md5()
        with (folder / str(number)).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()
