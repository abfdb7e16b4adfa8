"""Demo lecture videos: a few seconds of ffmpeg's test card on the first lectures of two demo
courses, made and processed by workers in the background on first start (the real pipeline)."""

from __future__ import annotations

import logging
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import select

from app.catalog.models import Chapter, Course, Lecture
from app.catalog.queries import get_course_by_slug
from app.catalog.services import slugify
from app.core.models import utcnow
from app.core.unit import committing
from app.extensions import db
from app.jobs.queues import QueueName, enqueue_after_commit
from app.media import processing
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.storage import get_storage
from app.media.testcard import make_clip

log = logging.getLogger(__name__)

# (course title, how many of its first lectures get a video, seconds each)
DEMO_VIDEOS = (
    ("Python for Absolute Beginners", 3, 8),
    ("Modern JavaScript: From ES6 to Async/Await", 2, 6),
)
MAKE_JOB = "app.demo.videos.make_demo_video"


def _first_lectures(course: Course, count: int) -> list[Lecture]:
    return list(
        db.session.scalars(
            select(Lecture)
            .join(Chapter, Chapter.id == Lecture.chapter_id)
            .where(Chapter.course_id == course.id)
            .order_by(Chapter.position, Lecture.position)
            .limit(count)
        )
    )


def _has_video(lecture: Lecture) -> bool:
    found = db.session.scalar(select(MediaFile.id).where(MediaFile.lecture_id == lecture.id))
    return lecture.media_file_id is not None or found is not None


def queue_demo_videos() -> int:
    """Queue the demo videos still missing (after the caller's commit); how many."""
    queued = 0
    for title, count, seconds in DEMO_VIDEOS:
        course = get_course_by_slug(slugify(title))
        if course is None:
            continue
        for lecture in _first_lectures(course, count):
            if not _has_video(lecture):
                enqueue_after_commit(MAKE_JOB, lecture.id, seconds, queue=QueueName.MEDIA)
                queued += 1
    return queued


def make_demo_video(lecture_id: int, seconds: int) -> int | None:
    """Generate a clip, store it as the teacher's confirmed upload and queue its processing, as
    if the teacher had uploaded it (idempotent: a lecture with a video is left alone)."""
    lecture = db.session.get(Lecture, lecture_id)
    if lecture is None or _has_video(lecture):
        return None
    course = db.session.scalars(
        select(Course)
        .join(Chapter, Chapter.course_id == Course.id)
        .where(Chapter.id == lecture.chapter_id)
    ).one()
    storage = get_storage()
    key = f"src/{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="cf-demo-") as tmp:
        clip = make_clip(Path(tmp) / "demo.mp4", seconds=seconds, height=720)
        size = clip.stat().st_size
        storage.put_file(key, clip, "video/mp4")
    with committing():
        media = MediaFile(
            kind=MediaKind.VIDEO,
            status=MediaStatus.UPLOADED,
            owner_id=course.teacher_id,
            lecture_id=lecture.id,
            file_name=f"{slugify(lecture.title)[:60] or 'lecture'}.mp4",
            content_type="video/mp4",
            size_bytes=size,
            storage_key=key,
            part_size=size,
            confirmed_at=utcnow(),
        )
        db.session.add(media)
        db.session.flush()
        processing.enqueue_transcode(media)
    log.info("event=demo_video_stored lecture_id=%s media_id=%s", lecture.id, media.id)
    return media.id
