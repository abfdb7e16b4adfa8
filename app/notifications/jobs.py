"""Account emails (password reset, email verification), sent by the worker, never in a request.

The link is signed when the job runs, from the user as they are then: a retried job mails a
fresh link, and a link never waits in Redis.
"""

from __future__ import annotations

import logging

from flask import render_template
from rq import Retry

from app.accounts import tokens
from app.accounts.models import User
from app.accounts.queries import get_user, get_user_by_email
from app.core.urls import absolute_url
from app.notifications import mail

log = logging.getLogger(__name__)

# The retry policy of notification jobs: 3 more tries, 2 s, 4 s and 8 s apart.
NOTIFY_RETRY = Retry(max=3, interval=[2, 4, 8])


def _send_account_email(user: User, name: str, link: str, hours: int) -> None:
    """templates/accounts/email/<name>.{subject.txt,txt,html}, rendered and sent to the user."""
    context = {"user": user, "link": link, "hours": hours}
    subject = render_template(f"accounts/email/{name}.subject.txt", **context).strip()
    message = mail.build_email(
        user.email,
        subject,
        render_template(f"accounts/email/{name}.txt", **context),
        render_template(f"accounts/email/{name}.html", **context),
    )
    mail.send_email(message)


def send_password_reset(email: str) -> None:
    """Mail a reset link when an active account has this email; nothing otherwise.

    The request enqueues this for every address asked about, known or not, so the answer and
    the work done in the request are the same either way.
    """
    user = get_user_by_email(email)
    if user is None or not user.active:
        log.info("event=password_reset_skipped reason=no_active_account")
        return
    token = tokens.password_reset_token(user)
    link = absolute_url("accounts.reset_password", token=token)
    hours = int(tokens.reset_lifetime().total_seconds() // 3600)
    _send_account_email(user, "password_reset", link, hours)
    log.info("event=password_reset_sent user_id=%s", user.id)


def send_email_verification(user_id: int) -> None:
    """Mail a verification link for the user's current address, unless it is verified already."""
    user = get_user(user_id)
    if user is None or user.email_verified_at is not None:
        return
    token = tokens.email_verify_token(user)
    link = absolute_url("accounts.verify_email", token=token)
    hours = int(tokens.verify_lifetime().total_seconds() // 3600)
    _send_account_email(user, "email_verify", link, hours)
    log.info("event=email_verification_sent user_id=%s", user.id)
