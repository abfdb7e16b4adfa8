"""Who calls the API: a bearer access token (app/accounts/api_tokens.py), checked per request;
"optional" endpoints (the cart's) also accept the browser's signed-in session, as seed 002's
cart pages do. Rate limits are keyed by the token's login when there is one, else the address."""

from __future__ import annotations

from flask import request
from flask_limiter.util import get_remote_address

from app.accounts.access import viewer
from app.accounts.api_tokens import TokenInvalid, login_id_of, user_for_access_token
from app.accounts.models import Role, User
from app.api.spec import Auth, require_role, set_authenticator


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(kind: Auth, roles: tuple[Role, ...]) -> User | None:
    token = bearer_token()
    if token is None:
        if kind == "optional":
            return viewer()
        raise TokenInvalid()
    user = user_for_access_token(token)
    require_role(user, roles)
    return user


def rate_key() -> str:
    """The caller's login for a valid token (each app install has its own budget), else IP."""
    token = bearer_token()
    login = login_id_of(token) if token else None
    return f"api-login:{login}" if login is not None else f"api-ip:{get_remote_address()}"


set_authenticator("bearer", authenticate)
set_authenticator("optional", authenticate)
