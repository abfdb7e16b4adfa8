"""Synthetic operations, declared through app.api.spec.operation on a bare Flask app, so the
OpenAPI generator, the aliases and the fuzz harness are tested whatever endpoints exist yet.

They are taken back out of OPERATIONS afterwards (the real apps would ignore them anyway: the
document and the aliases only take operations whose endpoint the app has)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from flask import Blueprint, Flask, jsonify
from flask.wrappers import Response
from pydantic import Field

from app.accounts.models import Role
from app.api.aliases import register_aliases
from app.api.openapi import build_document
from app.api.spec import OPERATIONS, Body, Reply, ok
from app.core.errors import DomainError, api_error


class Address(Body):
    city: str = Field(min_length=1, max_length=80)


class ProbeBody(Body):
    courseId: int = Field(ge=1, le=2**31 - 1)
    title: str = Field(min_length=1, max_length=200)
    tier: Literal["basic", "premium"] = "basic"
    address: Address | None = None


class ProbeQuery(Body):
    q: str = Field("", max_length=100)
    page: int = Field(1, ge=1, le=1000)


class ProbeReply(Reply):
    id: int
    title: str


_VIEWS = ("list_probes", "create_probe", "teach_probe", "drop_probe", "signal_probe")


class Boom(RuntimeError):
    """What the broken probe raises: an unhandled error, a 500."""


@contextmanager
def probe_app(*, broken: bool = False, csrf_enabled: bool = False) -> Iterator[Flask]:
    before = len(OPERATIONS)
    name = "probe_broken" if broken else "probe"
    bp = Blueprint(name, __name__, url_prefix="/api/v1")
    _declare(bp, broken)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="probe-secret", WTF_CSRF_ENABLED=csrf_enabled, SITE_NAME="Probe")
    if csrf_enabled:
        from app.extensions import csrf

        csrf.init_app(app)
    app.register_blueprint(bp)
    app.register_error_handler(DomainError, _domain_error)
    app.add_url_rule(
        "/api/v1/openapi.json", "openapi", lambda: jsonify(build_document(app)), methods=["GET"]
    )
    try:
        yield app
    finally:
        del OPERATIONS[before:]
        # register_aliases exempted the probe views from CSRF (Flask-WTF keeps that by view
        # name, for every app): take it back, so each probe app starts as declared.
        from app.extensions import csrf

        csrf._exempt_views -= {f"{__name__}.{view}" for view in _VIEWS}


def install_aliases(app: Flask) -> None:
    register_aliases(app)


def _domain_error(err: DomainError) -> Response:
    return api_error(err.code, err.message, err.status, err.field, **err.details())


def _declare(bp: Blueprint, broken: bool) -> None:
    from app.api.spec import operation

    @operation(
        bp,
        "GET",
        "/courses/<int:course_id>/probes",
        summary="List probes",
        tag="Probes",
        auth="none",
        query=ProbeQuery,
        response=ProbeReply,
        aliases=("/api/probe/courses/<int:course_id>",),
    )
    def list_probes(course_id: int, query: ProbeQuery) -> Response:
        if broken:
            raise Boom("the harness must see this")
        return ok({"id": course_id, "title": query.q, "page": query.page})

    @operation(
        bp,
        "POST",
        "/courses/<int:course_id>/probes",
        summary="Create a probe",
        tag="Probes",
        auth="none",
        body=ProbeBody,
        response=ProbeReply,
        status=201,
        errors=(404,),
    )
    def create_probe(course_id: int, body: ProbeBody) -> Response:
        return ok({"id": course_id, "title": body.title}, 201)

    @operation(
        bp,
        "PATCH",
        "/probes/<token>",
        summary="Teachers' probe",
        tag="Probes",
        auth="bearer",
        roles=(Role.TEACHER,),
        body=ProbeBody,
    )
    def teach_probe(token: str, body: ProbeBody) -> Response:
        return ok({"token": token})

    @operation(bp, "DELETE", "/probes/<token>", summary="Drop", tag="Other", auth="optional")
    def drop_probe(token: str) -> Response:
        return ok({"token": token})

    @operation(bp, "POST", "/probes/signal", summary="Signal", tag="Other", auth="internal")
    def signal_probe() -> Response:
        return ok({})
