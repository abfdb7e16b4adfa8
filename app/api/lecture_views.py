"""Lectures for apps (issue 14, seed 000 flow 3): create, upload straight to storage, confirm,
status, and playback through signed playlist URLs."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask.wrappers import Response
from sqlalchemy import select

from app.accounts.models import User
from app.api import bp
from app.api.auth import rate_key
from app.api.course_schemas import (
    ConfirmReply,
    ConfirmUpload,
    CreateLecture,
    LectureReply,
    PlaylistQuery,
    PutQuery,
    StartUpload,
    StatusReply,
    UploadReply,
)
from app.api.course_views import (
    FIRST_CHAPTER,
    NO_STORE,
    STATUS_WORDS,
    TEACHERS,
    LoginRequired,
    _absolute,
    _iso_in,
    _own_course,
    _own_lecture,
)
from app.api.spec import ok
from app.api.spec import operation as op
from app.catalog.models import Chapter, Course
from app.catalog.queries import can_view
from app.core.errors import DomainError, NotFound, PermissionDenied
from app.core.unit import committing
from app.extensions import db, limiter
from app.learning.playback import (
    PLAYLIST_TYPE,
    can_play,
    get_lecture_media,
    is_playlist_name,
    playback,
    read_playlist,
)
from app.media import queries as media_queries
from app.media import uploads, whole_uploads
from app.media.errors import UploadRefused
from app.media.models import MediaFile, MediaStatus
from app.media.storage import get_storage
from app.media.storage.local import LocalStorage, PartRefused
from app.media.storage.signing import UrlSigner
from app.teaching import curriculum

COURSES, LECTURES = "courses", "lectures"


class LengthRequired(DomainError):
    code = "LENGTH_REQUIRED"
    status = 411


class BadSignature(DomainError):
    code = "BAD_SIGNATURE"
    status = 403


def _chapter_for(course: Course, chapter_id: int | None) -> Chapter:
    """The chapter asked for (it must be the course's), else the course's first, else a new
    "Chapter 1" (seed 000 creates lectures with only courseId and title)."""
    if chapter_id is not None:
        chapter = db.session.get(Chapter, chapter_id)
        if chapter is None or chapter.course_id != course.id:
            raise NotFound("No chapter with this id in the course.", field="chapterId")
        return chapter
    first = db.session.scalars(
        select(Chapter)
        .where(Chapter.course_id == course.id)
        .order_by(Chapter.position, Chapter.id)
        .limit(1)
    ).first()
    return first or curriculum.add_chapter(course, FIRST_CHAPTER)


@op(bp, "POST", "/lectures", summary="Add a lecture", tag=LECTURES, roles=TEACHERS,
    body=CreateLecture, response=LectureReply, status=201, errors=(401, 403, 404, 422))  # fmt: skip
def api_create_lecture(user: User, body: CreateLecture) -> Response:
    with committing():
        course = _own_course(user, body.courseId, lock=True)  # chapters are added one at a time
        lecture = curriculum.add_lecture(_chapter_for(course, body.chapterId), body.title)
        if body.description or body.isPreview:
            curriculum.update_lecture(lecture, lecture.title, body.description, body.isPreview)
        lecture_id = lecture.id
    return ok(_lecture_json(user, lecture_id), 201)


def _lecture_json(user: User | None, lecture_id: int) -> dict[str, Any]:
    """The lecture; its video's URLs only for whoever may play it (else 403, or 401 without a
    token). Lectures of a course the caller cannot see are 404."""
    found = get_lecture_media(lecture_id)
    if found is None or not can_view(found.course, user):
        raise NotFound("No lecture with this id.", code="LECTURE_NOT_FOUND")
    if not can_play(user, found.lecture, found.course):
        if user is None:
            raise LoginRequired("Log in to watch this lecture.")
        raise PermissionDenied("Enrol in this course to watch this lecture.", code="NO_ACCESS")
    lecture = found.lecture
    viewer_id = user.id if user is not None else 0
    video = playback(found, _playlist_url(lecture.id, viewer_id), get_storage())
    status = media_queries.lecture_video(lecture.id)
    return {
        "id": lecture.id,
        "courseId": found.course.id,
        "chapterId": lecture.chapter_id,
        "title": lecture.title,
        "description": lecture.description_md,
        "position": lecture.position,
        "isPreview": lecture.is_preview,
        "duration": video.duration_s if video else lecture.duration_s,
        "status": "completed" if video else _status_word(status.shown),
        "videoUrl": _absolute(video.video_url) if video else None,
        "thumbnailUrl": _absolute(video.thumbnail_url) if video else None,
    }


@op(bp, "GET", "/lectures/<int:lecture_id>", summary="A lecture, with its video for viewers",
    tag=LECTURES, auth="optional", response=LectureReply, errors=(401, 403, 404))  # fmt: skip
def api_get_lecture(user: User | None, lecture_id: int) -> Response:
    response = ok(_lecture_json(user, lecture_id))
    response.headers["Cache-Control"] = NO_STORE
    return response


# -- uploads ----------------------------------------------------------------------------------
def _signer() -> UrlSigner:
    return UrlSigner(current_app.config["SECRET_KEY"])


def _upload_url(media: MediaFile, ticket: uploads.UploadTicket) -> str:
    seconds = int(current_app.config["MEDIA_UPLOAD_URL_SECONDS"])
    if ticket.parts:  # Mux's own upload URL
        return ticket.parts[0].url
    url = whole_uploads.whole_file_url(media, seconds)
    if url is not None:
        return url
    assert media.upload_id is not None  # a fresh local upload has its directory
    exp = _signer().expiry(seconds)
    sig = _signer().sign("api-put", media.upload_id, media.size_bytes, exp)
    return url_for(
        "api.api_put_upload", upload_id=media.upload_id, max=media.size_bytes, exp=exp, sig=sig,
        _external=not current_app.config.get("PUBLIC_URL"),
    )  # fmt: skip


@op(bp, "POST", "/lectures/<int:lecture_id>/upload", summary="Start a video upload",
    tag=LECTURES, roles=TEACHERS, body=StartUpload, response=UploadReply, status=201,
    errors=(401, 403, 404, 409, 422),
    decorators=(
        limiter.limit("60 per minute", key_func=rate_key, override_defaults=False),
    ))  # fmt: skip
def api_start_upload(user: User, lecture_id: int, body: StartUpload) -> Response:
    lecture, _course = _own_lecture(user, lecture_id)
    if not media_queries.lecture_video(lecture.id).can_upload:
        raise UploadRefused(
            "This lecture's video is still being processed; upload again once it is done.",
            code="busy",
        )
    with committing():
        ticket = whole_uploads.start_whole_file_upload(
            user.id, lecture.id, body.fileName, body.fileSize, body.contentType
        )
        media = ticket.media
        answer = {
            "fileId": str(media.token),
            "uploadUrl": _absolute(_upload_url(media, ticket)),
            "expiresAt": _iso_in(ticket.expires_in_s),
            "method": "PUT",
            "maxSize": media.size_bytes,
        }
    return ok(answer, 201)


@op(bp, "PUT", "/uploads/<upload_id>/file", summary="Receive an upload (local storage)",
    tag=LECTURES, auth="none", query=PutQuery, errors=(403, 404, 411, 422))  # fmt: skip
def api_put_upload(upload_id: str, query: PutQuery) -> Response:
    """The uploadUrl with local storage: the signature is the credential (no token, no
    database), and the body streams into the upload's one part, at most `max` bytes."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        raise NotFound("Uploads go straight to storage.")
    if not _signer().check(query.sig, query.exp, "api-put", upload_id, query.max):
        raise BadSignature("This upload link is invalid or has expired.")
    length = request.content_length
    if length is None:
        raise LengthRequired("Send the file with a Content-Length.")
    if length > query.max or length == 0:
        raise DomainError(
            f"This upload takes 1 to {query.max} bytes.", code="PART_TOO_LARGE", field="body"
        )
    try:
        etag = storage.receive_part(upload_id, 1, length, request.stream, length)
    except PartRefused as refused:
        raise DomainError(refused.message, code=refused.code.upper()) from None
    response = Response(status=200)
    response.headers["ETag"] = f'"{etag}"'  # as S3 answers a part PUT
    return response


