"""Absolute URLs, in a request or not (jobs build links for emails and providers)."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    """PUBLIC_URL + path when PUBLIC_URL is set, else the current request's host."""
    base: str = current_app.config.get("PUBLIC_URL", "")
    if base:
        return base + url_for(endpoint, **values)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return f"http://127.0.0.1:{current_app.config['PORT']}" + url_for(endpoint, **values)
