"""Seed 003's admin allocation endpoints and seed 001's direct purchase, over JSON."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, Role
from app.core.models import utcnow
from app.tutoring.assignment import auto_assign
from app.tutoring.models import TutoringSession
from tests.api.tokens import bearer
from tests.conftest import login_as
from tests.factories import make_user
from tests.tutoring.conftest import next_weekday, sunday_choice, trainer, tutoring_course


def _body(course_id: int, student_id: int, key: str = "fix-1", **meta: Any) -> dict[str, Any]:
    metadata = {**sunday_choice(next_weekday(utcnow().date(), 7)), "timezone": "Europe/London"}
    metadata.update(meta)
    metadata = {k: v for k, v in metadata.items() if v is not None}
    return {"studentId": student_id, "courseId": course_id, "purchaseTier": 10,
            "metadata": metadata, "key": key}  # fmt: skip


def _as_admin(client: FlaskClient) -> None:
    """Every request of this client carries an admin's bearer token."""
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(make_user(Role.ADMIN))["Authorization"]


def test_only_admins_may_call_them(client: FlaskClient, db_session: Session) -> None:
    paths = ["/api/v1/purchases", "/api/v1/admin/allocations/allocate",
             "/api/v1/admin/allocations/retry-auto-assign", "/api/v1/admin/allocations/1/approve"]  # fmt: skip
    for path in paths:
        answer = client.post(path, json={})
        assert answer.status_code == 401 and answer.json["code"] == "AUTH_001"
    login_as(client, make_user(Role.ADMIN))  # a browser's admin session is not a token
    for path in paths:
        assert client.post(path, json={}).status_code == 401
    student = bearer(make_user(Role.STUDENT))
    for path in paths:
        answer = client.post(path, json={}, headers=student)
        assert answer.status_code == 403 and answer.json["code"] == "FORBIDDEN"


def test_a_purchase_made_twice_with_one_key_is_one_purchase_then_it_is_allocated(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    _as_admin(client)
    course, category = tutoring_course()
    student = make_user()
    first = client.post("/api/v1/purchases", json=_body(course.id, student.id))
    assert first.status_code == 201, first.json
    purchase = first.json["data"]["purchase"]
    assert (purchase["purchaseTier"], purchase["metadata"]["timeSlot"]) == (10, "18:00")
    again = client.post("/api/v1/purchases", json=_body(course.id, student.id))
    assert again.status_code == 200 and again.json["data"]["purchase"]["id"] == purchase["id"]
    bad = client.post(
        "/api/v1/purchases", json=_body(course.id, student.id, "fix-2", timeSlot=None)
    )
    assert bad.status_code == 422 and bad.json["field"] == "timeSlot"

    pending = auto_assign(purchase["id"])  # no trainer yet: pending
    assert pending.status.value == "pending"
    trainer([category.slug], name="Api Ann")
    retried = client.post("/api/v1/admin/allocations/retry-auto-assign",
                          json={"purchaseId": purchase["id"]})  # fmt: skip
    assert retried.status_code == 200, retried.json
    assert retried.json["data"]["allocation"]["status"] == "approved"
    twice = client.post("/api/v1/admin/allocations/retry-auto-assign",
                        json={"purchaseId": purchase["id"]})  # fmt: skip
    assert twice.status_code == 409
    sessions = db_session.scalars(
        select(TutoringSession).where(TutoringSession.purchase_id == purchase["id"])
    ).all()
    assert len(sessions) == 10
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "allocation.retry"))
    assert [e.source for e in audit] == ["api"]


def test_approve_a_suggestion_and_allocate_by_hand(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_admin(client)
    course, category = tutoring_course()
    suggested = trainer([category.slug], name="Sue Suggested")
    monkeypatch.setitem(app.config, "TUTORING_MIN_SCORE", 1.01)  # qualified, only suggested
    ids = [client.post("/api/v1/purchases", json=_body(course.id, make_user().id, f"k{n}")).json[
        "data"]["purchase"]["id"] for n in range(2)]  # fmt: skip
    low = auto_assign(ids[0])
    assert (low.status.value, low.trainer_id) == ("pending", suggested.id)
    approved = client.post(f"/api/v1/admin/allocations/{low.id}/approve", json={})
    assert approved.status_code == 200
    assert approved.json["data"]["allocation"]["trainerId"] == suggested.id

    other = trainer(["painting"], name="Hand Picked", slots=((7, *_evening()),))
    auto_assign(ids[1])
    no_reason = client.post("/api/v1/admin/allocations/allocate",
                            json={"purchaseId": ids[1], "trainerId": other.id})  # fmt: skip
    assert no_reason.status_code == 422 and no_reason.json["field"] == "reason"
    by_hand = client.post("/api/v1/admin/allocations/allocate",
                          json={"purchaseId": ids[1], "trainerId": other.id, "reason": "asked"})  # fmt: skip
    assert by_hand.status_code == 200, by_hand.json
    assert by_hand.json["data"]["allocation"]["trainerId"] == other.id


def _evening() -> tuple[Any, Any]:
    from datetime import time

    return time(17, 0), time(21, 0)
