"""Enrollments: who may watch which course, and why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, UniqueConstraint
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

    user: Mapped[User] = relationship(lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    @property
    def has_access(self) -> bool:
        return self.status in ACCESS_STATUSES
