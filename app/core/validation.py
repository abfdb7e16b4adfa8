"""Request validation at the edge: what PostgreSQL cannot store never reaches a view.

One before_request hook refuses NUL and other control characters in the path, headers, query
string, form fields and every string of a JSON body, JSON that is not JSON, too deep or too
big, and (outside the API) JSON that is not the flat object of strings a form reads. The `int`
URL converter stops at PostgreSQL's integer range, so a huge id is a 404, not a query error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from app.core.errors import DomainError

PG_INT_MAX = 2**31 - 1
PG_INT_MIN = -(2**31)
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024
# Path, query and headers: no control character at all (a tab or newline has no place there).
_CONTROL = re.compile(r"[\x00-\x1f]")
# Form fields and JSON strings may hold tabs and line breaks (a textarea), nothing else below 32,
# nor a lone surrogate (JSON can spell one; it cannot be encoded as UTF-8).
_FIELD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")
# Their raw body is checked by the provider's signature first, then by webhook ingestion.
RAW_BODY_ENDPOINTS = frozenset(
    {"payments.webhook", "alias.payments.webhook", "media.put_part", "api.api_put_upload"}
)
# JSON APIs of their own (numbers and lists, not form fields): the studio's uploader.
JSON_BODY_ENDPOINTS = frozenset(
    {"teaching.start_upload", "teaching.upload_parts", "teaching.confirm_upload"}
)
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class BadInput(DomainError):
    """A request no view could make sense of; answered before any view runs."""

    code = "bad_request"
    status = 400


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` within PostgreSQL's INTEGER: anything larger matches no route (404)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = PG_INT_MAX,
        signed: bool = False,
    ) -> None:
        bound = PG_INT_MAX if max is None or max > PG_INT_MAX else max
        super().__init__(map, fixed_digits, min, bound, signed)


def init_validation(app: Flask) -> None:
    """Bound `<int:...>` (call before routes are added) and check every request first."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)


def check_request() -> None:
    """Refuse the request (BadInput / PayloadTooLarge) when any part of it is malformed."""
    if _CONTROL.search(request.path):
        raise BadInput("The address contains characters that are not allowed.")
    if any(_HEADER_CONTROL.search(value) for _name, value in request.headers.items()):
        raise BadInput("A request header contains characters that are not allowed.")
    _check_pairs(request.args.items(multi=True), _CONTROL, "The query string")
    if request.endpoint in RAW_BODY_ENDPOINTS:
        return
    if request.mimetype in FORM_MIMETYPES:
        _check_pairs(request.form.items(multi=True), _FIELD_CONTROL, "A form field")
        names = [(f.name or "", f.filename or "") for f in request.files.values()]
        _check_pairs(names, _CONTROL, "A file name")
    elif request.is_json:
        _check_json()


def _check_pairs(pairs: Iterable[tuple[str, str]], pattern: re.Pattern[str], what: str) -> None:
    for key, value in pairs:
        if pattern.search(key) or pattern.search(value):
            raise BadInput(f"{what} contains characters that are not allowed.")


def _check_json() -> None:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES // 1024} KiB.")
    raw = request.get_data(cache=True)  # cached: the view's get_json() reads the same bytes
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES // 1024} KiB.")
    if not raw.strip():
        return  # no body: the view decides whether it needed one
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadInput("The request body is not valid JSON.", code="invalid_json") from exc
    check_json_value(data)
    if (
        not request.path.startswith(("/api/", "/internal/"))
        and request.endpoint not in JSON_BODY_ENDPOINTS
    ):
        _check_form_shaped(data)


def check_json_value(data: Any) -> None:
    """Nesting at most MAX_JSON_DEPTH deep and no string (or key) PostgreSQL cannot store."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise BadInput(
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
                code="json_too_deep",
            )
        if isinstance(value, dict):
            for key, item in value.items():
                _check_json_string(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_json_string(value)


def _check_json_string(value: str) -> None:
    if _FIELD_CONTROL.search(value):
        raise BadInput(
            "A JSON string contains characters that are not allowed.", code="invalid_characters"
        )


def _check_form_shaped(data: Any) -> None:
    """A page's form reads a JSON body as its fields (Flask-WTF): text values only."""
    if not isinstance(data, dict) or not all(_is_text(v) for v in data.values()):
        raise BadInput(
            "Send this form as form fields, or as a JSON object whose values are strings.",
            code="invalid_form_json",
        )


def _is_text(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    return isinstance(value, str)
