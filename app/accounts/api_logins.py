"""API sign-ins: a login_sessions row (kind "api", the "family") with opaque refresh tokens.

An app signs in once and gets a short-lived access token (app/accounts/api_tokens.py, naming
the login as `sid`) and a refresh token. Each refresh token is good once: presenting it marks
it used and hands out the next one of the same family, with a new access token. Presenting a
used one again means two parties hold the family's tokens (one of them stole it): the whole
login ends, its access tokens with it, and both must sign in again.

The login's own token hash is random and never handed out, so no cookie can name an API login;
everything that ends logins (logout, "log out everywhere", a password change or reset,
deactivation: sessions.revoke_user_sessions) therefore ends API logins too, refresh tokens
included, because a refresh checks that its login is live.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.accounts.api_tokens import AccessToken, issue_access_token
from app.accounts.models import LOGIN_API, LoginSession, RefreshToken, User
from app.accounts.sessions import revoke_login_session, summarise_user_agent
from app.core.models import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

MAX_REFRESH_TOKEN = 100  # token_urlsafe(32) is 43 characters; anything much longer is not ours


@dataclass(frozen=True)
class IssuedTokens:
    """What a sign-in or a refresh hands the app."""

    user: User
    login: LoginSession
    access: AccessToken
    refresh_token: str
    refresh_expires_at: datetime


def refresh_lifetime() -> timedelta:
    return timedelta(days=int(current_app.config["API_REFRESH_TOKEN_DAYS"]))


def _hash(token: str) -> str:
    return LoginSession.hash_token(token)


def _issue(user: User, login: LoginSession, now: datetime) -> IssuedTokens:
    """A new refresh token in the login's family; the login lives as long as it does."""
    token = secrets.token_urlsafe(32)
    expires = now + refresh_lifetime()
    db.session.add(
        RefreshToken(login_id=login.id, token_hash=_hash(token), created_at=now, expires_at=expires)
    )
    login.expires_at = expires
    login.last_seen_at = now
    user.attach_login(login, "")
    return IssuedTokens(user, login, issue_access_token(user, login, now), token, expires)


def start_api_login(user: User, user_agent: str, now: datetime | None = None) -> IssuedTokens:
    """A new API login (family) for an authenticated user, with its first tokens."""
    now = now or utcnow()
    login = LoginSession(
        token_hash=_hash(secrets.token_urlsafe(32)),  # never handed out: no cookie names it
        user_id=user.id,
        remember=True,  # its expiry is the refresh token's, not moved by activity
        kind=LOGIN_API,
        user_agent=summarise_user_agent(user_agent),
        created_at=now,
        last_seen_at=now,
        expires_at=now + refresh_lifetime(),
    )
    db.session.add(login)
    db.session.flush()
    return _issue(user, login, now)


def rotate_refresh_token(token: str, now: datetime | None = None) -> IssuedTokens | None:
    """Spend a refresh token for the family's next tokens; None when refused (unknown, expired,
    its login ended, its user deactivated, or already used). Reuse ends the whole login here,
    so the caller commits before answering 401."""
    now = now or utcnow()
    if not token or len(token) > MAX_REFRESH_TOKEN:
        return None
    # Locked: of two concurrent refreshes with one token, the second waits and sees it used.
    row = db.session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == _hash(token)).with_for_update()
    ).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    if row.used_at is not None:
        log.warning("event=refresh_token_reuse login_id=%s", row.login_id)
        revoke_login_session(row.login_id)
        return None
    found = db.session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.id == row.login_id)
    ).one()
    user, login = found
    if not user.active or login.revoked_at is not None or login.expires_at <= now:
        return None
    row.used_at = now
    # Expired tokens can no longer be refused as reuse rather than as unknown: no need to keep.
    db.session.execute(
        delete(RefreshToken).where(
            RefreshToken.login_id == login.id, RefreshToken.expires_at <= now
        )
    )
    return _issue(user, login, now)


def end_api_login(user: User, refresh_token: str | None = None) -> None:
    """Log out: the login of the caller's access token ends, and the family of the refresh
    token sent with it (when it is the same user's)."""
    if user.login is not None:
        revoke_login_session(user.login.id)
    if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN:
        return
    login_id = db.session.scalar(
        select(RefreshToken.login_id)
        .join(LoginSession, LoginSession.id == RefreshToken.login_id)
        .where(RefreshToken.token_hash == _hash(refresh_token), LoginSession.user_id == user.id)
    )
    if login_id is not None:
        revoke_login_session(login_id)
