"""Issue 14: a schema-based fuzz run over every operation of the OpenAPI document finds no 500.

Schemathesis reads /api/v1/openapi.json through the app's WSGI interface and, per operation,
sends a few valid (positive) and a few invalid (negative) requests, anonymous and with an
admin's bearer token (admins pass every role check, so the views run past authentication).
Only `not_a_server_error` is checked. Bounded: 5 valid and 3 invalid examples per operation, no deadline,
derandomised so a failure reproduces. Each request runs in a fresh context (as IsolatedClient
does), on the test's rolled-back connection.
"""

from __future__ import annotations

import contextvars
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.api.openapi import document
from tests.api.probe_ops import probe_app
from tests.api.tokens import bearer
from tests.factories import make_user

MAX_EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
BUDGET_SECONDS = 180  # a runaway guard: ~60 s is the aim on an idle 2-core machine


def _isolated(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return contextvars.Context().run(fn, *args, **kwargs)


def _printable(value: Any) -> Any:
    """`value` without control, format or surrogate characters (Unicode category C)."""
    if isinstance(value, str):
        return "".join(ch for ch in value if not unicodedata.category(ch).startswith("C"))
    if isinstance(value, list):
        return [_printable(item) for item in value]
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    return value


def _deepen(case: Any) -> None:
    """Valid cases made printable: app/core/validation.py refuses control characters at the
    edge (400) before any view runs, and hypothesis draws plenty of them; the negative cases
    keep theirs, and so still exercise that edge."""
    for part in ("path_parameters", "query", "body"):
        value = getattr(case, part, None)
        if value is not None and not isinstance(value, bytes):
            setattr(case, part, _printable(value))


def fuzz(
    app: Flask,
    headers: Callable[[], dict[str, str]] | None = None,
    include: Callable[[str], bool] = lambda _label: True,
) -> tuple[int, list[str]]:
    """(operations fuzzed, failures as "METHOD /path: what") for one app and caller.

    `headers` makes each operation's headers (a fresh token each: logout and refresh are
    fuzzed too, and would end a shared one)."""
    schema = _isolated(schemathesis.openapi.from_wsgi, "/api/v1/openapi.json", app)
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not include(operation.label):
            continue
        count += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _fuzz_operation(operation, mode, headers() if headers else None)
            if failure:
                failures.append(f"{operation.label} [{mode.value}]: {failure}")
    return count, failures


def _fuzz_operation(operation: Any, mode: GenerationMode, headers: dict[str, str] | None) -> str:
    seen: list[str] = []

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            _deepen(case)
        try:  # a testing app propagates an unhandled error instead of answering 500
            response = _isolated(case.call, headers=headers)
        except Exception as exc:
            seen.append(f"raised {exc!r} for {case.as_curl_command()}")
            raise
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except Exception:
            seen.append(f"{response.status_code} for {case.as_curl_command()}")
            raise

    try:
        run()
    except Unsatisfiable:  # e.g. no invalid request exists for an operation without inputs
        return ""
    except Exception as exc:  # the failure found (hypothesis re-raises the shrunk example)
        return seen[-1] if seen else repr(exc)
    return ""


def test_no_operation_answers_a_server_error(app: Flask, db_session: Session) -> None:
    admin = make_user(Role.ADMIN)
    db_session.flush()
    started = time.monotonic()
    count, as_admin = fuzz(app, headers=lambda: bearer(admin))
    # Anonymous callers only where the document lets them in (elsewhere: 401 at once).
    _, anonymous = fuzz(app, include=_public(app))
    elapsed = time.monotonic() - started
    assert not anonymous + as_admin, "\n".join(anonymous + as_admin)
    assert elapsed < BUDGET_SECONDS, f"{count} operations took {elapsed:.0f}s"


def _public(app: Flask) -> Callable[[str], bool]:
    with app.test_request_context():
        paths = document(app)["paths"]
    public = {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method, op in item.items()
        if not op["security"] or {} in op["security"]
    }
    return public.__contains__


def test_the_harness_reports_a_server_error() -> None:
    """The same harness on a probe operation that fails with a 500: it must say so."""
    with probe_app(broken=True) as broken:
        _count, failures = fuzz(broken, include=lambda label: label.startswith("GET "))
    assert failures
    assert failures[0].startswith("GET /api/v1/courses/{course_id}/probes [positive]: ")
    assert "500" in failures[0] or "Boom" in failures[0]


def test_the_harness_passes_sound_probe_operations() -> None:
    with probe_app() as sound:
        count, failures = fuzz(sound, include=lambda label: "/courses/" in label)
    assert count == 2
    assert not failures, failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_probe_requests_are_generated_from_the_document(mode: GenerationMode) -> None:
    """Schemathesis builds requests from our document: bodies reach the view validated (2xx)
    or are refused by the schema (422), never anything else."""
    statuses: set[int] = set()
    with probe_app() as sound:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", sound)
        create = next(
            r.ok() for r in schema.get_all_operations() if r.ok().label.startswith("POST ")
        )

        @settings(max_examples=10, deadline=None, database=None, derandomize=True)
        @given(case=create.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            statuses.add(case.call().status_code)

        run()
    expected = {201} if mode is GenerationMode.POSITIVE else {400, 404, 405, 422}
    assert statuses and statuses <= expected | ({422} if mode is GenerationMode.POSITIVE else set())
