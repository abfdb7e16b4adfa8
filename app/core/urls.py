"""Absolute URLs, in a request or not (jobs build links for emails and providers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for


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


# Built URLs by (script root, endpoint, arguments): a page builds about twenty, mostly the same
# ones on every request (static files, navigation). Bounded, least recently used out first:
# query arguments come from visitors, and one course's links (a page each of thousands) are
# rarely asked for twice in a row; 4,000 of them held ~1 MB a worker for little gain.
MAX_BUILT_URLS = 512
_built: dict[tuple[Any, ...], str] = {}


def template_url_for(endpoint: str, **values: Any) -> str:
    """url_for for templates, remembering what it built; external URLs and anything with an
    unhashable argument are built each time."""
    if not has_request_context() or any(key.startswith("_") for key in values):
        return url_for(endpoint, **values)
    try:
        key = (request.script_root, endpoint, *sorted(values.items()))
        url = _built.pop(key)
    except KeyError:
        pass
    except TypeError:  # an unhashable argument (a list of values)
        return url_for(endpoint, **values)
    else:
        _built[key] = url  # now the most recently used: the last to go
        return url
    url = url_for(endpoint, **values)
    oldest = next(iter(_built)) if len(_built) >= MAX_BUILT_URLS else None
    if oldest is not None:
        _built.pop(oldest, None)  # another thread may have taken it already
    _built[key] = url
    return url
