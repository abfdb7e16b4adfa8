"""One route serves a page and its HTMX fragment."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template
from flask.wrappers import Response
from htmx_flask import request


def wants_partial() -> bool:
    """A plain HTMX swap gets the fragment; boosted and history-restore requests need the page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(page: str, partial: str, status: int = 200, **context: Any) -> Response:
    """Render the partial for an HTMX request and the whole page otherwise."""
    template = partial if wants_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(location: str) -> Response:
    """Redirect a plain request with 303, and an HTMX one with HX-Redirect (a full page load)."""
    if request.htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", 303)
    response.headers["Location"] = location
    return response
