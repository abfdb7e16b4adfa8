"""Account emails (password reset, email verification), sent by the worker, never in a request.

The link is signed when the job runs, from the user as they are then: a retried job mails a
fresh link, and a link never waits in Redis (nor in the notification row, which links to the
account page instead).
"""

from __future__ import annotations

import logging
import uuid

from app.accounts import tokens
from app.accounts.queries import get_user, get_user_by_email
from app.core.unit import committing
from app.core.urls import absolute_url
from app.notifications.models import NotificationKind
from app.notifications.services import notify

log = logging.getLogger(__name__)


def _attempt_key(kind: NotificationKind) -> str:
    """One notification per job, whatever its retries: every request for a link mails one."""
    from rq import get_current_job  # imported when a job runs: web processes skip RQ

    job = get_current_job()
    return f"{kind}:{job.id if job is not None else uuid.uuid4()}"


def send_password_reset(email: str) -> None:
    """Mail a reset link when an active account has this email; nothing otherwise.

    The request enqueues this for every address asked about, known or not, so the answer and
    the work done in the request are the same either way.
    """
    user = get_user_by_email(email)
    if user is None or not user.active:
        log.info("event=password_reset_skipped reason=no_active_account")
        return
    with committing():
        notify(
            user,
            _attempt_key(NotificationKind.PASSWORD_RESET),
            NotificationKind.PASSWORD_RESET,
            link=absolute_url("accounts.profile"),
            action_url=absolute_url(
                "accounts.reset_password", token=tokens.password_reset_token(user)
            ),
            hours=int(tokens.reset_lifetime().total_seconds() // 3600),
        )
    log.info("event=password_reset_sent user_id=%s", user.id)


def send_email_verification(user_id: int) -> None:
    """Mail a verification link for the user's current address, unless it is verified already."""
    user = get_user(user_id)
    if user is None or user.email_verified_at is not None:
        return
    with committing():
        notify(
            user,
            _attempt_key(NotificationKind.EMAIL_VERIFY),
            NotificationKind.EMAIL_VERIFY,
            link=absolute_url("accounts.profile"),
            action_url=absolute_url("accounts.verify_email", token=tokens.email_verify_token(user)),
            hours=int(tokens.verify_lifetime().total_seconds() // 3600),
        )
    log.info("event=email_verification_sent user_id=%s", user.id)
