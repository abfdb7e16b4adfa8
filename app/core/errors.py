"""Domain errors and their JSON shape: {"success": false, "error": {"code", "message"}}."""

from __future__ import annotations

from flask import jsonify
from flask.wrappers import Response


class DomainError(Exception):
    """A rule was broken; `code` is stable for clients, `message` is for people."""

    code: str = "error"
    status: int = 422

    def __init__(self, message: str, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def details(self) -> dict[str, object]:
        """Extra members of the API's error body (e.g. every invalid field)."""
        return {}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


def api_error(
    code: str, message: str, status: int, field: str | None = None, **extra: object
) -> Response:
    """The JSON API's one error shape (docs/api.md), seed 000's:
    {"success": false, "status", "error": "<message>", "code", "field"?, ...extra}."""
    body: dict[str, object] = {"success": False, "status": status, "error": message, "code": code}
    if field:
        body["field"] = field
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def json_error(code: str, message: str, status: int, field: str | None = None) -> Response:
    error = {"code": code, "message": message, **({"field": field} if field else {})}
    response = jsonify({"success": False, "status": status, "error": error})
    response.status_code = status
    return response
