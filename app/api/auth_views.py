"""Token login for apps (issue 14, seed 000 flow 1): register, login, refresh with rotation,
logout, me. The rules are the pages' (accounts.services); the tokens are app/accounts/
api_logins.py's.

    POST /api/v1/auth/register  {email, password, firstName, lastName}  -> 201 tokens
    POST /api/v1/auth/login     {email, password}       -> {token, refreshToken, user, ...}
    POST /api/v1/auth/refresh   {refreshToken}          -> the family's next tokens
    POST /api/v1/auth/logout    {refreshToken?}         (bearer) ends the login
    GET  /api/v1/auth/me                                (bearer) the user

Also here, because it concerns who calls: the whole API's per-token rate limit, and the 429
body in the API's error shape with `retryAfter`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.wrappers import Response
from flask_limiter.errors import RateLimitExceeded
from pydantic import Field

from app.accounts import services
from app.accounts.api_logins import (
    MAX_REFRESH_TOKEN,
    IssuedTokens,
    end_api_login,
    rotate_refresh_token,
    start_api_login,
)
from app.accounts.api_tokens import TokenInvalid, access_lifetime
from app.accounts.lockout import retry_after
from app.accounts.models import User
from app.accounts.passwords import MAX_LENGTH as MAX_PASSWORD
from app.accounts.queries import normalise_email
from app.api import bp
from app.api.auth import rate_key
from app.api.spec import Body, Reply, ok
from app.api.spec import operation as op
from app.core.errors import DomainError
from app.core.unit import committing
from app.core.web import error_response, is_api_path
from app.extensions import limiter
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.notifications.jobs import send_email_verification

TAG = "auth"

# One budget per API login (each app install) across every /api/v1 route, else per address.
# Shared: the budget is the API's, not each route's. Routes with limits of their own keep this
# one only with override_defaults=False (Flask-Limiter drops blueprint limits otherwise).
api_limit = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=rate_key
)
api_limit(bp)


class EmailInUse(DomainError):
    """services.EmailTaken as the API answers it: a conflict (409), not a validation error."""

    code = "email_taken"
    status = 409


class RegisterBody(Body):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    firstName: str = Field(min_length=1, max_length=60)  # the seed's name
    lastName: str = Field(default="", max_length=59)  # users.name holds 120


class LoginBody(Body):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class RefreshBody(Body):
    refreshToken: str = Field(min_length=1, max_length=MAX_REFRESH_TOKEN)


class LogoutBody(Body):
    refreshToken: str | None = Field(default=None, max_length=MAX_REFRESH_TOKEN)


class UserReply(Reply):
    id: int
    email: str
    firstName: str
    lastName: str
    name: str
    role: str
    emailVerified: bool


class TokensReply(Reply):
    """Also at the top level of the body, as seed 000's `jq -r '.token'` reads it."""

    token: str
    refreshToken: str
    tokenType: str
    expiresIn: int  # seconds the access token lives
    refreshExpiresAt: str
    user: UserReply


class MeReply(Reply):
    user: UserReply


class LoggedOutReply(Reply):
    loggedOut: bool


def user_json(user: User) -> dict[str, Any]:
    first, _, last = user.name.partition(" ")
    return {
        "id": user.id,
        "email": user.email,
        "firstName": first,
        "lastName": last,
        "name": user.name,
        "role": user.role.value,
        "emailVerified": user.email_verified,
    }


def _tokens(issued: IssuedTokens, status: int = 200) -> Response:
    payload = {
        "token": issued.access.token,
        "refreshToken": issued.refresh_token,
        "tokenType": "Bearer",
        "expiresIn": int(access_lifetime().total_seconds()),
        "refreshExpiresAt": issued.refresh_expires_at.isoformat(),
        "user": user_json(issued.user),
    }
    return ok(payload, status, **payload)


def _account_key() -> str:
    """The email of a JSON login or sign-up, as the pages key theirs by the form's."""
    data = request.get_json(silent=True)
    email = data.get("email") if isinstance(data, dict) else None
    return "api-account:" + normalise_email(email if isinstance(email, str) else "")


def _failed_login(response: Response) -> bool:
    return response.status_code == 401


_register_limits = (
    limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT_IP"], override_defaults=False),
    limiter.limit("5 per hour", key_func=_account_key, override_defaults=False),
)
_login_limits = (
    limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], override_defaults=False),
    limiter.limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"],
        key_func=_account_key,
        deduct_when=_failed_login,  # as on the page: only failed attempts count
        override_defaults=False,
    ),
)


@op(bp, "POST", "/auth/register", summary="Create an account and sign in", tag=TAG, auth="none",
    body=RegisterBody, response=TokensReply, status=201, errors=(409, 422, 429),
    decorators=_register_limits)  # fmt: skip
def api_register(body: RegisterBody) -> Response:
    name = f"{body.firstName} {body.lastName}".strip()
    with committing():
        try:
            user = services.register_user(body.email, body.password, name)
        except services.EmailTaken as err:
            raise EmailInUse(err.message, field="email") from None
        issued = start_api_login(user, request.user_agent.string)
        enqueue_after_commit(send_email_verification, user.id, retry=NOTIFY_RETRY)
    return _tokens(issued, 201)


@op(bp, "POST", "/auth/login", summary="Sign in: an access token and a refresh token", tag=TAG,
    auth="none", body=LoginBody, response=TokensReply, errors=(401, 422, 429),
    decorators=_login_limits)  # fmt: skip
def api_login(body: LoginBody) -> Response:
    with committing():
        user = services.authenticate(body.email, body.password)
        issued = start_api_login(user, request.user_agent.string)
    return _tokens(issued)


@op(bp, "POST", "/auth/refresh", summary="Trade a refresh token for the next pair (rotation)",
    tag=TAG, auth="none", body=RefreshBody, response=TokensReply, errors=(401, 422))  # fmt: skip
def api_refresh(body: RefreshBody) -> Response:
    # Committed even when refused: a reused token has just ended its whole login.
    with committing():
        issued = rotate_refresh_token(body.refreshToken)
    if issued is None:
        raise TokenInvalid()
    return _tokens(issued)


@op(bp, "POST", "/auth/logout", summary="End this sign-in (its access and refresh tokens)",
    tag=TAG, body=LogoutBody, response=LoggedOutReply, errors=(401, 422))  # fmt: skip
def api_logout(user: User, body: LogoutBody) -> Response:
    with committing():
        end_api_login(user, body.refreshToken)
    return ok({"loggedOut": True})


@op(bp, "GET", "/auth/me", summary="The signed-in user", tag=TAG, response=MeReply,
    errors=(401,))  # fmt: skip
def api_me(user: User) -> Response:
    return ok({"user": user_json(user)})


@bp.app_errorhandler(RateLimitExceeded)
def _rate_limited(_err: RateLimitExceeded) -> Response:
    """API paths (aliases included): the one error shape with `retryAfter`; pages as before."""
    if not is_api_path():
        return error_response(429)
    seconds = retry_after()
    response = error_response(
        429, "Too many requests. Try again later.", "RATE_LIMITED", retryAfter=seconds
    )
    response.headers["Retry-After"] = str(seconds)
    return response
