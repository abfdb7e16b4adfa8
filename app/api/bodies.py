"""Request bodies of the JSON API: one JSON object whose fields are checked for type and size.

Deliberately small (four endpoints read a handful of fields); the edge validation in
app/core/validation.py has already refused control characters, bad JSON and deep nesting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request

from app.core.errors import DomainError

MAX_TEXT = 200
MAX_PRODUCTS = 50


class BodyNotJson(DomainError):
    """The body is not a JSON object (or not sent as JSON): 400."""

    code = "invalid_json"
    status = 400


class InvalidField(DomainError):
    """A field of the right body has the wrong type, size or value: 422, naming the field."""

    code = "invalid_field"
    status = 422


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


def text(
    body: Mapping[str, Any], name: str, *, required: bool = False, max_length: int = MAX_TEXT
) -> str:
    """A string field ("" when absent and not required)."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidField(f"{name} is required.", field=name)
        return ""
    if not isinstance(value, str):
        raise InvalidField(f"{name} must be a string.", field=name)
    if len(value) > max_length:
        raise InvalidField(f"{name} must be at most {max_length} characters.", field=name)
    return value


def objects(body: Mapping[str, Any], name: str, max_items: int = MAX_PRODUCTS) -> list[Any]:
    """A list-of-objects field ([] when absent)."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidField(f"{name} must be a list of objects.", field=name)
    if len(value) > max_items:
        raise InvalidField(f"{name} may hold at most {max_items} items.", field=name)
    return value


def choice(body: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    """A string field that must be one of `allowed` (compared in upper case)."""
    value = text(body, name, max_length=20).upper() or default
    if value not in allowed:
        raise InvalidField(f"{name} must be one of {', '.join(allowed)}.", field=name)
    return value
