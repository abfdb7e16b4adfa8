"""The test-mode provider: a hosted page in our app, signed webhooks, refunds.

It behaves like a real provider: its state lives in its own table, the browser's return
proves nothing (payment is confirmed by its webhook, delivered by a job through the same
ingestion path as Stripe's and Razorpay's), and its events are signed with
`t=<unix>,v1=<HMAC-SHA256(secret, f"{t}.{body}")>` in `X-Sandbox-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.checkout.models import Order
from app.core.models import utcnow
from app.extensions import db
from app.payments.models import Payment, SandboxSession, SandboxStatus
from app.payments.providers.base import (
    Fact,
    FactStatus,
    InvalidSignature,
    LineForProvider,
    PaymentFacts,
    PaymentProvider,
    ProviderError,
    RefundFacts,
    RefundResult,
    ReturnUrls,
    SessionStart,
    WebhookMessage,
    event_text,
    json_object,
    signature_header,
)

TOLERANCE_S = 300
SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
FACT = {
    SandboxStatus.OPEN: FactStatus.PENDING,
    SandboxStatus.PAID: FactStatus.PAID,
    SandboxStatus.DECLINED: FactStatus.FAILED,
    SandboxStatus.CANCELED: FactStatus.CANCELED,
    SandboxStatus.EXPIRED: FactStatus.EXPIRED,
}


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


def session_facts(session: SandboxSession) -> PaymentFacts:
    return PaymentFacts(
        status=FACT[session.status],
        session_id=session.id,
        payment_id=session.charge_id,
        amount=session.amount_minor,
        currency=session.currency,
        order_token=session.order_token,
        reason=session.decline_reason,
    )


def event_body(session: SandboxSession, kind: str, refund: dict[str, Any] | None = None) -> bytes:
    """The JSON body of a sandbox event about the session."""
    event = {
        "id": f"sbx_evt_{secrets.token_hex(12)}",
        "type": kind,
        "created": int(time.time()),
        "data": {
            "session": {
                "id": session.id,
                "status": session.status.value,
                "charge": session.charge_id,
                "amount": session.amount_minor,
                "currency": session.currency,
                "order_token": session.order_token,
                "reason": session.decline_reason,
                "amount_refunded": session.refunded_minor,
            },
            "refund": refund,
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    label = "Test card (sandbox)"

    def __init__(self, webhook_secret: str, session_minutes: int = 60) -> None:
        self.webhook_secret = webhook_secret
        self.lifetime = timedelta(minutes=session_minutes)

    def create_session(
        self, order: Order, payment: Payment, lines: Sequence[LineForProvider], urls: ReturnUrls
    ) -> SessionStart:
        existing = db.session.scalars(
            select(SandboxSession).where(SandboxSession.payment_token == payment.token)
        ).first()
        if existing is not None:  # idempotent per payment attempt
            return SessionStart(existing.id, urls.pay_page.replace("__SESSION__", existing.id))
        session = SandboxSession(
            id=f"sbx_cs_{secrets.token_hex(12)}",
            order_token=order.token,
            payment_token=payment.token,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            title=", ".join(line.title for line in lines)[:300],
            success_url=urls.success,
            cancel_url=urls.cancel,
            expires_at=utcnow() + self.lifetime,
        )
        db.session.add(session)
        db.session.flush()
        return SessionStart(session.id, urls.pay_page.replace("__SESSION__", session.id))

    def verify_return(self, params: Mapping[str, str]) -> PaymentFacts | None:  # noqa: ARG002
        return None  # the sandbox confirms payments only by its signed webhook

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        verify(self.webhook_secret, raw_body, signature_header(headers, "X-Sandbox-Signature"))
        payload = json_object(raw_body)
        return WebhookMessage(event_text(payload, "id"), event_text(payload, "type"), payload)

    def interpret(self, message: WebhookMessage) -> list[Fact]:
        data = message.payload.get("data", {})
        s = data.get("session") or {}
        status = {
            "payment.succeeded": FactStatus.PAID,
            "payment.failed": FactStatus.FAILED,
            "payment.canceled": FactStatus.CANCELED,
            "refund.succeeded": FactStatus.PAID,
        }.get(message.type)
        if status is None:
            return []
        facts = PaymentFacts(
            status=status,
            session_id=s.get("id"),
            payment_id=s.get("charge"),
            amount=s.get("amount"),
            currency=s.get("currency"),
            order_token=s.get("order_token"),
            reason=s.get("reason"),
        )
        if message.type == "refund.succeeded":
            refund = data.get("refund") or {}
            return [
                RefundFacts(payment=facts, refund_id=refund.get("id"), amount=refund.get("amount"))
            ]
        return [facts]

    def fetch_status(self, payment: Payment) -> PaymentFacts:
        session = db.session.get(SandboxSession, payment.provider_session_id or "")
        if session is None:
            return PaymentFacts(status=FactStatus.FAILED, reason="No sandbox session was created.")
        return session_facts(session)

    def refund(self, payment: Payment, amount: int, key: str) -> RefundResult:
        session = db.session.get(
            SandboxSession, payment.provider_session_id or "", with_for_update=True
        )
        if session is None or session.status is not SandboxStatus.PAID:
            raise ProviderError("The sandbox has no captured charge to refund.")
        done = dict(session.refunds)
        if key in done:
            return RefundResult(done[key], succeeded=True)
        if amount <= 0 or session.refunded_minor + amount > session.amount_minor:
            raise ProviderError("The refund is larger than what is left on the charge.")
        refund_id = f"sbx_re_{secrets.token_hex(10)}"
        session.refunded_minor += amount
        session.refunds = {**done, key: refund_id}
        return RefundResult(refund_id, succeeded=True)


def record_outcome(session: SandboxSession, action: str, card: str) -> str | None:
    """What the buyer did on the sandbox page; the event kind to deliver, or None if finished."""
    if session.status is not SandboxStatus.OPEN:
        return None
    digits = "".join(ch for ch in card if ch.isdigit())
    if action == "cancel":
        session.status = SandboxStatus.CANCELED
        return "payment.canceled"
    if action == "decline" or digits == DECLINE_CARD:
        session.status = SandboxStatus.DECLINED
        session.decline_reason = "Your card was declined (test card 4000 0000 0000 0002)."
        return "payment.failed"
    if session.expires_at < utcnow():
        session.status = SandboxStatus.EXPIRED
        return "payment.failed"
    session.status = SandboxStatus.PAID
    session.charge_id = f"sbx_ch_{secrets.token_hex(10)}"
    return "payment.succeeded"
