"""Notification rules: one per user and dedupe key, its email sent at most once when it can be.

Every notification is a template (`notify(user, key, "<domain>/<name>", **context)` renders
`templates/<domain>/email/<name>.*`, see messages.py): callers never write texts in code.

How a retried job behaves (services never commit; the job commits once at its end):
- the email fails: notify() raises, the job's transaction rolls back the new row, and RQ's
  retry inserts it again and sends the email;
- the row was committed but its email not sent (a caller that caught the error and committed,
  or a notification first recorded without an email): the next notify() with the same key
  sends the email and sets `emailed_at`;
- the email was sent but the commit was lost (crash in between): the retry sends it again.
  SMTP offers no transaction to join, so this window stays; the Message-ID is derived from
  the dedupe key, so mail clients that collapse duplicate Message-IDs show it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from app.accounts.models import User
from app.core.errors import NotFound
from app.core.models import utcnow
from app.extensions import db
from app.notifications import mail
from app.notifications.messages import Message, render_message
from app.notifications.models import Notification
from app.notifications.queries import get_notification


def notify(  # noqa: PLR0913 - the optional ones are keyword-only, named by callers
    user: User,
    key: str,
    template: str,
    *,
    link: str | None = None,
    email: bool = True,
    attachments: Sequence[mail.Attachment] = (),
    **context: Any,
) -> Notification | None:
    """Record the notification once per (user, key); None when it already existed.

    Title, body and email come from the `template`'s parts (see messages.py), rendered with
    `user`, `link` (an absolute URL, shown in-app and given to the templates) and `context`.
    With `email`, it is sent after the insert unless this notification's email already went
    out; a sending failure raises (the caller's job retries), and the row is locked meanwhile
    so two concurrent runs cannot both send it. `attachments` go with the email only.
    """
    message = render_message(template, {**context, "user": user, "link": link})
    stmt = (
        insert(Notification)
        .values(
            user_id=user.id,
            kind=template,
            dedupe_key=key,
            title=message.subject,
            body=message.inapp,
            link=link,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(Notification.id)
    )
    created_id = db.session.scalar(stmt)
    notification = _lock(user.id, key)
    if email and notification.emailed_at is None:
        _send(notification, user.email, message, attachments)
    return notification if created_id is not None else None


def mark_read(user_id: int, token: str) -> Notification:
    """The user's notification is read (idempotent); NotFound when it is not theirs."""
    notification = get_notification(user_id, token)
    if notification is None:
        raise NotFound("That notification does not exist.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user_id: int) -> int:
    """Every unread notification of the user is read now; returns how many were unread."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _lock(user_id: int, dedupe_key: str) -> Notification:
    # FOR UPDATE waits for a concurrent sender to commit, then sees its emailed_at.
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.dedupe_key == dedupe_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).one()


def _send(
    notification: Notification,
    to: str,
    message: Message,
    attachments: Sequence[mail.Attachment] = (),
) -> None:
    email = mail.build_email(
        to,
        message.subject,
        message.text,
        message.html,
        message_id=_message_id(notification),
        attachments=attachments,
    )
    mail.send_email(email)
    notification.emailed_at = utcnow()
    db.session.flush()


def _message_id(notification: Notification) -> str:
    """The same Message-ID on every attempt for one notification, so duplicates can collapse."""
    digest = hashlib.sha256(
        f"{notification.user_id}:{notification.dedupe_key}".encode()
    ).hexdigest()[:32]
    return f"<notification.{digest}@{mail.sender_domain()}>"
