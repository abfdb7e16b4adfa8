"""gzip for text responses (pages, fragments, JSON, CSS, JS, SVG) when the client accepts it.

Left alone: HEAD, 1xx/204/206/304, small bodies, streamed or already-encoded responses and
`Cache-Control: no-transform`. Static files are compressed once per version (by ETag) and their
ETag made weak, since the gzip bytes differ from the file's; If-None-Match still answers 304
(weak comparison) and ranges are served from the plain file."""

from __future__ import annotations

import gzip

from flask import Flask, request
from flask.wrappers import Response

LEVEL = 6  # most of level 9's gain at a fraction of its cost
MIN_BYTES = 500  # below this the gzip header and a round of CPU win nothing
MAX_STATIC_BYTES = 1 << 20  # larger static files are streamed as they are
CACHED_STATIC_FILES = 256
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "application/javascript",
        "text/javascript",
        "application/json",
        "image/svg+xml",
    }
)
NO_BODY = frozenset({204, 206, 304})


def init_compression(app: Flask) -> None:
    static_cache: dict[tuple[str, int], bytes] = {}

    @app.after_request
    def _compress(response: Response) -> Response:
        if response.status_code == 304:
            return _not_modified(response)
        if not _compressible(response):
            return response
        response.vary.add("Accept-Encoding")
        if not _accepts_gzip():
            return response
        if response.direct_passthrough:
            body = _static_body(response, static_cache)
        else:
            body = gzip.compress(response.get_data(), compresslevel=LEVEL, mtime=0)
        response.set_data(body)  # sets Content-Length
        response.headers["Content-Encoding"] = "gzip"
        response.headers.pop("Accept-Ranges", None)  # byte ranges are of the plain file
        _weaken_etag(response)
        return response


def _compressible(response: Response) -> bool:
    if request.method == "HEAD" or response.status_code < 200:
        return False
    if response.status_code in NO_BODY or "Content-Encoding" in response.headers:
        return False
    if response.mimetype not in COMPRESSIBLE or response.cache_control.no_transform:
        return False
    size = response.content_length
    if size is None or size < MIN_BYTES:
        return False
    if response.direct_passthrough:  # send_file: only our own static files, read whole
        return request.endpoint == "static" and size <= MAX_STATIC_BYTES
    return not response.is_streamed


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0  # quality; 0 when absent or `gzip;q=0`


def _not_modified(response: Response) -> Response:
    """A 304 carries the Vary and ETag the full answer would have had."""
    if response.mimetype in COMPRESSIBLE and "Content-Encoding" not in response.headers:
        response.vary.add("Accept-Encoding")
        if _accepts_gzip() and request.method != "HEAD":
            _weaken_etag(response)
    return response


def _static_body(response: Response, cache: dict[tuple[str, int], bytes]) -> bytes:
    etag, _ = response.get_etag()
    key = (etag or "", response.content_length or 0)
    body = cache.get(key) if etag else None
    if body is None:
        response.direct_passthrough = False  # let get_data read the file
        body = gzip.compress(response.get_data(), compresslevel=LEVEL, mtime=0)
        if etag:
            if len(cache) >= CACHED_STATIC_FILES:
                cache.clear()
            cache[key] = body
    else:
        close = getattr(response.response, "close", None)
        if close is not None:
            close()  # the unread file
    response.direct_passthrough = False
    return body


def _weaken_etag(response: Response) -> None:
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
