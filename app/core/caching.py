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
    urls = current_app.url_map.bind_to_environ(request.environ)
    return urls.test(request.path, method="POST")