@op(bp, "POST", "/lectures/<int:lecture_id>/confirm-upload", summary="Confirm an upload",
    tag=LECTURES, roles=TEACHERS, body=ConfirmUpload, response=ConfirmReply,
    errors=(401, 403, 404, 409, 410, 422))  # fmt: skip
def api_confirm_upload(user: User, lecture_id: int, body: ConfirmUpload) -> Response:
    lecture, _course = _own_lecture(user, lecture_id)
    media = media_queries.get_media_by_token(body.fileId)
    if media is None or media.lecture_id != lecture.id:
        raise NotFound("No such upload for this lecture.", field="fileId")
    with committing():
        media = whole_uploads.confirm_whole_file_upload(media)  # transcoding queued after commit
        answer = {
            "fileId": str(media.token),
            "status": _status_word(media),
            "progress": 100 if media.status is MediaStatus.READY else int(media.progress),
            "error": media.error,
        }
    return ok(answer)


def _status_word(media: MediaFile | None) -> str:
    return STATUS_WORDS[media.status] if media is not None else "waiting"


@op(bp, "GET", "/lectures/<int:lecture_id>/status", summary="A lecture's video processing",
    tag=LECTURES, roles=TEACHERS, response=StatusReply, errors=(401, 403, 404))  # fmt: skip
