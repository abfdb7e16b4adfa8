"""The player's routes: what to play (JSON, seed 000 step 7), the HLS playlists (read from
storage after the access check, every segment rewritten to a short-lived signed URL), and the
lecture's thumbnail for pages without JavaScript.

Segments never pass through here: they are fetched from storage with their signed URLs (S3
presigned, or app/media/views.py's signed route, which nginx can serve via X-Accel-Redirect).
"""

from __future__ import annotations

import uuid

from flask import Response, abort, current_app, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue

from app.accounts.access import viewer
from app.catalog.queries import can_view
from app.core.errors import json_error
from app.extensions import login_manager
from app.learning import bp
from app.learning.playback import (
    PLAYLIST_TYPE,
    LectureMedia,
    PlaylistUrl,
    can_play,
    get_lecture_media,
    is_playlist_name,
    playback,
    read_playlist,
    thumbnail_url,
)
from app.media import queries as media_queries
from app.media.storage import get_storage

NO_STORE = "private, no-store"  # playlists and answers carry signed URLs


def _not_found() -> Response:
    return json_error("not_found", "No such lecture video.", 404)


def _checked(lecture_id: int, *, anonymous_status: int) -> LectureMedia | Response:
    """The lecture when the viewer may play it and it has a ready video; otherwise the answer:
    404 for a lecture they cannot see (or with no video), 401/403 for one they may not play."""
    found, user = get_lecture_media(lecture_id), viewer()
    if found is None:
        return _not_found()
    if not can_play(user, found.lecture, found.course):
        if not can_view(found.course, user):
            return _not_found()
        if user is None and anonymous_status == 401:
            return json_error("login_required", "Log in to watch this lecture.", 401)
        return json_error("no_access", "Enrol in this course to watch this lecture.", 403)
    return found if found.ready is not None else _not_found()


def _playlist_url(lecture_id: int) -> PlaylistUrl:
    return lambda name: url_for("learning.lecture_playlist", lecture_id=lecture_id, name=name)


@bp.get("/lectures/<int:lecture_id>/play")
def lecture_play(lecture_id: int) -> ResponseReturnValue:
    found = _checked(lecture_id, anonymous_status=401)
    if isinstance(found, Response):
        return found
    answer = playback(found, _playlist_url(lecture_id), get_storage())
    if answer is None:
        return _not_found()
    response = jsonify(
        videoUrl=answer.video_url, thumbnailUrl=answer.thumbnail_url, duration=answer.duration_s
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/lectures/<int:lecture_id>/hls/<path:name>")
def lecture_playlist(lecture_id: int, name: str) -> ResponseReturnValue:
    if not is_playlist_name(name):
        return _not_found()
    # A media request: no login redirect, a plain 403 for anyone who may not play it.
    found = _checked(lecture_id, anonymous_status=403)
    if isinstance(found, Response):
        return found
    assert found.media is not None
    text = read_playlist(found.media, name, _playlist_url(lecture_id), get_storage())
    if text is None:
        return _not_found()
    response = Response(text, mimetype=PLAYLIST_TYPE)
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/lectures/<int:lecture_id>/thumbnail")
def lecture_thumbnail(lecture_id: int) -> ResponseReturnValue:
    found = _checked(lecture_id, anonymous_status=403)
    if isinstance(found, Response):
        return found
    url = thumbnail_url(found, get_storage())
    if url is None:
        return _not_found()
    response = redirect(url, 302)
    # Kept a little while by the browser only, well inside the signed URL's lifetime.
    keep = min(60, current_app.config["MEDIA_SIGNED_URL_SECONDS"] // 2)
    response.headers["Cache-Control"] = f"private, max-age={keep}"
    return response


@bp.get("/lectures/<int:lecture_id>")
def watch_lecture(lecture_id: int) -> ResponseReturnValue:
    """The old lecture page: the player lives at /learning/<course>/<lecture> now (which
    checks access); 302, as a course's slug may change."""
    found = get_lecture_media(lecture_id)
    if found is None:
        abort(404)
    target = url_for("learning.player", course_slug=found.course.slug, lecture_id=lecture_id)
    return redirect(target, 302)


@bp.get("/lectures/<int:lecture_id>/attachments/<uuid:token>")
def download_attachment(lecture_id: int, token: uuid.UUID) -> ResponseReturnValue:
    """A lecture's file, for whoever may watch the lecture: a short-lived signed URL."""
    found, user = get_lecture_media(lecture_id), viewer()
    attachment = media_queries.get_attachment(lecture_id, token) if found else None
    if found is None or attachment is None or not can_view(found.course, user):
        abort(404)
    if not can_play(user, found.lecture, found.course):
        if user is None:
            login: Response = login_manager.unauthorized()
            return login
        abort(403)
    seconds = current_app.config["MEDIA_SIGNED_URL_SECONDS"]
    url = get_storage().signed_url(
        attachment.storage_key, seconds, attachment.content_type, attachment.file_name
    )
    response = redirect(url, 302)
    response.headers["Cache-Control"] = NO_STORE
    return response
