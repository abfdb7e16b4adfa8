"""Cache-Control for private responses: no cache keeps what a logged-in user or a form page saw.

Anonymous catalog pages stay cacheable even though base.html puts the visitor's CSRF token on
every page (so "the session was read" would mark them all private); Flask's Vary: Cookie keeps
one visitor's copy from another. Responses that chose their own Cache-Control (static files,
downloads) are left alone."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask.wrappers import Response


def init_caching(app: Flask) -> None:
    app.after_request(_no_store_private)


def _no_store_private(response: Response) -> Response:
    if "Cache-Control" in response.headers or (request.endpoint or "").endswith("static"):
        return response
    if _logged_in() or _is_form_page():
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


def _logged_in() -> bool:
    """Whether the response is for a signed-in user, without loading one for this check."""
    user = g.get("_login_user")  # Flask-Login's user, when this request loaded it
    if user is not None:
        return bool(user.is_authenticated)
    return "_user_id" in session  # a membership test does not mark the session accessed


def _is_form_page() -> bool:
    """A POST, or a page whose URL also takes a POST: a form with a session-bound CSRF token."""
    if request.method not in {"GET", "HEAD"}:
        return True
    # Whether a URL pattern also takes a POST is the same for every path it matches.
    pattern = request.url_rule.rule if request.url_rule is not None else None
    known: dict[str, bool] = current_app.extensions.setdefault("form_patterns", {})
    if pattern is not None and pattern in known:
        return known[pattern]
    takes_post = current_app.url_map.bind_to_environ(request.environ).test(
        request.path, method="POST"
    )
    if pattern is not None:
        known[pattern] = takes_post
    return takes_post
