"""CORS for the JSON API, by the allow-list API_CORS_ORIGINS (a tuple of origins).

Only the API's paths (/api/v1 and the seeds' alias prefixes, app/api/aliases.py) get CORS
headers, and only for an origin on the list: any other origin, and every page, /internal and
/webhooks path, gets none, so the browser keeps its same-origin rule. Credentials are never
allowed: an app sends its token in the Authorization header, and a cross-site request must not
ride on the browser's session cookie (the "optional" endpoints also accept that cookie).

A small after_request instead of Flask-Cors: the rules above are the whole of it.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask.wrappers import Response

from app.api.aliases import SEED_PREFIXES

ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
EXPOSED_HEADERS = "Retry-After, X-Request-ID"
PREFLIGHT_MAX_AGE = "600"  # seconds a browser may reuse a preflight answer


def cors_prefixes() -> tuple[str, ...]:
    return ("/api/v1/", *dict.fromkeys(row.seed + "/" for row in SEED_PREFIXES))


def _normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def allowed_origin(origin: str | None) -> bool:
    if not origin or origin == "null":  # sandboxed frames and file:// pages send "null"
        return False
    allowed = {_normalise(o) for o in current_app.config.get("API_CORS_ORIGINS", ())}
    return _normalise(origin) in allowed


def _cors_headers(response: Response) -> Response:
    if not request.path.startswith(cors_prefixes()):
        return response
    response.vary.add("Origin")  # the answer differs per origin: caches must keep them apart
    origin = request.headers.get("Origin")
    if not allowed_origin(origin):
        return response
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = origin or ""
    preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    if preflight:
        if response.status_code >= 400:  # no such route: the preflight fails, as it should
            del headers["Access-Control-Allow-Origin"]
            return response
        methods = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
        headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    else:
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def init_cors(app: Flask) -> None:
    """Call once in create_app (any order: after_request hooks see every response)."""
    app.after_request(_cors_headers)
