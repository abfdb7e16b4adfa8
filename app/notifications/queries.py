"""Reads of a user's notifications."""

from __future__ import annotations

from math import ceil

from sqlalchemy import func, select

from app.core.pagination import Page
from app.extensions import db
from app.notifications.models import Notification

PAGE_SIZE = 20


def get_notification(user_id: int, token: str) -> Notification | None:
    """The notification with this token if it belongs to the user; None otherwise."""
    stmt = select(Notification).where(Notification.token == token, Notification.user_id == user_id)
    return db.session.scalars(stmt).first()


def list_notifications(user_id: int, limit: int = PAGE_SIZE) -> list[Notification]:
    """The user's latest notifications, newest first, read or not."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def page_notifications(user_id: int, page: int, per_page: int = PAGE_SIZE) -> Page[Notification]:
    """One page of the user's notifications, newest first; a page past the end gives the last."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    total = count_notifications(user_id)
    page = min(page, max(1, ceil(total / per_page)))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items, page, per_page, total)


def count_notifications(user_id: int) -> int:
    stmt = select(func.count()).where(Notification.user_id == user_id)
    return db.session.scalar(stmt) or 0


def count_unread(user_id: int) -> int:
    """How many of the user's notifications are not read yet (a partial index answers it)."""
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return db.session.scalar(stmt) or 0
