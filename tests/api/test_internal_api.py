"""Seed 000's service-to-service calls: HMAC over serviceId:timestamp:<raw body>, a window of
SERVICE_SIGNATURE_WINDOW either side, each signature accepted once (remembered in Redis)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry
from app.api.signatures import sign
from app.extensions import db
from app.learning.models import EnrollmentSource, EnrollmentStatus
from app.learning.queries import get_enrollment
from tests.factories import make_course, make_user
from tests.learning.builders import certificate, enrol, order_for

COMPLETE = "/internal/enrollments/complete"
DROP = "/internal/enrollments/drop"


def _headers(
    app: Flask,
    raw: str,
    *,
    service: str = "payment-service",
    stamp: int | None = None,
    key: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """The headers a Node service sends for the body text `raw` (its JSON.stringify)."""
    stamp = int(time.time()) if stamp is None else stamp
    secret = app.config["SERVICE_SECRET_KEY"] if secret is None else secret
    return {
        "Content-Type": "application/json",
        "x-service-api-key": app.config["SERVICE_API_KEY"] if key is None else key,
        "x-service-id": service,
        "x-timestamp": str(stamp),
        "x-signature": sign(secret, service, stamp, raw.encode()),
    }


def _js(body: dict[str, Any]) -> str:
    """JSON.stringify's text: no spaces, keys in insertion order. Ids are sent as strings, as
    seed 000's services send their uuids."""
    return json.dumps(body, separators=(",", ":"))


def _call(client: FlaskClient, path: str, raw: str, headers: dict[str, str]) -> Any:
    return client.post(path, data=raw.encode(), headers=headers)


@pytest.fixture
def world(db_session: Session) -> Any:
    return make_user(), make_course()


def test_a_good_signature_grants_the_course_once_and_audits_it(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    user, course = world
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "pay_123"})
    stamp = int(time.time())
    answer = _call(client, COMPLETE, raw, _headers(app, raw, stamp=stamp))
    assert answer.status_code == 200, answer.json
    data = answer.json["data"]
    assert data["changed"] is True and data["enrollment"]["status"] == "active"
    enrollment = get_enrollment(user.id, course.id)
    assert enrollment is not None and enrollment.source is EnrollmentSource.ADMIN
    entry = _audits(enrollment.id)[-1]
    assert (entry.action, entry.source) == ("enrollment.grant", "service")
    assert entry.after["payment_id"] == "pay_123"
    assert entry.after["service_id"] == "payment-service"
    # The same grant again (a fresh signature: another timestamp than the first, whenever the
    # clock's second turns): idempotent, no second audit row.
    again = _call(client, COMPLETE, raw, _headers(app, raw, stamp=stamp - 1))
    assert again.status_code == 200 and again.json["data"]["changed"] is False
    assert len(_audits(enrollment.id)) == 1


def _audits(enrollment_id: int) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.target_id == str(enrollment_id))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def _refused(answer: Any, words: str) -> None:
    assert answer.status_code == 401, answer.json
    body = answer.json
    assert body["success"] is False and body["code"] == "SERVICE_AUTH"
    assert words in body["error"], body["error"]


def test_every_failed_check_is_401_naming_it_and_grants_nothing(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    user, course = world
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "p1"})
    window = app.config["SERVICE_SIGNATURE_WINDOW"]
    now = int(time.time())
    cases = [
        (_headers(app, raw, stamp=now - window - 5), "older than"),
        (_headers(app, raw, stamp=now + window + 5), "in the future"),
        (_headers(app, raw, key="not-the-key"), "x-service-api-key"),
        (_headers(app, raw, secret="another-secret"), "x-signature does not match"),
        (_headers(app, raw, service="evil-service"), "x-service-id"),
        ({**_headers(app, raw), "x-timestamp": "soon"}, "x-timestamp"),
        ({**_headers(app, raw), "x-signature": ""}, "x-signature"),
    ]
    for headers, words in cases:
        _refused(_call(client, COMPLETE, raw, headers), words)
    missing = {k: v for k, v in _headers(app, raw).items() if k != "x-service-api-key"}
    _refused(_call(client, COMPLETE, raw, missing), "x-service-api-key")
    assert get_enrollment(user.id, course.id) is None


def test_a_timestamp_inside_the_window_either_side_is_accepted(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    user, course = world
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "7"})
    window = app.config["SERVICE_SIGNATURE_WINDOW"]
    for stamp in (int(time.time()) - window + 5, int(time.time()) + window - 5):
        assert _call(client, COMPLETE, raw, _headers(app, raw, stamp=stamp)).status_code == 200


