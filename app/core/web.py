"""App-wide web plumbing: security headers, error pages, template helpers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask.wrappers import Response
from flask_wtf.csrf import CSRFError
from jinja2 import FileSystemBytecodeCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException

from app.core.caching import init_caching
from app.core.compression import init_compression
from app.core.cookies import CookieSessionInterface
from app.core.errors import DomainError, api_error, json_error
from app.core.htmx import render, wants_partial
from app.core.money import Money
from app.core.readonly import init_read_only
from app.core.static import init_static
from app.core.urls import template_url_for
from app.core.validation import init_validation
from app.core.visitor import visitor_currency, visitor_locale
from app.extensions import db

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; "  # hls.js feeds the <video> element from a blob: MediaSource
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def wants_json() -> bool:
    """API paths, and clients that prefer JSON to HTML (htmx sends */*: it wants HTML)."""
    if request.path.startswith("/api/"):
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


ERROR_TEXT = {
    400: ("Bad request", "We couldn't understand that request."),
    403: ("Not allowed", "You don't have access to this page."),
    404: ("Page not found", "We couldn't find that page. It may have moved or never existed."),
    405: ("Not allowed", "That action isn't available here."),
    413: ("Too large", "That request is larger than we accept."),
    429: ("Slow down", "Too many attempts in a short time. Please wait a moment and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. Please try again."),
    503: (
        "Back in a minute",
        "This part of the shop is briefly unavailable. Try again in a minute.",
    ),
}


def is_api_path() -> bool:
    return request.path.startswith(("/api/", "/internal/"))


def error_response(
    status: int,
    message: str | None = None,
    code: str = "",
    field: str | None = None,
    **extra: object,
) -> Response:
    title, default = ERROR_TEXT.get(status, ERROR_TEXT[500])
    text = message or default
    if is_api_path():
        return api_error(code or title.lower().replace(" ", "_"), text, status, field, **extra)
    if wants_json():
        return json_error(code or title.lower().replace(" ", "_"), text, status)
    response = render(
        "errors/error.html",
        "errors/partials/error.html",
        status,
        status_code=status,
        title=title,
        message=text,
    )
    if wants_partial():
        # Shown in the page's error slot (base.html): the trigger's own target stays as it was.
        response.headers["HX-Retarget"] = "#error"
        response.headers["HX-Reswap"] = "outerHTML"
    if status == 429:
        response.headers.setdefault("Retry-After", "60")
    return response


def init_web(app: Flask) -> None:
    init_compression(app)  # first registered, so it runs after the hooks that change bodies
    init_static(app)
    init_caching(app)
    init_validation(app)
    init_read_only(app)
    app.session_interface = CookieSessionInterface()
    app.config.setdefault("CSP", content_security_policy(app.config.get("MEDIA_ORIGIN", "")))
    app.after_request(_security_headers)
    _register_error_handlers(app)
    _register_template_helpers(app)


def content_security_policy(media_origin: str) -> str:
    """The CSP, letting the browser reach the media bucket when media lives in S3: parts are
    PUT there by the uploader, segments and thumbnails are read from there by the player."""
    if not media_origin:
        return CSP
    policy = CSP
    for directive in ("img-src 'self'", "media-src 'self'", "connect-src 'self'"):
        policy = policy.replace(directive, f"{directive} {media_origin}", 1)
    return policy


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CSP"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["APP_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _csrf_failed(_err: CSRFError) -> Response:
    return error_response(
        400,
        "Your form expired or was sent from elsewhere. Reload the page and try again.",
        "csrf_failed",
    )


def _redis_down(err: RedisError) -> Response:
    # Only what truly needs Redis gets here; the rest degrades (cache miss, in-memory limits).
    current_app.logger.warning("event=redis_unavailable path=%s error=%r", request.path, err)
    response = error_response(503, None, "service_unavailable", retryAfter=60)
    response.headers["Retry-After"] = "60"
    return response


def _domain_error(err: DomainError) -> Response:
    return error_response(err.status, err.message, err.code, err.field, **err.details())


def _data_error(err: DataError) -> Response:
    # Defence in depth: the edge validation should have refused this input already.
    db.session.rollback()
    log.warning("event=data_error path=%s error=%s", request.path, str(err.orig)[:200])
    return error_response(400, "Some of what you sent cannot be stored.", "bad_input")


def _database_error(err: DBAPIError) -> Response:
    # No pre-ping on checkout (a round trip per request): a connection PostgreSQL dropped
    # (restart, failover) fails one request, and SQLAlchemy discards the pool it came from.
    if not err.connection_invalidated:
        raise err
    db.session.rollback()
    log.warning("event=database_connection_lost path=%s", request.path)
    response = error_response(
        503, "We lost the database connection. Please try again.", retryAfter=1
    )
    response.headers["Retry-After"] = "1"
    return response


def _http_error(err: HTTPException) -> Response | HTTPException:
    if err.code is None or err.code < 400:
        return err
    return error_response(err.code, None)


def _register_error_handlers(app: Flask) -> None:
    """Every error answers HTML, an HTMX fragment or JSON, in one shape (error_response)."""
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(RedisConnectionError, _redis_down)
    app.register_error_handler(RedisTimeoutError, _redis_down)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(HTTPException, _http_error)


def _template_context() -> dict[str, Any]:
    if not has_request_context():  # emails rendered by jobs
        return {"site_name": current_app.config["SITE_NAME"]}
    return {
        "current_currency": visitor_currency(),
        "supported_currencies": current_app.config["SUPPORTED_CURRENCIES"],
        "site_name": current_app.config["SITE_NAME"],
        "is_partial": wants_partial(),
        "here": request.full_path.rstrip("?"),
    }


def money_filter(value: Money | None, free_label: str = "Free") -> str:
    """A price in the visitor's locale; zero reads as the free label when there is one."""
    if value is None:
        return ""
    if value.is_zero and free_label:
        return free_label
    return value.format(visitor_locale() if has_request_context() else "en_US")


def money_of_filter(currency: str, amount: int, free_label: str = "") -> str:
    return money_filter(Money(int(amount), currency), free_label)


def duration_filter(seconds: int | None) -> str:
    """A total length: 2h 05m, 27m, under 1m."""
    minutes = round(int(seconds or 0) / 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else "under 1m"


def clock_filter(seconds: int | None) -> str:
    """A lecture length: 1:02:05 or 12:05."""
    minutes, secs = divmod(int(seconds or 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def _use_template_bytecode_cache(app: Flask) -> None:
    """Compiled templates kept in the instance folder (keyed by each template's checksum, written
    atomically): a worker then loads them instead of compiling every template it renders, which
    leaves ~1 MB less in each web worker. A read-only instance folder compiles as before."""
    folder = Path(app.instance_path) / "template-cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        log.warning("event=template_cache_unavailable folder=%s", folder)
        return
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))


def counted_filter(count: int, noun: str) -> str:
    """`{{ n | counted("lecture") }}`: "1 lecture", "12 lectures"."""
    return f"{count} {noun if count == 1 else noun + 's'}"


def _register_template_helpers(app: Flask) -> None:
    _use_template_bytecode_cache(app)
    app.context_processor(_template_context)
    app.add_template_global(template_url_for, "url_for")
    app.add_template_filter(money_filter, "money")
    app.add_template_filter(money_of_filter, "money_of")
    app.add_template_filter(lambda pairs: dict(pairs), "items_to_dict")
    app.add_template_filter(duration_filter, "duration")
    app.add_template_filter(clock_filter, "clock")
    app.add_template_filter(counted_filter, "counted")
    app.add_template_global(_has_endpoint, "has_endpoint")
