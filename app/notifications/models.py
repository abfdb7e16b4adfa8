"""Notifications: one per user and dedupe key, so a job that runs twice leaves one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import utcnow
from app.core.security import new_token
from app.extensions import db


class NotificationKind(StrEnum):
    """Every notification template ("<domain>/<name>" -> templates/<domain>/email/<name>.*),
    stored as the row's kind; the column is a plain string so a new kind needs no migration."""

    RECEIPT = "checkout/receipt"
    REFUND = "payments/refund"
    PASSWORD_RESET = "accounts/password_reset"  # noqa: S105 - a template name, not a secret
    EMAIL_VERIFY = "accounts/email_verify"
    VIDEO_READY = "media/video_ready"
    VIDEO_FAILED = "media/video_failed"
    CERTIFICATE_READY = "learning/certificate_ready"
    ACCESS_ENDING = "learning/access_ending"
    ACCESS_ENDED = "learning/access_ended"
    TRAINER_ASSIGNED = "tutoring/trainer_assigned"  # to the student
    NEW_STUDENT = "tutoring/new_student"  # to the trainer
    ALLOCATION_PENDING = "tutoring/allocation_pending"  # to admins
    SESSIONS_MOVED = "tutoring/sessions_moved"  # to the students and the trainer
    PACKAGE_ENDED = "tutoring/package_ended"  # to the trainer, when a refund ends a package
    SUBSTITUTE_ASSIGNED = "tutoring/substitute_assigned"  # to the student and the substitute
    SESSION_REMINDER = "tutoring/session_reminder"  # 24 h and 1 h before: student and trainer
    SESSION_CHANGED = "tutoring/session_changed"  # a student moved or canceled: both sides


class Notification(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What URLs name a notification by (mark read): ids are guessable, this is not.
    token: Mapped[str] = mapped_column(String(36), nullable=False, unique=True, default=new_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    # Chosen by the caller from what it is about ("order:<token>:receipt"): the idempotency key.
    dedupe_key: Mapped[str] = mapped_column(String(120), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once the email went out, so a retried job sends a pending email but never a second one.
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        # The header's unread count runs on every page (and every 30 s): only unread rows.
        Index(
            "ix_notifications_user_id_unread", "user_id", postgresql_where=text("read_at IS NULL")
        ),
    )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def __repr__(self) -> str:
        return f"<Notification {self.id} user={self.user_id} {self.kind} {self.dedupe_key!r}>"
