"""Jobs run inside a Flask app context: the worker's own app, or the caller's in tests."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context
from rq.job import Job

_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app


def job_app() -> Flask:
    """The app jobs of this process run in (created on first use)."""
    global _worker_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


class AppJob(Job):
    """An RQ job whose function runs in an app context and leaves no session behind."""

    def perform(self) -> Any:
        from app.extensions import db

        with job_app().app_context():
            try:
                return super().perform()
            finally:
                db.session.remove()
