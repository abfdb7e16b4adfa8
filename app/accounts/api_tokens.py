"""API access tokens: short-lived HS256 JWTs naming the user and the login session they belong to.

A token's `sid` is a row of login_sessions, the same table as browser sign-ins. Ending that
login (logout, "log out everywhere", a password change, deactivation: every path that calls
sessions.revoke_user_sessions) therefore ends its access tokens at once, not at their expiry:
each request checks the login is live, one primary-key read joined to the user it loads anyway.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.models import LoginSession, User
from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db

ISSUER = "coursefront"
ALGORITHM = "HS256"


class TokenInvalid(DomainError):
    """Seed 000's authentication failure; the message is the seed's, whatever the cause."""

    code = "AUTH_001"
    status = 401

    def __init__(self, message: str = "Invalid or expired token") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime


def _key() -> bytes:
    # Derived, so a JWT key is never the cookie-signing key itself.
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"coursefront.api.jwt", hashlib.sha256).digest()


def access_lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config["API_ACCESS_TOKEN_MINUTES"]))


def issue_access_token(user: User, login: LoginSession, now: datetime | None = None) -> AccessToken:
    issued = now or utcnow()
    expires = issued + access_lifetime()
    claims = {
        "iss": ISSUER,
        "sub": str(user.id),
        "sid": login.id,
        "role": user.role.value,
        "typ": "access",
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    import jwt  # on first use: PyJWT loads `cryptography` (8 MB a web worker) for other algorithms

    return AccessToken(jwt.encode(claims, _key(), algorithm=ALGORITHM), expires)


def access_claims(token: str) -> dict[str, object]:
    """The verified claims of an access token, or TokenInvalid (bad signature, expired, other
    issuer or kind, missing claims)."""
    import jwt

    try:
        claims: dict[str, object] = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss"]},
        )
    except jwt.PyJWTError:
        raise TokenInvalid() from None
    if claims.get("typ") != "access" or not isinstance(claims.get("sid"), int):
        raise TokenInvalid()
    return claims


def user_for_access_token(token: str) -> User:
    """The active user of a valid access token whose login is still live."""
    claims = access_claims(token)
    try:
        user_id = int(str(claims["sub"]))
    except ValueError:
        raise TokenInvalid() from None
    row = db.session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.id == claims["sid"])
    ).first()
    if row is None:
        raise TokenInvalid()
    user, login = row
    if not user.active or login.revoked_at is not None or login.expires_at <= utcnow():
        raise TokenInvalid()
    user.attach_login(login, "")
    return user


def login_id_of(token: str) -> int | None:
    """The login a token names, verified but not looked up (rate-limit keys)."""
    try:
        sid = access_claims(token)["sid"]
    except TokenInvalid:
        return None
    return sid if isinstance(sid, int) else None