def api_lecture_status(user: User, lecture_id: int) -> Response:
    lecture, _course = _own_lecture(user, lecture_id)
    video = media_queries.lecture_video(lecture.id)
    shown = video.shown
    return ok(
        {
            "status": _status_word(shown),
            "progress": video.progress,
            "mediaStatus": shown.status.value if shown is not None else "none",
            "fileId": str(shown.token) if shown is not None else None,
            "error": shown.error if shown is not None and video.pending is not None else None,
            "duration": video.duration_s,
        }
    )


# -- playback ---------------------------------------------------------------------------------
def _playlist_url(lecture_id: int, viewer_id: int) -> Any:
    """name -> a signed URL of this API's playlist route for that viewer."""
    seconds = int(current_app.config["MEDIA_SIGNED_URL_SECONDS"])

    def build(name: str) -> str:
        exp = _signer().expiry(seconds)
        sig = _signer().sign("api-hls", lecture_id, viewer_id, name, exp)
        return url_for(
            "api.api_lecture_playlist", lecture_id=lecture_id, name=name, u=viewer_id, exp=exp,
            sig=sig,
        )  # fmt: skip

    return build


@op(bp, "GET", "/lectures/<int:lecture_id>/hls/<path:name>", summary="A lecture's HLS playlist",
    tag=LECTURES, auth="none", query=PlaylistQuery, errors=(403, 404, 422))  # fmt: skip
def api_lecture_playlist(lecture_id: int, name: str, query: PlaylistQuery) -> Response:
    """The playlist behind `videoUrl`: signed for one viewer; access is checked on each fetch,
    nested playlists are signed again and segments are short-lived storage URLs."""
    if not _signer().check(query.sig, query.exp, "api-hls", lecture_id, query.u, name):
        raise BadSignature("This playlist link is invalid or has expired.")
    found = get_lecture_media(lecture_id)
    if found is None or found.ready is None or not is_playlist_name(name):
        raise NotFound("No such lecture video.")
    viewer = db.session.get(User, query.u) if query.u else None
    if not can_play(viewer, found.lecture, found.course):
        raise PermissionDenied("Enrol in this course to watch this lecture.", code="NO_ACCESS")
    assert found.media is not None
    text = read_playlist(found.media, name, _playlist_url(lecture_id, query.u), get_storage())
    if text is None:
        raise NotFound("No such playlist.")
    response = Response(text, mimetype=PLAYLIST_TYPE)
    response.headers["Cache-Control"] = NO_STORE
    return response
