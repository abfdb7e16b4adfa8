"""Issue 14 items 3 and 6: the OpenAPI 3.1 document, the docs page, CORS and the seed aliases.

The document is generated from app.api.spec.OPERATIONS: every /api/v1 (and /internal) route is
in it and every path in it is a route. Synthetic "probe" operations (tests/api/probe_ops.py)
pin down how rules, models, auth kinds and statuses are written, whatever endpoints exist yet.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from app.api.aliases import (
    ALIAS_PREFIX,
    alias_markdown,
    alias_table,
    alias_target,
    openapi_path,
)
from app.api.cors import init_cors
from app.api.openapi import build_document, document
from app.api.spec import OPERATIONS
from app.extensions import db
from tests.api.probe_ops import install_aliases, probe_app
from tests.conftest import IsolatedClient, make_test_app

ORIGIN = "https://app.example"
NOT_DOCUMENTED = {"api.openapi_json", "api.docs"}
API_PREFIXES = ("/api/v1/", "/internal/")


@pytest.fixture(scope="module")
def wired_app(app: Flask, service_urls: dict[str, str]) -> Flask:
    """An app with CORS origins, and CORS and aliases wired (by create_app once it does)."""
    built = make_test_app(service_urls, API_CORS_ORIGINS=(ORIGIN,))
    if not any(e.startswith(ALIAS_PREFIX) for e in built.view_functions):
        install_aliases(built)
    if not any(getattr(f, "__module__", "") == "app.api.cors" for f in _after(built)):
        init_cors(built)
    return built


def _after(app: Flask) -> list[Any]:
    return list(app.after_request_funcs.get(None, []))


@pytest.fixture
def wired(wired_app: Flask) -> Iterator[FlaskClient]:
    """A client of wired_app whose writes are rolled back (as conftest's db_session)."""
    with wired_app.app_context():
        engines = db._app_engines[wired_app]
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            wired_app.test_client_class = IsolatedClient
            yield wired_app.test_client()
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIXES)
        and not rule.endpoint.startswith(ALIAS_PREFIX)
        and rule.endpoint not in NOT_DOCUMENTED
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


# --- the document against the URL map ------------------------------------------------------


def test_every_api_route_is_in_the_document(wired_app: Flask) -> None:
    missing = _routes(wired_app) - _documented(build_document(wired_app))
    assert not missing, "routes not declared with app.api.spec.operation: " + ", ".join(
        f"{m} {p}" for m, p in sorted(missing, key=lambda r: (r[1], r[0]))
    )


def test_every_documented_path_is_a_route(wired_app: Flask) -> None:
    extra = _documented(build_document(wired_app)) - _routes(wired_app)
    assert not extra


def test_aliases_are_no_operations_of_their_own(wired_app: Flask) -> None:
    doc = build_document(wired_app)
    seed_prefixes = ("/api/user/", "/api/course/", "/api/payment/", "/api/payments/", "/api/file/")
    assert not [p for p in doc["paths"] if p.startswith(seed_prefixes)]
    listed = {a for item in doc["paths"].values() for op in item.values() for a in op.get("x-aliases", [])}  # fmt: skip
    registered = {
        openapi_path(r.rule)
        for r in wired_app.url_map.iter_rules()
        if alias_target(r.endpoint) in _op_endpoints()
    }
    assert listed == registered


def _op_endpoints() -> set[str]:
    return {op.endpoint for op in OPERATIONS}


def test_the_document_is_valid_openapi_3_1(wired_app: Flask) -> None:
    doc = build_document(wired_app)
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # openapi-spec-validator: the 3.1 meta-schema, and every $ref resolves
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises, naming what is wrong
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_openapi_json_is_served_and_cached(wired: FlaskClient, wired_app: Flask) -> None:
    first = wired.get("/api/v1/openapi.json")
    assert first.status_code == 200
    assert first.mimetype == "application/json"
    with wired_app.app_context():
        assert first.get_json() == document(wired_app) == build_document(wired_app)
    again = wired.get("/api/v1/openapi.json")
    assert again.data == first.data
    assert wired_app.extensions["openapi_document"] == first.data  # built once per app


# --- how operations are written (probe operations) -------------------------------------------


