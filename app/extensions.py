"""Flask extensions, created unbound and bound in create_app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from redis import Redis

from app.core.models import Base


class OutageTolerantLimiter(Limiter):
    """Flask-Limiter that never turns a Redis outage into a 500.

    With RATELIMIT_IN_MEMORY_FALLBACK_ENABLED, the first request that finds the storage
    unreachable logs a warning and every limit is then counted in this process's memory until
    a periodic check finds Redis again; RATELIMIT_SWALLOW_ERRORS logs anything left.
    """

    def init_app(self, app: Flask) -> None:
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_timeouts(app.config))
        super().init_app(app)
        self._storage_dead = False  # a (re)bound storage starts out presumed alive

    @property
    def storage_unavailable(self) -> bool:
        """True while limits are counted in memory because the storage is unreachable."""
        return bool(self._storage_dead)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
limiter = OutageTolerantLimiter(key_func=get_remote_address)


def limits_storage_down() -> bool:
    """For `exempt_when=`: a route whose limit is dropped (fail open) while Redis is down."""
    return limiter.storage_unavailable


def limits_storage_uri(redis_url: str) -> str:
    """Flask-Limiter spells a unix-socket Redis URL differently from redis-py."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def redis_timeouts(config: Mapping[str, Any]) -> dict[str, float]:
    """Socket timeouts for a Redis client: a dead or frozen Redis costs about a second."""
    return {
        "socket_connect_timeout": float(config.get("REDIS_SOCKET_CONNECT_TIMEOUT", 1.0)),
        "socket_timeout": float(config.get("REDIS_SOCKET_TIMEOUT", 1.0)),
    }


def redis_client(config: Mapping[str, Any], **overrides: Any) -> Redis:
    """A Redis client for REDIS_URL with our timeouts (every client we build comes from here)."""
    options: dict[str, Any] = {**redis_timeouts(config), **overrides}
    return Redis.from_url(config["REDIS_URL"], **options)


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = redis_client(app.config)


def get_redis() -> Redis:
    """The Redis client of the current app (queues, cache, limits)."""
    client: Redis = current_app.extensions["redis"]
    return client
