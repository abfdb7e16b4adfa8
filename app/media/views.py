"""Local storage's app-signed URLs: part uploads (PUT) and object downloads (GET).

The signature is the credential: these routes are CSRF-exempt, load no user and open no
database session, so a part costs a web worker one streamed write and nothing else.
"""

from __future__ import annotations

import time

from flask import Response, abort, current_app, g, request, send_file
from flask_login import AnonymousUserMixin

from app.core.errors import json_error
from app.extensions import csrf
from app.media import bp
from app.media.storage import get_storage
from app.media.storage.base import attachment_disposition
from app.media.storage.local import FILE_PATH, PART_PATH, LocalStorage, PartRefused


def _local() -> LocalStorage:
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)  # with S3 the browser talks to the bucket, never to these routes
    # Not the signed-in user (a DB query per part when the request log line asks for it).
    g._login_user = AnonymousUserMixin()
    return storage


def _bad_signature() -> Response:
    return json_error("bad_signature", "This link is invalid or has expired.", 403)


@bp.put(f"{PART_PATH}/<upload_id>/<int:number>")
@csrf.exempt
def put_part(upload_id: str, number: int) -> Response:
    storage = _local()
    args = request.args
    size = args.get("size", "")
    if not storage.check_part_signature(
        upload_id, number, size, args.get("exp", ""), args.get("sig", "")
    ):
        return _bad_signature()
    try:
        etag = storage.receive_part(
            upload_id, number, int(size), request.stream, request.content_length
        )
    except PartRefused as refused:
        response = json_error(refused.code, refused.message, refused.status)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        return response
    response = Response(status=200)
    response.headers["ETag"] = f'"{etag}"'  # as S3 answers a part PUT
    return response


@bp.get(f"{FILE_PATH}/<path:key>")
def get_file(key: str) -> Response:
    storage = _local()
    content_type = request.args.get("ct", "")
    exp, name = request.args.get("exp", ""), request.args.get("dn", "")
    if not storage.check_file_signature(key, exp, request.args.get("sig", ""), content_type, name):
        return _bad_signature()
    path = storage.path(key)
    if not path.is_file():
        return json_error("not_found", "No such file.", 404)
    prefix = current_app.config["MEDIA_X_ACCEL_PREFIX"]
    if prefix:  # nginx sends the file (an `internal` location aliased to MEDIA_ROOT)
        response = Response(status=200, content_type=content_type or None)
        response.headers["X-Accel-Redirect"] = f"{prefix}/{key}"
    else:
        response = send_file(path, mimetype=content_type or None, conditional=True, max_age=None)
    if name:  # saved under the name it was uploaded (or is offered) with
        response.headers["Content-Disposition"] = attachment_disposition(name)
    # Cached only by the browser, and no longer than the link works.
    response.headers["Cache-Control"] = f"private, max-age={max(0, int(exp) - int(time.time()))}"
    return response
