"""The sandbox's webhook events: their JSON body and the signature on it.

Events are signed with `t=<unix>,v1=<HMAC-SHA256(secret, f"{t}.{body}")>` in
`X-Sandbox-Signature`, with a secret derived from SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from app.payments.providers.base import InvalidSignature
from app.payments.providers.sandbox.models import SandboxSession

TOLERANCE_S = 300
SIGNATURE_HEADER = "X-Sandbox-Signature"


def webhook_secret(config: Mapping[str, Any]) -> str:
    """The sandbox's webhook secret, derived from SECRET_KEY."""
    key = str(config["SECRET_KEY"]).encode()
    return hmac.new(key, b"sandbox-webhooks", hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-Sandbox-Signature header for a body."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> None:
    """Raise InvalidSignature unless the header signs the body within the tolerance."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed timestamp") from exc
    expected = sign(secret, body, t).split("v1=")[1]
    if not hmac.compare_digest(expected.encode(), parts.get("v1", "").encode()):
        raise InvalidSignature("signature mismatch")
    if abs((now or time.time()) - t) > TOLERANCE_S:
        raise InvalidSignature("timestamp outside the tolerance")


def event_payload(
    session: SandboxSession,
    kind: str,
    refund: dict[str, Any] | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A sandbox event about the session, as the sandbox sends it (`created`: Unix seconds)."""
    return {
        "id": f"sbx_evt_{secrets.token_hex(12)}",
        "type": kind,
        "created": int(time.time()) if created is None else created,
        "data": {
            "session": {
                "id": session.id,
                "status": session.status.value,
                "charge": session.charge_id,
                "amount": session.amount_minor,
                "currency": session.currency,
                "order_token": session.order_token,
                "reason": session.decline_reason,
                "amount_refunded": session.refunded_minor or 0,  # None before the first flush
            },
            "refund": refund,
        },
    }


def event_body(session: SandboxSession, kind: str, refund: dict[str, Any] | None = None) -> bytes:
    """The JSON body of a sandbox event about the session."""
    return json.dumps(event_payload(session, kind, refund), separators=(",", ":")).encode()
