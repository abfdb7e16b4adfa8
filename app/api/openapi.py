"""The OpenAPI 3.1 document of every operation (app/api/spec.py), and its docs page.

Built from the registry, never by hand: paths from the Flask rules (`<int:id>` → `{id}` with an
integer schema), request bodies and query parameters from the pydantic models, responses from
the declared status and model plus the error statuses, all sharing one `Error` schema (the shape
of app/core/errors.py `api_error`). A response model describes the envelope's `data` unless it
declares `success` itself (then it is the whole body). Seed paths answering the same view are
listed as the operation's `x-aliases`, not as operations of their own.

The document is built once per app (it depends on the app's URL map) and served as cached bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, render_template
from flask.wrappers import Response
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.api import bp
from app.api.aliases import alias_rules, openapi_path
from app.api.spec import OPERATIONS, Operation
from app.core.validation import PG_INT_MAX

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
_EXTENSION = "openapi_document"
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_VARIABLE = re.compile(
    r"<(?:(?P<conv>[a-zA-Z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_]\w*)>"
)

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error of the API, seed 000's shape (docs/api.md).",
    "required": ["success", "status", "error", "code"],
    "properties": {
        "success": {"const": False},
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "error": {"type": "string", "description": "A message for people."},
        "code": {"type": "string", "description": "Stable, for programs (e.g. AUTH_001)."},
        "field": {"type": "string", "description": "The field at fault, when there is one."},
        "errors": {
            "type": "array",
            "description": "Every invalid field (422 VALIDATION_ERROR).",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "retryAfter": {"type": "integer", "description": "Seconds to wait (503)."},
    },
    "additionalProperties": True,
}

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every success of the API: the status, `success: true` and the data.",
    "required": ["status", "success", "data"],
    "properties": {
        "status": {"type": "integer"},
        "success": {"const": True},
        "data": {"type": "object"},
    },
    "additionalProperties": True,
}

# Seed 000's service-to-service headers: all four together authenticate an internal call.
INTERNAL_SCHEMES = {
    "serviceApiKey": "x-service-api-key",
    "serviceId": "x-service-id",
    "serviceTimestamp": "x-timestamp",
    "serviceSignature": "x-signature",
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /api/v1/auth/login (or /auth/refresh).",
    },
    **{
        name: {
            "type": "apiKey",
            "in": "header",
            "name": header,
            "description": "Service-to-service call (seed 000): x-signature is the hex "
            "HMAC-SHA256 of `serviceId:timestamp:body`.",
        }
        for name, header in INTERNAL_SCHEMES.items()
    },
}


def _security(op: Operation) -> list[dict[str, list[str]]]:
    if op.auth == "bearer":
        return [{"bearerAuth": []}]
    if op.auth == "optional":
        return [{"bearerAuth": []}, {}]  # {}: anonymous callers too
    if op.auth == "internal":
        return [{name: [] for name in INTERNAL_SCHEMES}]
    return []


def _path_parameter(conv: str | None, args: str | None, name: str) -> dict[str, Any]:
    schema: dict[str, Any]
    if conv == "int":
        signed = bool(args and re.search(r"signed\s*=\s*True", args))
        schema = {"type": "integer", "maximum": PG_INT_MAX}
        if not signed:
            schema["minimum"] = 0
    elif conv == "float":
        schema = {"type": "number"}
    elif conv == "uuid":
        schema = {"type": "string", "format": "uuid"}
    elif conv == "path":
        schema = {"type": "string", "minLength": 1}
    else:  # Werkzeug's default converter: one path segment
        schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [
        _path_parameter(m.group("conv"), m.group("args"), m.group("name"))
        for m in _VARIABLE.finditer(rule)
    ]


def _ref_name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _model_schemas(
    ops: Iterable[Operation],
) -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]], dict[str, Any]]:
    """One pass over every model, so shared definitions (and clashing names) are resolved once."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in ops:
        for model, mode in ((op.body, "validation"), (op.query, "validation")):
            if model is not None:
                wanted[(model, mode)] = None  # type: ignore[index]
        if op.response is not None:
            wanted[(op.response, "serialization")] = None
    if not wanted:
        return {}, {}
    refs, top = models_json_schema(list(wanted), ref_template=REF)
    by_model: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]] = {}
    for (declared, mode), ref in refs.items():
        if isinstance(declared, type) and issubclass(declared, BaseModel):
            by_model[(declared, mode)] = dict(ref)
    return by_model, dict(top.get("$defs", {}))


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _success_schema(model_ref: dict[str, Any] | None, defs: dict[str, Any]) -> dict[str, Any]:
    if model_ref is None:
        return {"$ref": REF.format(model="Envelope")}
    if "success" in defs.get(_ref_name(model_ref), {}).get("properties", {}):
        return model_ref  # the model is the whole body
    return {
        "allOf": [
            {"$ref": REF.format(model="Envelope")},
            {"type": "object", "properties": {"data": model_ref}},
        ]
    }


