"""Who may play a lecture, and what a player is given: the master playlist's URL, a thumbnail
and the duration, with playlists rewritten so every segment is a short-lived signed URL.

No request access here: the view passes the viewer and says how its own playlist URLs look
(`PlaylistUrl`), so the same rules serve the web player and, later, the API.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import exists, or_, select

from app.accounts.models import User
from app.catalog.models import Chapter, Course, CourseStatus, Lecture
from app.core.models import utcnow
from app.extensions import db
from app.learning.models import ACCESS_STATUSES, Enrollment
from app.media import hls, mux
from app.media.models import MediaFile, MediaStatus
from app.media.processing import CONTENT_TYPES, MASTER
from app.media.storage import Storage, StorageError

log = logging.getLogger(__name__)

# name -> the app's URL of that playlist (the playlist route, where access is checked again)
PlaylistUrl = Callable[[str], str]
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
# What a playlist name may look like: folders and files the transcoder writes, nothing else.
_PLAYLIST_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*\.m3u8$")


@dataclass(frozen=True)
class LectureMedia:
    """A lecture with its course and its current video (None when it has none)."""

    lecture: Lecture
    course: Course
    media: MediaFile | None

    @property
    def ready(self) -> MediaFile | None:
        """The video when it can be played: ready, with its outputs stored (or at Mux)."""
        media = self.media
        if media is None or media.status is not MediaStatus.READY:
            return None
        return media if (media.playback_id if media.is_mux else media.output_prefix) else None


@dataclass(frozen=True)
class Playback:
    video_url: str  # the master playlist (an app URL: access is checked on every fetch)
    thumbnail_url: str | None  # signed, short-lived
    duration_s: int


def get_lecture_media(lecture_id: int) -> LectureMedia | None:
    """The lecture, its course and its current video, in one statement."""
    row = db.session.execute(
        select(Lecture, Course, MediaFile)
        .join(Chapter, Chapter.id == Lecture.chapter_id)
        .join(Course, Course.id == Chapter.course_id)
        .outerjoin(MediaFile, MediaFile.id == Lecture.media_file_id)
        .where(Lecture.id == lecture_id)
    ).first()
    if row is None:
        return None
    lecture, course, media = row
    return LectureMedia(lecture, course, media)


def has_course_access(user_id: int, course_id: int) -> bool:
    """The user's enrollment lets them watch: active or completed, and not past its end."""
    stmt = select(
        exists().where(
            Enrollment.user_id == user_id,
            Enrollment.course_id == course_id,
            Enrollment.status.in_(ACCESS_STATUSES),
            or_(Enrollment.expires_at.is_(None), Enrollment.expires_at > utcnow()),
        )
    )
    return bool(db.session.scalar(stmt))


def can_play(user: User | None, lecture: Lecture, course: Course) -> bool:
    """Preview lectures of a published course play for anyone; the rest for the course's
    teacher, admins and students whose enrollment gives access (one query, only for them)."""
    if lecture.is_preview and course.status is CourseStatus.PUBLISHED:
        return True
    if user is None:
        return False
    if user.is_admin or user.id == course.teacher_id:
        return True
    return has_course_access(user.id, course.id)


def playback(found: LectureMedia, playlist_url: PlaylistUrl, storage: Storage) -> Playback | None:
    """What the player needs for the lecture's ready video; None when it has none."""
    media = found.ready
    if media is None:
        return None
    if media.duration_ms is not None:
        duration = round(media.duration_ms / 1000)
    else:
        duration = found.lecture.duration_s
    if media.is_mux and media.playback_id:  # Mux streams it; the access check stayed ours
        video = mux.stream_url(media.playback_id, _expires_s())
        return Playback(video, mux.thumbnail_url(media.playback_id, _expires_s()), duration)
    return Playback(playlist_url(MASTER), thumbnail_url(found, storage), duration)


def thumbnail_url(found: LectureMedia, storage: Storage) -> str | None:
    """A signed URL of the ready video's thumbnail, or None."""
    media = found.ready
    if media is not None and media.is_mux and media.playback_id:
        return mux.thumbnail_url(media.playback_id, _expires_s())
    if media is None or not media.thumbnail_key:
        return None
    return storage.signed_url(media.thumbnail_key, _expires_s(), CONTENT_TYPES[".jpg"])


def is_playlist_name(name: str) -> bool:
    """`name` is a playlist inside the output folder: not another kind of file, not a dot
    file, and no segment may be "." or ".." (the pattern admits neither), so nothing climbs out."""
    return bool(_PLAYLIST_NAME.match(name))


def read_playlist(
    media: MediaFile, name: str, playlist_url: PlaylistUrl, storage: Storage
) -> str | None:
    """The stored playlist `name` with every URI rewritten: playlists to `playlist_url`,
    everything else (segments, init sections, keys) to a signed storage URL. None when the
    playlist is not stored."""
    prefix = media.output_prefix
    if not prefix:  # a Mux video: Mux serves its playlists
        return None
    try:
        fh = storage.open(prefix + name)
        try:
            text = fh.read().decode("utf-8")
        finally:
            fh.close()
    except (StorageError, UnicodeDecodeError):
        return None
    expires = _expires_s()

    def sign(uri: str) -> str:
        target = hls.resolve(name, uri)  # PlaylistError for a URI leaving the output folder
        if target.endswith(".m3u8"):
            return playlist_url(target)
        content_type = CONTENT_TYPES.get(posixpath.splitext(target)[1], "application/octet-stream")
        return storage.signed_url(prefix + target, expires, content_type)

    try:
        return hls.rewrite(text, sign)
    except hls.PlaylistError:
        log.warning("event=playlist_unreadable media=%s name=%s", media.token, name)
        return None


def _expires_s() -> int:
    return int(current_app.config["MEDIA_SIGNED_URL_SECONDS"])
