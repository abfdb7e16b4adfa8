"""The JSON API's request body: one JSON object (app.api.spec validates its fields).

The edge validation in app/core/validation.py has already refused control characters, bad
JSON and deep nesting.
"""

from __future__ import annotations

from typing import Any

from flask import request

from app.core.errors import DomainError


class BodyNotJson(DomainError):
    """The body is not a JSON object (or not sent as JSON): 400."""

    code = "invalid_json"
    status = 400


def json_object() -> dict[str, Any]:
    """The body as a JSON object; no body at all counts as `{}` (every field is then absent)."""
    if not request.is_json:
        if request.content_length or request.get_data(cache=True):
            raise BodyNotJson("Send a JSON object with Content-Type: application/json.")
        return {}
    if not request.get_data(cache=True).strip():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BodyNotJson("The request body must be a JSON object.")
    return data
