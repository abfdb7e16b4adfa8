"""The sandbox's own books: one hosted session per payment attempt and, once paid, its charge.

Listed with the payments domain's tables (app/payments/models.py imports this module), so
Alembic and `create_all` see it; the table predates the package, hence its plain name.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import TimestampMixin, str_enum
from app.extensions import db


class SandboxStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    DECLINED = "declined"
    CANCELED = "canceled"
    EXPIRED = "expired"


class SandboxSession(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """The test-mode provider's own books: a hosted session and, once paid, its charge."""

    __tablename__ = "sandbox_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_token: Mapped[str] = mapped_column(String(36), nullable=False)
    payment_token: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    title: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    status: Mapped[SandboxStatus] = mapped_column(
        str_enum(SandboxStatus, "sandbox_status"), default=SandboxStatus.OPEN
    )
    charge_id: Mapped[str | None] = mapped_column(String(40))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # idempotency key -> refund id, so a retried refund call never refunds twice
    refunds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    success_url: Mapped[str] = mapped_column(Text, nullable=False)
    cancel_url: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    @property
    def is_open(self) -> bool:
        """The buyer can still pay, cancel or fail it."""
        return self.status is SandboxStatus.OPEN


def get_session(session_id: str | None, lock: bool = False) -> SandboxSession | None:
    """The sandbox session with this id (locked for update when asked), or None."""
    if not session_id:
        return None
    return db.session.get(SandboxSession, session_id, with_for_update=lock)