def test_rules_models_and_auth_kinds_are_written_out() -> None:
    with probe_app() as app:
        install_aliases(app)
        doc = build_document(app)
        validate(doc)
    paths = doc["paths"]
    assert set(paths) == {
        "/api/v1/courses/{course_id}/probes",
        "/api/v1/probes/{token}",
        "/api/v1/probes/signal",
    }
    listing = paths["/api/v1/courses/{course_id}/probes"]["get"]
    create = paths["/api/v1/courses/{course_id}/probes"]["post"]
    teach = paths["/api/v1/probes/{token}"]["patch"]
    drop = paths["/api/v1/probes/{token}"]["delete"]
    signal = paths["/api/v1/probes/signal"]["post"]

    assert listing["operationId"] == "probe.list_probes"
    assert listing["summary"] == "List probes" and listing["tags"] == ["Probes"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["course_id"]["in"] == "path" and params["course_id"]["required"] is True
    assert params["course_id"]["schema"]["type"] == "integer"
    assert params["course_id"]["schema"]["minimum"] == 0
    assert params["page"]["in"] == "query" and params["page"]["required"] is False
    assert params["page"]["schema"]["maximum"] == 1000
    assert params["q"]["schema"]["maxLength"] == 100
    token = {p["name"]: p for p in teach["parameters"]}["token"]
    assert token["schema"] == {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}

    assert listing["security"] == []
    assert teach["security"] == [{"bearerAuth": []}]
    assert drop["security"] == [{"bearerAuth": []}, {}]
    assert set(signal["security"][0]) == {
        "serviceApiKey",
        "serviceId",
        "serviceTimestamp",
        "serviceSignature",
    }
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["serviceSignature"]["name"] == "x-signature"

    body = create["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProbeBody"
    }
    schemas = doc["components"]["schemas"]
    probe_body = schemas["ProbeBody"]
    assert probe_body["additionalProperties"] is False  # Body forbids unknown fields
    assert probe_body["properties"]["title"]["maxLength"] == 200
    assert probe_body["properties"]["tier"]["enum"] == ["basic", "premium"]
    assert "Address" in schemas  # nested models are components too
    assert set(create["responses"]) == {"201", "400", "404", "422"}
    ok_schema = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert ok_schema["allOf"][0] == {"$ref": "#/components/schemas/Envelope"}
    assert ok_schema["allOf"][1]["properties"]["data"]["$ref"].endswith("/ProbeReply")
    assert set(teach["responses"]) == {"200", "400", "401", "403", "422"}
    assert teach["x-roles"] == ["teacher"]
    error = {"$ref": "#/components/schemas/Error"}
    assert teach["responses"]["403"]["content"]["application/json"]["schema"] == error
    assert set(schemas["Error"]["required"]) == {"success", "status", "error", "code"}
    assert drop["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Envelope"
    }

    # The prefix table (courses under /api/course) and the explicit extra, as x-aliases.
    assert listing["x-aliases"] == [
        "/api/course/courses/{course_id}/probes",
        "/api/probe/courses/{course_id}",
    ]
    assert create["x-aliases"] == ["/api/course/courses/{course_id}/probes"]
    assert "x-aliases" not in teach
    assert {t["name"] for t in doc["tags"]} == {"Probes", "Other"}


def test_aliases_answer_with_the_same_view() -> None:
    with probe_app() as app:
        install_aliases(app)
        client = app.test_client()
        real = client.get("/api/v1/courses/7/probes?q=hello&page=2")
        seed = client.get("/api/course/courses/7/probes?q=hello&page=2")
        extra = client.get("/api/probe/courses/7?q=hello&page=2")
        refused = client.get("/api/course/courses/7/probes?page=0")
        wrong_method = client.delete("/api/course/courses/7/probes")
    assert real.status_code == seed.status_code == extra.status_code == 200
    assert real.get_json() == seed.get_json() == extra.get_json()
    assert real.get_json()["data"] == {"id": 7, "title": "hello", "page": 2}
    assert refused.status_code == 422 and refused.get_json()["field"] == "page"
    assert wrong_method.status_code == 405


def test_alias_rules_are_csrf_exempt_like_the_api_blueprint() -> None:
    body = {"courseId": 3, "title": "Probe"}
    with probe_app(csrf_enabled=True) as app:
        before = app.test_client().post("/api/v1/courses/3/probes", json=body)
    assert before.status_code == 400  # CSRF is on and the probe blueprint is not exempt
    with probe_app(csrf_enabled=True) as app:
        install_aliases(app)
        seed = app.test_client().post("/api/course/courses/3/probes", json=body)
    assert seed.status_code == 201, seed.data
    assert seed.get_json()["data"] == {"id": 3, "title": "Probe"}


# --- aliases on the real app ------------------------------------------------------------------


def _fill(rule: str) -> str:
    def value(match: re.Match[str]) -> str:
        return "1" if (match.group(1) or "").startswith("int") else "x"

    return re.sub(r"<(?:([a-zA-Z_]\w*)(?:\([^)]*\))?:)?[a-zA-Z_]\w*>", value, rule)


def _comparable(response: Any) -> tuple[int, Any]:
    payload = response.get_json(silent=True)
    return response.status_code, payload


def test_every_alias_answers_like_its_target(wired: FlaskClient, wired_app: Flask) -> None:
    """Anonymous calls without a body (401, 422, or a public answer): the same from both."""
    ops = {op.endpoint: op for op in OPERATIONS}
    compared = 0
    for rule in wired_app.url_map.iter_rules():
        op = ops.get(alias_target(rule.endpoint) or "")
        if op is None:
            continue
        if op.auth == "none" and op.method != "GET":  # might act: covered by the domain tests
            continue
        alias, target = _fill(rule.rule), _fill(op.path)
        seed = wired.open(alias, method=op.method)
        ours = wired.open(target, method=op.method)
        assert _comparable(seed) == _comparable(ours), (alias, target)
        assert seed.status_code < 500
        compared += 1
    assert compared or not [op for op in OPERATIONS if op.endpoint in wired_app.view_functions]


@pytest.mark.parametrize(
    ("alias", "target"),
    [
        ("/api/v1/webhooks/razorpay", "/webhooks/razorpay"),
        ("/api/payments/webhooks/stripe", "/webhooks/stripe"),
    ],
)
def test_seed_webhook_paths_reach_the_webhook_view(
    wired: FlaskClient, alias: str, target: str
) -> None:
    junk = {"data": b'{"event": "payment.captured"}', "content_type": "application/json"}
    seed = wired.post(alias, **junk)
    ours = wired.post(target, **junk)
    assert seed.status_code == ours.status_code
    assert seed.status_code in (400, 404)  # unsigned: refused, never stored
    assert seed.get_json() == ours.get_json()


def test_webhook_aliases_store_nothing(wired: FlaskClient) -> None:
    wired.post("/api/payments/webhooks/stripe", data=b"{}", content_type="application/json")
    count = db.session.execute(sa.text("SELECT count(*) FROM webhook_events")).scalar()
    assert count == 0


def test_the_alias_table_lists_every_alias(wired_app: Flask) -> None:
    rows = alias_table(wired_app)
    assert ("POST /api/v1/webhooks/razorpay", "POST /webhooks/razorpay") in rows
    assert ("POST /api/payments/webhooks/stripe", "POST /webhooks/stripe") in rows
    aliased = sum(
        len((r.methods or set()) - {"HEAD", "OPTIONS"})
        for r in wired_app.url_map.iter_rules()
        if r.endpoint.startswith(ALIAS_PREFIX)
    )
    assert len(rows) == aliased
    markdown = alias_markdown(wired_app)
    assert "| `/api/user/...` | `/api/v1/...` |" in markdown
    assert markdown.count("\n| `POST ") + markdown.count("\n| `GET ") + markdown.count(
        "\n| `PATCH "
    ) + markdown.count("\n| `DELETE ") + markdown.count("\n| `PUT ") == len(rows)


# --- the docs page --------------------------------------------------------------------------


def test_the_docs_page_lists_every_operation_without_scripts(
    wired: FlaskClient, wired_app: Flask
) -> None:
    page = wired.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'href="/api/v1/openapi.json"' in html
    for path, item in build_document(wired_app)["paths"].items():
        for method, op in item.items():
            row = re.search(rf'<tr id="{re.escape(op["operationId"])}">(.*?)</tr>', html, re.S)
            assert row, op["operationId"]
            assert method.upper() in row.group(1) and f"<code>{path}</code>" in row.group(1)
    # The CSP allows scripts from this origin only: no inline script, none from elsewhere.
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all(re.search(r'src="/static/', attrs) for attrs in scripts)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        assert wired.get(asset).status_code == 200, asset


# --- CORS ------------------------------------------------------------------------------------


def test_an_allowed_origin_gets_cors_headers(wired: FlaskClient) -> None:
    response = wired.get("/api/v1/openapi.json", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    # Errors too, so the app can read the error body.
    missing = wired.get("/api/v1/no-such-thing", headers={"Origin": ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_other_origins_and_other_paths_get_none(wired: FlaskClient) -> None:
    for origin in ("https://evil.example", "null", "https://app.example.evil"):
        response = wired.get("/api/v1/openapi.json", headers={"Origin": origin})
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Origin" in response.headers["Vary"]
    page = wired.get("/", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in page.headers
    internal = wired.post("/internal/enrollments/complete", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in internal.headers


def _preflight(client: FlaskClient, path: str, origin: str, method: str = "POST") -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def test_a_preflight_is_answered_for_allowed_origins_only(wired: FlaskClient) -> None:
    ok = _preflight(wired, "/api/v1/openapi.json", ORIGIN, "GET")
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in ok.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in ok.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"}
    assert int(ok.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in ok.headers
    alias = _preflight(wired, "/api/payments/webhooks/stripe", ORIGIN)
    assert alias.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in alias.headers["Access-Control-Allow-Methods"]
    refused = _preflight(wired, "/api/v1/openapi.json", "https://evil.example", "GET")
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Methods" not in refused.headers
    nowhere = _preflight(wired, "/api/v1/no-such-thing", ORIGIN)
    assert "Access-Control-Allow-Origin" not in nowhere.headers


def test_no_origin_is_allowed_without_configuration(app: Flask) -> None:
    client = app.test_client()
    if not any(getattr(f, "__module__", "") == "app.api.cors" for f in _after(app)):
        pytest.skip("create_app does not call init_cors yet")
    response = contextvars.Context().run(
        client.get, "/api/v1/openapi.json", headers={"Origin": ORIGIN}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
