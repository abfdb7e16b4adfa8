"""Idempotency keys (seed 002): the first response to a key is replayed, another request refused."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app.checkout.models import IdempotencyKey
from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db

KEY_LIFETIME = timedelta(hours=24)


class IdempotencyConflict(DomainError):
    code = "idempotency_key_reused"
    status = 422


def request_hash(fields: dict[str, Any]) -> str:
    """A fingerprint of what a request asked for."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def claim_key(user_id: int, scope: str, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """The key's row and whether this request is its first use.

    The INSERT ... ON CONFLICT waits for a concurrent transaction holding the same key, so
    exactly one request does the work and the others see its stored response.
    """
    if not 8 <= len(key) <= 100:
        raise DomainError("The idempotency key must be 8 to 100 characters.", code="bad_key")
    now = utcnow()
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at < now,
        )
    )
    stmt = (
        insert(IdempotencyKey)
        .values(
            user_id=user_id,
            scope=scope,
            key=key,
            request_hash=fingerprint,
            created_at=now,
            expires_at=now + KEY_LIFETIME,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "scope", "key"])
        .returning(IdempotencyKey.id)
    )
    inserted = db.session.execute(stmt).scalar()
    row = db.session.scalars(
        select(IdempotencyKey)
        .where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
        .execution_options(populate_existing=True)
    ).one()
    if inserted is None and row.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This idempotency key was already used for a different request.", field="key"
        )
    return row, inserted is not None


def store_response(row: IdempotencyKey, status_code: int, response: dict[str, Any]) -> None:
    """Remember the response to replay for the same key."""
    row.status_code = status_code
    row.response = response
