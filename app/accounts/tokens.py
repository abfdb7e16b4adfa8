"""Signed links mailed to a user: password reset (1 h, single use) and email verification (48 h).

No table holds them. A link is the user id and a fingerprint, signed with SECRET_KEY and dated
by itsdangerous. A reset link's fingerprint covers the password hash and the email: setting a
new password changes the hash, so the link (and every other reset link of the user) stops
working; that is what makes it single use. A verification link names the email it was sent to:
once the address changes, links to the old one verify nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from app.accounts.models import User
from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db

RESET_SALT = "coursefront.password-reset"
VERIFY_SALT = "coursefront.email-verify"


class LinkProblem(StrEnum):
    EXPIRED = "expired"
    USED = "used"  # or superseded: the password (or email) changed since it was sent
    INVALID = "invalid"  # not made by us: tampered, truncated or for another purpose


class BadLink(DomainError):
    """A mailed link that cannot be used; `problem` says why, for the page explaining it."""

    code = "bad_link"
    status = 400

    def __init__(self, problem: LinkProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class _DatedSigner(TimestampSigner):
    """A TimestampSigner that can date a signature in the past (tests of expiry; no sleeping)."""

    def __init__(self, *args: Any, issued_at: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        if self.issued_at is None:
            return super().get_timestamp()
        return int(self.issued_at.timestamp())


@dataclass(frozen=True)
class LinkData:
    user_id: int
    check: str
    issued_at: datetime


def _serializer(salt: str, issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=salt,
        signer=_DatedSigner,
        signer_kwargs={"issued_at": issued_at},
    )


def _sign(salt: str, user_id: int, check: str, now: datetime | None) -> str:
    return str(_serializer(salt, now).dumps([user_id, check]))


def _read(salt: str, token: str, lifetime: timedelta, now: datetime | None) -> LinkData:
    """The signed payload, or BadLink(INVALID / EXPIRED); `now` is the clock (tests move it)."""
    try:
        payload, issued = _serializer(salt).loads(token, return_timestamp=True)
        user_id, check = payload
    except (BadSignature, TypeError, ValueError) as exc:
        raise BadLink(LinkProblem.INVALID, "This link is not valid.") from exc
    issued = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
    if not isinstance(user_id, int) or not isinstance(check, str):
        raise BadLink(LinkProblem.INVALID, "This link is not valid.")
    if (now or utcnow()) - issued > lifetime:
        raise BadLink(LinkProblem.EXPIRED, "This link has expired.")
    return LinkData(user_id, check, issued)


def reset_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"])


def verify_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["EMAIL_VERIFY_HOURS"])


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password (or the email) does: the reset link's single-use key."""
    material = f"{user.password_hash}\x00{user.email.lower()}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def password_reset_token(user: User, now: datetime | None = None) -> str:
    """A reset link token for the user as they are now (dated `now`, default the present)."""
    return _sign(RESET_SALT, user.id, _password_fingerprint(user), now)


def email_verify_token(user: User, now: datetime | None = None) -> str:
    """A verification token for the user's current email address."""
    return _sign(VERIFY_SALT, user.id, user.email.lower(), now)


def _user(user_id: int, *, lock: bool) -> User | None:
    return db.session.get(
        User, user_id, with_for_update=True if lock else None, populate_existing=lock
    )


def user_for_reset(token: str, now: datetime | None = None, *, lock: bool = False) -> User:
    """The active user a reset token is for, while it is fresh and unused; else BadLink.

    With `lock`, the user row stays locked until commit, so two uses of one link in parallel
    cannot both succeed: the second sees the new password hash and is refused.
    """
    data = _read(RESET_SALT, token, reset_lifetime(), now)
    user = _user(data.user_id, lock=lock)
    if user is None or not user.active:
        raise BadLink(LinkProblem.INVALID, "This link is not valid.")
    if data.check != _password_fingerprint(user):
        raise BadLink(LinkProblem.USED, "This link has already been used.")
    return user


def user_for_verification(token: str, now: datetime | None = None) -> User:
    """The user a verification token is for, while it is fresh and names their current email."""
    data = _read(VERIFY_SALT, token, verify_lifetime(), now)
    user = _user(data.user_id, lock=False)
    if user is None:
        raise BadLink(LinkProblem.INVALID, "This link is not valid.")
    if data.check != user.email.lower():
        raise BadLink(LinkProblem.USED, "This link was sent to an address you have since changed.")
    return user
