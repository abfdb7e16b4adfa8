"""Tutoring over JSON: seed 003's admin allocation endpoints and seed 001's direct purchase
(an admin's fix-up), all on the same services as the console, audited the same way.

    POST /api/v1/admin/allocations/<id>/approve              {reason?}
    POST /api/v1/admin/allocations/allocate                  {purchaseId, trainerId, reason}
    POST /api/v1/admin/allocations/retry-auto-assign         {purchaseId, reason?}
    POST /api/v1/purchases  {studentId, courseId, purchaseTier, metadata, key}  -> 201 | 200

Admins only, by bearer token: 401 without one, 403 for anyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from flask import request
from flask.wrappers import Response
from pydantic import Field

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.accounts.models import Role, User
from app.api import bp
from app.api.spec import Body, Reply, ok
from app.api.spec import operation as op
from app.core.models import utcnow
from app.core.unit import committing
from app.tutoring import allocations
from app.tutoring.models import PurchaseSource, TrainerAllocation, TutoringPurchase
from app.tutoring.purchases import PurchaseRequest, create_purchase, parse_choice

TAG = "tutoring"
ADMIN = (Role.ADMIN,)
MAX_ID = 2**31 - 1
ERRORS = (401, 403, 404, 409, 422)


class ApproveBody(Body):
    reason: str = Field(default="", max_length=300)


class AllocateBody(Body):
    purchaseId: int = Field(ge=1, le=MAX_ID)
    trainerId: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=300)  # choosing by hand is always explained


class RetryBody(Body):
    purchaseId: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(default="", max_length=300)


class PurchaseBody(Body):
    studentId: int = Field(ge=1, le=MAX_ID)
    courseId: int = Field(ge=1, le=MAX_ID)
    purchaseTier: Literal[10, 20, 30]
    # Seed 001's payment metadata: timeSlot, date, isSundayOnly, sessionDuration, weekdays,
    # mode, area, genderPreference, timezone; app/tutoring/purchases.parse_choice names a bad one.
    metadata: dict[str, Any]
    key: str = Field(min_length=1, max_length=60)  # the same key again: the same purchase


class AllocationReply(Reply):
    id: int
    purchaseId: int
    trainerId: int | None
    status: str
    score: float | None
    reasons: list[str]
    note: str
    decidedBy: int | None
    candidates: list[dict[str, Any]]


class AllocationEnvelope(Reply):
    allocation: AllocationReply


class PurchaseReply(Reply):
    id: int
    studentId: int
    courseId: int
    purchaseTier: int
    purchaseDate: str
    expiryDate: str | None
    metadata: dict[str, Any]
    isActive: bool
    source: str


class PurchaseEnvelope(Reply):
    purchase: PurchaseReply


def allocation_json(allocation: TrainerAllocation) -> dict[str, Any]:
    return {
        "id": allocation.id,
        "purchaseId": allocation.purchase_id,
        "trainerId": allocation.trainer_id,
        "status": allocation.status.value,
        "score": allocation.score,
        "reasons": allocation.reasons,
        "note": allocation.note,
        "decidedBy": allocation.decided_by_id,
        "candidates": allocation.candidates,
    }


def _state(allocation: TrainerAllocation) -> dict[str, object]:
    return {
        "status": allocation.status,
        "trainer_id": allocation.trainer_id,
        "decided_by_id": allocation.decided_by_id,
    }


def _act(admin: User, action: str, reason: str, run: Callable[[], TrainerAllocation]) -> Response:
    """Run one allocation action in a transaction with its audit row."""
    with committing():
        allocation = run()
        target = Target("allocation", allocation.id, f"Allocation #{allocation.id}")
        diff = Diff({}, _state(allocation))
        record_audit(Actor(admin, "api", request.remote_addr), action, target, diff, reason)
    return ok({"allocation": allocation_json(allocation)})


@op(bp, "POST", "/admin/allocations/<int:allocation_id>/approve", tag=TAG, roles=ADMIN,
    summary="Approve the trainer a pending allocation suggests", body=ApproveBody,
    response=AllocationEnvelope, errors=ERRORS)  # fmt: skip
def api_allocation_approve(user: User, allocation_id: int, body: ApproveBody) -> Response:
    return _act(
        user, "allocation.approve", body.reason, lambda: allocations.approve(allocation_id, user.id)
    )


@op(bp, "POST", "/admin/allocations/allocate", tag=TAG, roles=ADMIN,
    summary="Allocate a trainer by hand", body=AllocateBody, response=AllocationEnvelope,
    errors=ERRORS)  # fmt: skip
def api_allocation_allocate(user: User, body: AllocateBody) -> Response:
    return _act(
        user,
        "allocation.allocate",
        body.reason,
        lambda: allocations.allocate(body.purchaseId, body.trainerId, user.id),
    )


@op(bp, "POST", "/admin/allocations/retry-auto-assign", tag=TAG, roles=ADMIN,
    summary="Run the automatic assignment again", body=RetryBody, response=AllocationEnvelope,
    errors=ERRORS)  # fmt: skip
def api_allocation_retry(user: User, body: RetryBody) -> Response:
    return _act(
        user,
        "allocation.retry",
        body.reason,
        lambda: allocations.retry_auto_assign(body.purchaseId),
    )


def purchase_json(purchase: TutoringPurchase) -> dict[str, Any]:
    return {
        "id": purchase.id,
        "studentId": purchase.user_id,
        "courseId": purchase.course_id,
        "purchaseTier": purchase.tier,
        "purchaseDate": purchase.purchased_at.isoformat(),
        "expiryDate": purchase.expires_at.isoformat() if purchase.expires_at else None,
        "metadata": purchase.details,
        "isActive": purchase.active,
        "source": purchase.source.value,
    }


@op(bp, "POST", "/purchases", tag=TAG, roles=ADMIN, status=201,
    summary="Create a tutoring purchase directly (200 with the first one for a known key)",
    body=PurchaseBody, response=PurchaseEnvelope, errors=ERRORS)  # fmt: skip
def api_create_purchase(body: PurchaseBody) -> Response:
    """Seed 001 flow 2, the admin's direct create, on the same idempotent path as a paid
    line: the same `key` again returns the purchase made the first time (200, not 201)."""
    metadata = body.metadata
    with committing():
        choice = parse_choice(metadata, str(metadata.get("timezone") or ""), utcnow().date())
        purchase, created = create_purchase(
            PurchaseRequest(
                key=f"admin:{body.key}",
                user_id=body.studentId,
                course_id=body.courseId,
                tier=body.purchaseTier,
                choice=choice,
                source=PurchaseSource.ADMIN,
            )
        )
    return ok({"purchase": purchase_json(purchase)}, 201 if created else 200)
