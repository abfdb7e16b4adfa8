"""Learning test data: enrollments in any state, lectures in course order, ready videos (a row
only, or real HLS outputs made by ffmpeg) and watching progress. Flushed, never committed, so
they work inside `db_session` and, followed by a commit, under `committed` (browser tests)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from app.catalog.models import Chapter, Course, CoursePrice, Lecture
from app.checkout.models import Order, OrderItem, OrderStatus
from app.core.models import utcnow
from app.extensions import db
from app.learning import services as learning
from app.learning.models import (
    Certificate,
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
    LectureProgress,
)
from app.media import ffmpeg
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.storage import Storage
from app.media.testcard import make_clip


def lectures_of(course: Course) -> list[Lecture]:
    """The course's lectures in course order (chapter position, then lecture position)."""
    stmt = (
        sa.select(Lecture)
        .join(Chapter, Chapter.id == Lecture.chapter_id)
        .where(Chapter.course_id == course.id)
        .order_by(Chapter.position, Chapter.id, Lecture.position, Lecture.id)
    )
    return list(db.session.scalars(stmt))


def enrol(
    user_id: int,
    course: Course,
    *,
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE,
    order_id: int | None = None,
    expires_at: datetime | None = None,
    **fields: object,
) -> Enrollment:
    """An enrollment in the given state; `fields` set any other column (progress, ...)."""
    enrollment = learning.grant_enrollment(user_id, course.id, EnrollmentSource.FREE, order_id)
    enrollment.order_id = order_id
    enrollment.expires_at = expires_at
    if status is EnrollmentStatus.DROPPED:
        enrollment.dropped_at = fields.pop("dropped_at", None) or utcnow()  # type: ignore[assignment]
    if status is EnrollmentStatus.COMPLETED:
        enrollment.completed_at = fields.pop("completed_at", None) or utcnow()  # type: ignore[assignment]
    enrollment.status = status
    for name, value in fields.items():
        setattr(enrollment, name, value)
    db.session.flush()
    return enrollment


def ready_video(lecture: Lecture, *, seconds: int = 60, owner_id: int | None = None) -> MediaFile:
    """A READY video row for the lecture (no files behind it): pages show a player for it."""
    prefix = f"hls/{uuid.uuid4().hex}/"
    media = MediaFile(
        kind=MediaKind.VIDEO,
        status=MediaStatus.READY,
        owner_id=owner_id or _teacher_id(lecture),
        lecture_id=lecture.id,
        file_name="clip.mp4",
        content_type="video/mp4",
        size_bytes=1,
        storage_key=f"src/{uuid.uuid4().hex}",
        part_size=8 * 1024 * 1024,
        output_prefix=prefix,
        progress=100,
        duration_ms=seconds * 1000,
        renditions=[],
        thumbnail_key=prefix + "thumbnail.jpg",
        ready_at=utcnow(),
    )
    db.session.add(media)
    db.session.flush()
    lecture.media_file_id = media.id
    lecture.duration_s = seconds
    db.session.flush()
    return media


@dataclasses.dataclass(frozen=True)
class Transcoded:
    folder: Path
    output: ffmpeg.HlsOutput


def transcode_clip(folder: Path, *, seconds: float = 2, height: int = 480) -> Transcoded:
    """A generated clip as HLS (renditions up to `height`, thumbnail), made by the real ffmpeg."""
    clip = make_clip(folder / "clip.mp4", seconds=seconds, height=height)
    bins = ffmpeg.binaries()
    plan = dataclasses.replace(ffmpeg.plan_for(ffmpeg.probe(clip, bins), bins), preset="ultrafast")
    out = folder / "out"
    return Transcoded(out, ffmpeg.transcode_hls(clip, out, plan))


def store_video(storage: Storage, transcoded: Transcoded, lecture: Lecture) -> MediaFile:
    """The transcoder's outputs stored under a fresh prefix, as a READY video of the lecture."""
    prefix = f"hls/{uuid.uuid4().hex}/"
    for name in transcoded.output.files:
        content_type = "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"
        if name.endswith(".jpg"):
            content_type = "image/jpeg"
        storage.put_file(prefix + name, transcoded.folder / name, content_type)
    output = transcoded.output
    media = ready_video(lecture, seconds=round(output.duration_ms / 1000))
    media.output_prefix = prefix
    media.duration_ms = output.duration_ms
    media.renditions = [
        {"name": v.name, "height": v.height, "bandwidth": v.bandwidth, "playlist": v.playlist}
        for v in output.variants
    ]
    media.thumbnail_key = prefix + output.thumbnail.name
    db.session.flush()
    return media


def attachment(lecture: Lecture, file_name: str = "notes.pdf") -> MediaFile:
    """A downloadable file of the lecture (a row; put bytes at its key to download it)."""
    media = MediaFile(
        kind=MediaKind.ATTACHMENT,
        status=MediaStatus.READY,
        owner_id=_teacher_id(lecture),
        lecture_id=lecture.id,
        file_name=file_name,
        content_type="application/pdf",
        size_bytes=14,
        storage_key=f"att/{uuid.uuid4().hex}",
        part_size=14,
    )
    db.session.add(media)
    db.session.flush()
    return media


def watch(
    enrollment: Enrollment, lecture: Lecture, *, position_s: int = 0, done: bool = False
) -> LectureProgress:
    """The student's progress in one lecture (what heartbeats would have written)."""
    row = LectureProgress(
        enrollment_id=enrollment.id,
        lecture_id=lecture.id,
        position_s=position_s,
        watched_s=position_s,
        completed_at=utcnow() if done else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def certificate(enrollment: Enrollment, *, revoked: bool = False) -> Certificate:
    """A certificate row for the enrollment (no PDF rendered)."""
    course = db.session.get(Course, enrollment.course_id)
    assert course is not None
    cert = Certificate(
        code=uuid.uuid4().hex[:20].upper(),
        enrollment_id=enrollment.id,
        user_id=enrollment.user_id,
        course_id=course.id,
        student_name="A Student",
        course_title=course.title,
        teacher_name="A Teacher",
        revoked_at=utcnow() if revoked else None,
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def order_for(user_id: int, course: Course, status: OrderStatus = OrderStatus.PAID) -> Order:
    """An order of one course line at its USD price (a snapshot, as checkout writes it)."""
    price = next((p.amount_minor for p in _prices(course) if p.currency == "USD"), 1999)
    order = Order(
        user_id=user_id,
        status=status,
        currency="USD",
        subtotal_minor=price,
        total_minor=price,
        paid_at=utcnow() if status is not OrderStatus.PENDING else None,
    )
    order.items.append(
        OrderItem(
            course_id=course.id,
            title=course.title,
            base_minor=price,
            sale_minor=price,
            total_minor=price,
        )
    )
    db.session.add(order)
    db.session.flush()
    return order


def _prices(course: Course) -> list[CoursePrice]:
    return list(
        db.session.scalars(sa.select(CoursePrice).where(CoursePrice.course_id == course.id))
    )


def _teacher_id(lecture: Lecture) -> int:
    stmt = sa.select(Course.teacher_id).join(Chapter).where(Chapter.id == lecture.chapter_id)
    return int(db.session.scalar(stmt))