def _error_statuses(op: Operation) -> list[int]:
    implied = set(op.errors)
    if op.auth in ("bearer", "internal"):
        implied.add(401)
    if op.roles:
        implied.add(403)
    if op.body is not None:
        implied |= {400, 422}  # not a JSON object; a field its schema refuses
    if op.query is not None:
        implied.add(422)
    return sorted(s for s in implied if s >= 400)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def _operation(
    app: Flask,
    op: Operation,
    refs: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]],
    defs: dict[str, Any],
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "security": _security(op),
    }
    params = _path_parameters(op.rule)
    if op.query is not None:
        params += _query_parameters(defs[_ref_name(refs[(op.query, "validation")])])
    if params:
        doc["parameters"] = params
    if op.body is not None:
        ref = refs[(op.body, "validation")]
        doc["requestBody"] = {
            "required": bool(defs.get(_ref_name(ref), {}).get("required")),
            "content": _json(ref),
        }
    responses: dict[str, Any] = {}
    if op.status == 204:
        responses["204"] = {"description": _phrase(204)}
    else:
        model_ref = refs.get((op.response, "serialization")) if op.response else None
        responses[str(op.status)] = {
            "description": _phrase(op.status),
            "content": _json(_success_schema(model_ref, defs)),
        }
    for status in _error_statuses(op):
        responses[str(status)] = {
            "description": _phrase(status),
            "content": _json({"$ref": REF.format(model="Error")}),
        }
    doc["responses"] = responses
    if op.roles:
        doc["x-roles"] = [role.value for role in op.roles]
    aliases = sorted({openapi_path(rule.rule) for rule in alias_rules(app, op.endpoint)})
    if aliases:
        doc["x-aliases"] = aliases
    return doc


def app_operations(app: Flask) -> list[Operation]:
    """The operations this app serves (one process may hold apps built differently)."""
    return [op for op in OPERATIONS if op.endpoint in app.view_functions]


def build_document(app: Flask) -> dict[str, Any]:
    ops = app_operations(app)
    refs, defs = _model_schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        item = paths.setdefault(openapi_path(op.path), {})
        item[op.method.lower()] = _operation(app, op, refs, defs)
    ordered = {
        path: {m: item[m] for m in _HTTP_METHODS if m in item}
        for path, item in sorted(paths.items())
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{app.config.get('SITE_NAME') or 'Coursefront'} API",
            "version": API_VERSION,
            "description": "Coursefront's JSON API v1. Errors share one shape (`Error`); "
            "the seeds' paths answer as aliases (`x-aliases`).",
        },
        "tags": [{"name": tag} for tag in sorted({op.tag for op in ops})],
        "paths": ordered,
        "components": {
            "schemas": {"Envelope": ENVELOPE_SCHEMA, "Error": ERROR_SCHEMA, **defs},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def document(app: Flask | None = None) -> dict[str, Any]:
    """The app's document, built on first use."""
    target: Flask = app or current_app._get_current_object()  # type: ignore[attr-defined]
    parsed: dict[str, Any] = json.loads(_document_bytes(target))
    return parsed


def _document_bytes(app: Flask) -> bytes:
    cached = app.extensions.get(_EXTENSION)
    if cached is None:
        cached = json.dumps(build_document(app), separators=(",", ":")).encode()
        app.extensions[_EXTENSION] = cached
    return bytes(cached)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    response = Response(_document_bytes(app), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _auth_label(op: Operation) -> str:
    labels = {
        "bearer": "Bearer token",
        "optional": "Bearer token optional",
        "internal": "Service signature",
        "none": "Public",
    }
    label = labels[op.auth]
    if op.roles:
        label += " (" + ", ".join(role.value for role in op.roles) + ")"
    return label


@bp.get("/docs")
def docs() -> str:
    """The browsable docs: Swagger UI from static/vendor when scripts run, and a server-rendered
    list of every operation (with the JSON's link) when they do not."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in sorted(app_operations(app), key=lambda o: (o.tag, o.path, o.method)):
        groups.setdefault(op.tag, []).append(
            {
                "method": op.method,
                "path": openapi_path(op.path),
                "summary": op.summary,
                "auth": _auth_label(op),
                "operation_id": op.endpoint,
                "aliases": sorted({openapi_path(r.rule) for r in alias_rules(app, op.endpoint)}),
            }
        )
    return render_template("api/docs.html", groups=sorted(groups.items()))