def test_a_replayed_signature_is_refused(app: Flask, client: FlaskClient, world: Any) -> None:
    user, course = world
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "p1"})
    headers = _headers(app, raw)
    assert _call(client, COMPLETE, raw, headers).status_code == 200
    _refused(_call(client, COMPLETE, raw, headers), "already used")
    # Upper-case hex is the same signature, not a fresh one.
    shouted = {**headers, "x-signature": headers["x-signature"].upper()}
    _refused(_call(client, COMPLETE, raw, shouted), "already used")


def test_a_changed_body_breaks_the_signature(app: Flask, client: FlaskClient, world: Any) -> None:
    user, course = world
    other = make_user()
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "p1"})
    headers = _headers(app, raw)
    tampered = raw.replace(str(user.id), str(other.id), 1)
    _refused(_call(client, COMPLETE, tampered, headers), "does not match")
    # The raw bytes are signed, not a re-serialisation: the same JSON spaced differently fails.
    spaced = json.dumps(json.loads(raw))
    _refused(_call(client, COMPLETE, spaced, headers), "does not match")
    assert get_enrollment(other.id, course.id) is None
    assert get_enrollment(user.id, course.id) is None


def test_unconfigured_secret_is_503(
    app: Flask, client: FlaskClient, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, course = world
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "p1"})
    headers = _headers(app, raw)
    monkeypatch.setitem(app.config, "SERVICE_SECRET_KEY", "")
    answer = _call(client, COMPLETE, raw, headers)
    assert answer.status_code == 503 and answer.json["retryAfter"] > 0
    assert answer.json["code"] == "SERVICE_UNAVAILABLE"
    assert get_enrollment(user.id, course.id) is None


def test_redis_down_refuses_with_503_rather_than_accept_unchecked(
    app: Flask, client: FlaskClient, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, course = world
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "p1"})
    # A real client to a port nothing listens on: every command fails to connect.
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    monkeypatch.setitem(app.extensions, "redis", dead)
    answer = _call(client, COMPLETE, raw, _headers(app, raw))
    assert answer.status_code == 503, answer.json
    assert answer.json["retryAfter"] > 0 and answer.json["success"] is False
    assert get_enrollment(user.id, course.id) is None


def test_drop_ends_access_and_revokes_the_certificate_idempotently(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    user, course = world
    enrollment = enrol(user.id, course, status=EnrollmentStatus.COMPLETED)
    cert = certificate(enrollment)
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "reason": "refunded upstream"})
    stamp = int(time.time())
    answer = _call(client, DROP, raw, _headers(app, raw, stamp=stamp))
    assert answer.status_code == 200, answer.json
    assert answer.json["data"]["enrollment"]["status"] == "dropped"
    assert answer.json["data"]["changed"] is True
    db.session.refresh(cert)
    assert cert.revoked_at is not None
    entry = _audits(enrollment.id)[-1]
    assert entry.action == "enrollment.revoke" and "refunded upstream" in entry.reason
    again = _call(client, DROP, raw, _headers(app, raw, stamp=stamp - 1))  # a fresh signature
    assert again.status_code == 200 and again.json["data"]["changed"] is False


def test_drop_refuses_access_paid_by_our_own_order(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    user, course = world
    order = order_for(user.id, course)
    enrollment = enrol(user.id, course, order_id=order.id)
    enrollment.source = EnrollmentSource.PURCHASE
    raw = _js({"userId": str(user.id), "courseId": str(course.id)})
    answer = _call(client, DROP, raw, _headers(app, raw))
    assert answer.status_code == 409 and answer.json["code"] == "ORDER_PAID"
    db.session.refresh(enrollment)
    assert enrollment.status is EnrollmentStatus.ACTIVE


def test_unknown_user_or_course_is_404_and_bad_fields_422(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    user, course = world
    raw = _js({"userId": str(2**31 - 1), "courseId": str(course.id), "paymentId": "p"})
    answer = _call(client, COMPLETE, raw, _headers(app, raw))
    assert answer.status_code == 404 and answer.json["field"] == "userId"
    raw = _js({"userId": str(user.id), "courseId": str(course.id), "paymentId": "p", "extra": "1"})
    answer = _call(client, COMPLETE, raw, _headers(app, raw))
    assert answer.status_code == 422 and answer.json["field"] == "extra"


def test_ids_may_be_json_numbers(app: Flask, client: FlaskClient, world: Any) -> None:
    user, course = world
    raw = _js({"userId": user.id, "courseId": course.id, "paymentId": 42})
    answer = _call(client, COMPLETE, raw, _headers(app, raw))
    assert answer.status_code == 200, answer.json
    assert get_enrollment(user.id, course.id) is not None
