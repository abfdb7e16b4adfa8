"""Seed 000's service-to-service calls, HMAC-signed (app/api/signatures.py):

    POST /internal/enrollments/complete  {userId, courseId, paymentId}  another system took the
                                                                          payment: access for good
    POST /internal/enrollments/drop      {userId, courseId, reason?}    access ends

Both are idempotent (`changed` says whether this call changed anything) and audited with the
calling service as the actor (app/learning/integrations.py)."""

from __future__ import annotations

from typing import Annotated

from flask import request
from flask.wrappers import Response
from pydantic import Field, StringConstraints

from app.accounts.audit import Actor
from app.api import internal_bp
from app.api.signatures import current_service
from app.api.spec import Body, Reply, ok
from app.api.spec import operation as op
from app.core.unit import committing
from app.extensions import csrf
from app.learning.integrations import ServiceChange, complete_for_service, drop_for_service

# Signed JSON from other services, never a browser form: the signature is the protection.
csrf.exempt(internal_bp)

TAG = "Internal"
MAX_ID = 2**31 - 1
ERRORS = (401, 404, 409, 422, 503)
PaymentId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CompleteBody(Body):
    userId: int = Field(ge=1, le=MAX_ID)
    courseId: int = Field(ge=1, le=MAX_ID)
    paymentId: PaymentId | int  # the other system's payment id, kept in the audit


class DropBody(Body):
    userId: int = Field(ge=1, le=MAX_ID)
    courseId: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(default="", max_length=500)


class ServiceEnrollmentReply(Reply):
    enrollment: dict[str, object]
    changed: bool


def _actor() -> Actor:
    return Actor(None, "service", request.remote_addr)


def _answer(result: ServiceChange) -> Response:
    enrollment = result.enrollment
    data = {
        "id": enrollment.id,
        "userId": enrollment.user_id,
        "courseId": enrollment.course_id,
        "status": enrollment.status.value,
        "enrolledAt": enrollment.enrolled_at.isoformat(),
        "expiresAt": enrollment.expires_at.isoformat() if enrollment.expires_at else None,
        "droppedAt": enrollment.dropped_at.isoformat() if enrollment.dropped_at else None,
    }
    return ok({"enrollment": data, "changed": result.changed})


@op(internal_bp, "POST", "/enrollments/complete", summary="Grant a course paid elsewhere",
    tag=TAG, auth="internal", body=CompleteBody, response=ServiceEnrollmentReply,
    errors=ERRORS)  # fmt: skip
def internal_complete_enrollment(body: CompleteBody) -> Response:
    service = current_service().service_id
    with committing():
        result = complete_for_service(
            body.userId, body.courseId, str(body.paymentId), _actor(), service
        )
    return _answer(result)


@op(internal_bp, "POST", "/enrollments/drop", summary="End access to a course", tag=TAG,
    auth="internal", body=DropBody, response=ServiceEnrollmentReply, errors=ERRORS)  # fmt: skip
def internal_drop_enrollment(body: DropBody) -> Response:
    service = current_service().service_id
    with committing():
        result = drop_for_service(body.userId, body.courseId, body.reason, _actor(), service)
    return _answer(result)
