"""Enrollments (who may watch which course, and why), what each student watched of each
lecture, and the certificates finished courses earn."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Course
from app.core.models import TimestampMixin, str_enum, utcnow
from app.extensions import db


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DROPPED = "dropped"
    EXPIRED = "expired"


class EnrollmentSource(StrEnum):
    PURCHASE = "purchase"
    FREE = "free"
    ADMIN = "admin"


ACCESS_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


class Enrollment(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False, index=True)
    status: Mapped[EnrollmentStatus] = mapped_column(
        str_enum(EnrollmentStatus, "enrollment_status"), default=EnrollmentStatus.ACTIVE
    )
    source: Mapped[EnrollmentSource] = mapped_column(
        str_enum(EnrollmentSource, "enrollment_source"), default=EnrollmentSource.PURCHASE
    )
    # The order that paid for it (orders live in the checkout domain, above this one).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    enrolled_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written by heartbeats (app/learning/progress.py) in one statement, never read-modify-write.
    current_lecture_id: Mapped[int | None] = mapped_column(
        ForeignKey("lectures.id", ondelete="SET NULL")
    )
    completed_lectures: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    total_time_spent_s: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    streak_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    # The last UTC day with watching: the streak grows on the next day and restarts after a gap.
    last_active_on: Mapped[date | None] = mapped_column(Date)
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        # The daily expiry job reads only enrollments that can still end.
        Index(
            "ix_enrollments_expires_at_open",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL AND status IN ('active', 'completed')"),
        ),
    )

    @property
    def has_access(self) -> bool:
        return self.status in ACCESS_STATUSES


class LectureProgress(db.Model):  # type: ignore[name-defined,misc]
    """One student's watching of one lecture: where they are, how long they really watched
    (credited by the server, never more than the time that passed), and when it was done."""

    __tablename__ = "lecture_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), nullable=False
    )
    lecture_id: Mapped[int] = mapped_column(
        ForeignKey("lectures.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position_s: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    watched_s: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # What the latest heartbeat was credited (after the cap), for its answer and for audits.
    last_credit_s: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The previous heartbeat: the next one is credited at most the wall time since.
    last_heartbeat_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    __table_args__ = (
        UniqueConstraint("enrollment_id", "lecture_id"),
        CheckConstraint("position_s >= 0 AND watched_s >= 0", name="not_negative"),
    )


class Certificate(db.Model):  # type: ignore[name-defined,misc]
    """A finished course's certificate: what it says is frozen when it is issued; the PDF is
    rendered once by a job into the storage backend; a full refund revokes it."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Printed on the PDF and in its verification URL (/certificates/<code>): random, not an id.
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False)
    student_name: Mapped[str] = mapped_column(String(200), nullable=False)
    course_title: Mapped[str] = mapped_column(String(200), nullable=False)
    teacher_name: Mapped[str] = mapped_column(String(200), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    storage_key: Mapped[str | None] = mapped_column(String(300))
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
