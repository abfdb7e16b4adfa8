"""Seed 000's service-to-service authentication for /internal/...: every call carries

    x-service-api-key  SERVICE_API_KEY (compared in constant time)
    x-service-id       one of SERVICE_IDS
    x-timestamp        unix seconds, within SERVICE_SIGNATURE_WINDOW of our clock, either side
    x-signature        hex HMAC-SHA256, keyed with SERVICE_SECRET_KEY, of
                       f"{serviceId}:{timestamp}:{body}"

where `body` is the raw request body exactly as sent (what the caller's JSON.stringify produced):
we sign the bytes received, never a re-serialisation, which could order keys or escape text
differently. A signature is accepted once: it is remembered in Redis (SET NX) for as long as
its timestamp can still pass the window check, so a replayed request is refused; while Redis is
unreachable every call is refused (503) rather than accepted unverifiably.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from redis import Redis
from redis.exceptions import RedisError

from app.accounts.models import Role, User
from app.api.spec import Auth, set_authenticator
from app.core.errors import DomainError
from app.extensions import get_redis

API_KEY_HEADER = "x-service-api-key"
SERVICE_ID_HEADER = "x-service-id"
TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_HEADER = "x-signature"
RETRY_AFTER_S = 30
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
REPLAY_PREFIX = "service-signature:"


class ServiceAuthFailed(DomainError):
    """A service call that fails a check: 401, the message says which header failed."""

    code = "SERVICE_AUTH"
    status = 401


class ServiceAuthUnavailable(DomainError):
    """Calls cannot be verified now (not configured, or Redis down): 503 with retryAfter."""

    code = "SERVICE_UNAVAILABLE"
    status = 503

    def details(self) -> dict[str, object]:
        return {"service": "internal-auth", "retryAfter": RETRY_AFTER_S}


@dataclass(frozen=True)
class ServiceCall:
    """Who called, once verified."""

    service_id: str
    timestamp: int


def sign(secret: str, service_id: str, timestamp: int | str, body: bytes) -> str:
    """The signature a caller sends: hex HMAC-SHA256 of `serviceId:timestamp:` + the body."""
    message = f"{service_id}:{timestamp}:".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _check_timestamp(raw: str, window: int, now: float) -> int:
    if not _UNIX_SECONDS.fullmatch(raw):
        raise ServiceAuthFailed(f"{TIMESTAMP_HEADER} must be unix time in whole seconds.")
    stamp = int(raw)
    if stamp < now - window:
        raise ServiceAuthFailed(f"{TIMESTAMP_HEADER} is older than {window} s: sign again.")
    if stamp > now + window:
        raise ServiceAuthFailed(f"{TIMESTAMP_HEADER} is more than {window} s in the future.")
    return stamp


def verify_service_call(
    headers: Mapping[str, str], body: bytes, config: Mapping[str, Any], redis: Redis, now: float
) -> ServiceCall:
    """The verified caller, or ServiceAuthFailed naming the failed check (in the order: key,
    service, timestamp, signature, replay; only a genuine signature is remembered).
    `headers` are keyed in lower case."""
    secret, api_key = str(config["SERVICE_SECRET_KEY"]), str(config["SERVICE_API_KEY"])
    if not secret or not api_key:
        raise ServiceAuthUnavailable("Service-to-service calls are not configured here.")
    given_key = headers.get(API_KEY_HEADER, "")
    if not given_key or not _same(given_key, api_key):
        raise ServiceAuthFailed(f"{API_KEY_HEADER} is missing or wrong.")
    service_id = headers.get(SERVICE_ID_HEADER, "")
    if service_id not in tuple(config["SERVICE_IDS"]):
        raise ServiceAuthFailed(f"{SERVICE_ID_HEADER} is not a known service.")
    window = int(config["SERVICE_SIGNATURE_WINDOW"])
    stamp = _check_timestamp(headers.get(TIMESTAMP_HEADER, "").strip(), window, now)
    given = headers.get(SIGNATURE_HEADER, "").strip()
    expected = sign(secret, service_id, stamp, body)
    if not _HEX_SHA256.fullmatch(given) or not _same(given.lower(), expected):
        raise ServiceAuthFailed(
            f"{SIGNATURE_HEADER} does not match: sign serviceId:timestamp:body, the body "
            "exactly as sent."
        )
    _refuse_replay(redis, expected, window)
    return ServiceCall(service_id, stamp)


def _refuse_replay(redis: Redis, signature: str, window: int) -> None:
    # A timestamp up to `window` ahead stays acceptable until `window` after it: remembering
    # each signature for twice the window covers every moment it could pass the clock check.
    try:
        fresh = redis.set(REPLAY_PREFIX + signature, b"1", nx=True, ex=2 * window)
    except RedisError as err:
        current_app.logger.warning("event=service_auth_redis_down error=%r", err)
        raise ServiceAuthUnavailable("Service calls cannot be checked for replays now.") from err
    if not fresh:
        raise ServiceAuthFailed(f"{SIGNATURE_HEADER} was already used: this is a replay.")


def authenticate_service(_kind: Auth, _roles: tuple[Role, ...]) -> User | None:
    """The "internal" authenticator: verifies the request, keeps the caller on `g`."""
    call = verify_service_call(
        {name.lower(): value for name, value in request.headers.items()},
        request.get_data(cache=True),
        current_app.config,
        get_redis(),
        time.time(),
    )
    g.service_call = call
    return None


def current_service() -> ServiceCall:
    """The verified caller of this request (set by authenticate_service)."""
    call: ServiceCall = g.service_call
    return call


set_authenticator("internal", authenticate_service)
