"""Content-hashed static URLs: `url_for('static', filename=f)` adds `?v=<sha256[:12]>` of the file,
so a changed file gets a new URL and a URL with the current hash can be cached for a year.

A request with an old or no hash still gets the file, with Flask's revalidation (`no-cache` plus
ETag); only the current hash earns `immutable`. Hashes are computed once per file version
(path, size, mtime, inode) per process: a file edited under `make run` gets a new URL at once."""

from __future__ import annotations

import hashlib
import os
from stat import S_ISREG
from typing import Any

from flask import Flask, current_app, request
from flask.wrappers import Response
from werkzeug.security import safe_join

HASH_ARG = "v"
IMMUTABLE = "public, max-age=31536000, immutable"

_Key = tuple[str, int, int, int]


class StaticHashes:
    """sha256[:12] of files, remembered per version of each file."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[_Key, str]] = {}  # one entry per path: bounded

    def of(self, folder: str | None, filename: str) -> str | None:
        path = safe_join(folder, filename) if folder else None
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:  # a missing file: no hash, the URL answers 404 as before
            return None
        if not S_ISREG(stat.st_mode):
            return None
        key = (path, stat.st_size, stat.st_mtime_ns, stat.st_ino)
        known = self._known.get(path)
        if known is not None and known[0] == key:
            return known[1]
        digest = _sha256(path)
        self._known[path] = (key, digest)  # a race only hashes the same file twice
        return digest


def _sha256(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def init_static(app: Flask) -> None:
    hashes = StaticHashes()

    @app.url_defaults
    def _hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and HASH_ARG not in values:
            digest = hashes.of(current_app.static_folder, values["filename"])
            if digest:
                values[HASH_ARG] = digest

    @app.after_request
    def _cache_hashed_static(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        wanted = request.args.get(HASH_ARG)
        filename = (request.view_args or {}).get("filename", "")
        if wanted and wanted == hashes.of(current_app.static_folder, filename):
            response.headers["Cache-Control"] = IMMUTABLE
            response.headers.pop("Expires", None)
        return response
