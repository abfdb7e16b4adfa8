"""Absolute URLs, in a request or not (jobs build links for emails and providers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    """On PUBLIC_URL when it is set, else on the current request's host (or localhost)."""
    base: str = current_app.config.get("PUBLIC_URL", "")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or f"http://127.0.0.1:{current_app.config['PORT']}")
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
