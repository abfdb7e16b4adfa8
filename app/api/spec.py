"""The API's one way to declare an endpoint: `@operation(...)` registers the route, parses and
validates its query and body with pydantic models, authenticates the caller, and records all of
it for the OpenAPI document (app/api/openapi.py). A route that does not go through here is not
in the document, and tests/api/test_openapi.py fails on it.

A view declared with `body=Model` receives `body: Model`; with `query=Model`, `query: Model`;
with auth "bearer" (or "optional"), `user: User` (or `User | None`). Everything else it needs
comes from the path.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from pydantic import BaseModel, ConfigDict, ValidationError

from app.accounts.models import Role, User
from app.api.bodies import json_object
from app.core.errors import DomainError, PermissionDenied

Auth = Literal["none", "bearer", "optional", "internal"]


class Body(BaseModel):
    """Base of every request model: unknown fields are refused, strings are not coerced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Reply(BaseModel):
    """Base of every response model (documentation; responses are built as dicts)."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class InvalidRequest(DomainError):
    """A body or query that its schema refuses: 422 naming the first field, with all of them."""

    code = "VALIDATION_ERROR"
    status = 422

    def __init__(self, message: str, field: str | None, errors: list[dict[str, str]]) -> None:
        super().__init__(message, field=field)
        self.errors = errors

    def details(self) -> dict[str, object]:
        return {"errors": self.errors}


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the Flask rule under the blueprint's prefix, e.g. "/courses/<int:course_id>"
    endpoint: str
    summary: str
    tag: str
    auth: Auth
    roles: tuple[Role, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    prefix: str  # the blueprint's url_prefix
    aliases: tuple[str, ...] = field(default=())  # seed paths answering the same view

    @property
    def path(self) -> str:
        return self.prefix + self.rule


OPERATIONS: list[Operation] = []

# Resolved lazily (app.api.auth imports accounts' token services): "bearer" and "optional"
# call this with the required roles and get the user (or None) back.
Authenticator = Callable[[Auth, tuple[Role, ...]], User | None]
_authenticators: dict[str, Authenticator] = {}


def set_authenticator(kind: str, fn: Authenticator) -> None:
    _authenticators[kind] = fn


def _errors_of(err: ValidationError) -> list[dict[str, str]]:
    out = []
    for e in err.errors(include_url=False):
        name = ".".join(str(part) for part in e["loc"]) or "body"
        message = e["msg"]
        if e["type"] == "extra_forbidden":
            message = "Unknown field."
        elif e["type"] == "missing":
            message = "This field is required."
        out.append({"field": name, "message": message})
    return out


def parse(model: type[BaseModel], data: Any) -> Any:
    """Validate `data` against `model`, or raise InvalidRequest naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        errors = _errors_of(err)
        first = errors[0]
        raise InvalidRequest(
            f"{first['field']}: {first['message']}", first["field"], errors
        ) from None


def _query_data(model: type[BaseModel]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        annotation = model.model_fields.get(key)
        is_list = annotation is not None and "list" in str(annotation.annotation).lower()
        data[key] = values if is_list or len(values) > 1 else values[0]
    return data


def operation(  # noqa: PLR0913 - an endpoint's declaration, every argument keyword-only
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    auth: Auth = "bearer",
    roles: Sequence[Role] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: Sequence[int] = (),
    aliases: Sequence[str] = (),
    endpoint: str | None = None,
    decorators: Sequence[Callable[[Any], Any]] = (),
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Register `method rule` on `bp` (and each alias path on the app) as a documented route.

    `decorators` wrap the view inside authentication, e.g. rate limits keyed by the token."""

    def register(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        wanted = inspect.signature(view).parameters
        name = endpoint or view.__name__

        @functools.wraps(view)
        def wrapper(**path: Any) -> ResponseReturnValue:
            kwargs: dict[str, Any] = dict(path)
            if auth in ("bearer", "optional", "internal"):
                user = _authenticators[auth](auth, tuple(roles))
                g.api_user = user
                if "user" in wanted:
                    kwargs["user"] = user
            if query is not None:
                kwargs["query"] = parse(query, _query_data(query))
            if body is not None:
                kwargs["body"] = parse(body, json_object())
            return inner(**kwargs)

        inner: Callable[..., ResponseReturnValue] = view
        for decorate in reversed(decorators):
            inner = decorate(inner)
        bp.add_url_rule(rule, endpoint=name, view_func=wrapper, methods=[method])
        prefix = bp.url_prefix or ""
        OPERATIONS.append(
            Operation(
                method=method.upper(),
                rule=rule,
                endpoint=f"{bp.name}.{name}",
                summary=summary,
                tag=tag,
                auth=auth,
                roles=tuple(roles),
                body=body,
                query=query,
                response=response,
                status=status,
                errors=tuple(errors),
                prefix=prefix,
                aliases=tuple(aliases),
            )
        )
        return wrapper

    return register


def ok(data: dict[str, Any], status: int = 200, **top: Any) -> Response:
    """The success envelope: {"status", "success": true, "data", ...top-level extras}."""
    response = jsonify({"status": status, "success": True, "data": data, **top})
    response.status_code = status
    return response


def require_role(user: User, roles: tuple[Role, ...]) -> None:
    """Admins pass every role check, as on the pages."""
    if roles and user.role not in roles and user.role is not Role.ADMIN:
        raise PermissionDenied("Your account cannot do this.", code="FORBIDDEN")
