"""Tutoring over JSON: seed 003's admin allocation endpoints and seed 001's direct purchase
(an admin's fix-up), all on the same services as the console, audited the same way.

    POST /api/v1/admin/allocations/<id>/approve              {reason?}
    POST /api/v1/admin/allocations/allocate                  {purchaseId, trainerId, reason}
    POST /api/v1/admin/allocations/retry-auto-assign         {purchaseId}
    POST /api/v1/purchases  {studentId, courseId, purchaseTier, metadata, key}  -> 201 | 200

Admins only: 401 without a session, 403 for anyone else (token login arrives with the API
issue; the checks stay)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import jsonify, request
from flask.wrappers import Response

from app.accounts.access import viewer
from app.accounts.audit import Actor, Diff, Target, record_audit
from app.accounts.models import Role, User
from app.api import bp
from app.api.bodies import InvalidField, json_object, text
from app.core.errors import json_error
from app.core.models import utcnow
from app.core.unit import committing
from app.tutoring import allocations
from app.tutoring.models import PurchaseSource, TrainerAllocation, TutoringPurchase
from app.tutoring.purchases import PurchaseRequest, create_purchase, parse_choice


def _ok(data: dict[str, Any], status: int = 200) -> Response:
    response = jsonify({"status": status, "success": True, "data": data})
    response.status_code = status
    return response


def _integer(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise InvalidField(f"{name} must be a positive integer.", field=name)
    return value


def _admin() -> User | Response:
    user = viewer()
    if user is None:
        return json_error("login_required", "Log in as an admin.", 401)
    if user.role is not Role.ADMIN:
        return json_error("forbidden", "Admins only.", 403)
    return user


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
    """Run one allocation action in a transaction with its audit row; JSON either way."""
    with committing(catch=True) as unit:
        allocation = run()
        target = Target("allocation", allocation.id, f"Allocation #{allocation.id}")
        diff = Diff({}, _state(allocation))
        record_audit(Actor(admin, "api", request.remote_addr), action, target, diff, reason)
    if unit.error is not None:
        err = unit.error
        return json_error(err.code, err.message, err.status, err.field)
    return _ok({"allocation": allocation_json(allocation)})


@bp.post("/admin/allocations/<int:allocation_id>/approve")
def api_allocation_approve(allocation_id: int) -> Response:
    admin = _admin()
    if isinstance(admin, Response):
        return admin
    reason = text(json_object(), "reason", max_length=300)
    return _act(
        admin, "allocation.approve", reason, lambda: allocations.approve(allocation_id, admin.id)
    )


@bp.post("/admin/allocations/allocate")
def api_allocation_allocate() -> Response:
    admin = _admin()
    if isinstance(admin, Response):
        return admin
    body = json_object()
    purchase_id, trainer_id = _integer(body, "purchaseId"), _integer(body, "trainerId")
    reason = text(body, "reason", required=True, max_length=300)
    return _act(
        admin,
        "allocation.allocate",
        reason,
        lambda: allocations.allocate(purchase_id, trainer_id, admin.id),
    )


@bp.post("/admin/allocations/retry-auto-assign")
def api_allocation_retry() -> Response:
    admin = _admin()
    if isinstance(admin, Response):
        return admin
    body = json_object()
    purchase_id = _integer(body, "purchaseId")
    reason = text(body, "reason", max_length=300)
    return _act(
        admin, "allocation.retry", reason, lambda: allocations.retry_auto_assign(purchase_id)
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


@bp.post("/purchases")
def api_create_purchase() -> Response:
    """Seed 001 flow 2, the admin's direct create, on the same idempotent path as a paid
    line: the same `key` again returns the purchase made the first time (200, not 201)."""
    admin = _admin()
    if isinstance(admin, Response):
        return admin
    body = json_object()
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        raise InvalidField("metadata must be an object (timeSlot, date, ...).", field="metadata")
    key = text(body, "key", required=True, max_length=60)
    with committing(catch=True) as unit:
        choice = parse_choice(metadata, str(metadata.get("timezone") or ""), utcnow().date())
        purchase, created = create_purchase(
            PurchaseRequest(
                key=f"admin:{key}",
                user_id=_integer(body, "studentId"),
                course_id=_integer(body, "courseId"),
                tier=_integer(body, "purchaseTier"),
                choice=choice,
                source=PurchaseSource.ADMIN,
            )
        )
    if unit.error is not None:
        err = unit.error
        return json_error(err.code, err.message, err.status, err.field)
    return _ok({"purchase": purchase_json(purchase)}, 201 if created else 200)
