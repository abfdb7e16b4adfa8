"""Reads of a user's notifications."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Notification


def get_notification(user_id: int, notification_id: int) -> Notification | None:
    """The notification if it belongs to the user; None otherwise (never someone else's)."""
    stmt = select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return db.session.scalars(stmt).first()


def list_notifications(user_id: int, limit: int = 20) -> list[Notification]:
    """The user's latest notifications, newest first, read or not."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def count_unread(user_id: int) -> int:
    """How many of the user's notifications are not read yet."""
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return db.session.scalar(stmt) or 0
