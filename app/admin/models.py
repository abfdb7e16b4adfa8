"""The console's own table: alert episodes (one row from the minute a metric crosses its line
until the minute it is back), so an alert mails once per episode, not once per minute."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import utcnow
from app.extensions import db


class AlertEpisode(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "alert_episodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), nullable=False)  # an alert rule's name
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    first_value: Mapped[float] = mapped_column(Float, nullable=False)
    last_value: Mapped[float] = mapped_column(Float, nullable=False)
    last_checked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # At most one open episode per rule: two evaluators racing cannot open a second one.
        Index(
            "uq_alert_episodes_open",
            "key",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_alert_episodes_started_at", "started_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
