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
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
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


class CardOutcome(StrEnum):
    SUCCEEDS = "succeeds"
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    REQUIRES_ACTION = "requires_action"  # a 3-D Secure-like step: a second click pays


@dataclass(frozen=True)
class SandboxCard:
    number: str
    outcome: CardOutcome
    outcome_text: str
    decline_reason: str = ""

    @property
    def spaced(self) -> str:
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


# Like Stripe's test cards; any expiry date and CVC would do, so the page asks for neither.
TEST_CARDS = (
    SandboxCard("4242424242424242", CardOutcome.SUCCEEDS, "Payment succeeds"),
    SandboxCard(
        "4000000000000002",
        CardOutcome.DECLINED,
        "Declined",
        "Your card was declined (test card 4000 0000 0000 0002).",
    ),
    SandboxCard(
        "4000000000009995",
        CardOutcome.INSUFFICIENT_FUNDS,
        "Declined: insufficient funds",
        "Your card has insufficient funds (test card 4000 0000 0000 9995).",
    ),
    SandboxCard(
        "4000002760003184",
        CardOutcome.REQUIRES_ACTION,
        "Asks you to authenticate, then succeeds",
    ),
)
CARDS = {card.number: card for card in TEST_CARDS}
SUCCESS_CARD = TEST_CARDS[0].number
DECLINE_CARD = TEST_CARDS[1].number
AUTH_FAILED = "The card's authentication failed (test card 4000 0027 6000 3184)."


class CardRefused(ValueError):
    """A number the sandbox will not charge: the message is for the card field."""


def luhn_ok(number: str) -> bool:
    """The Luhn checksum every real card number passes (12 to 19 digits)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def find_card(raw: str) -> SandboxCard:
    """The test card a typed number names (spaces and dashes allowed), else CardRefused."""
    digits = "".join(ch for ch in raw if ch not in " -")
    if not digits:
        raise CardRefused("Enter a test card number.")
    if not luhn_ok(digits):
        raise CardRefused("That is not a valid card number: check the digits.")
    card = CARDS.get(digits)
    if card is None:
        raise CardRefused("That is not one of the sandbox's test cards: use one from the table.")
    return card


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


def record_outcome(session: SandboxSession, action: str, card: SandboxCard | None) -> str | None:
    """What the buyer did on the sandbox page; the event kind to deliver, or None if finished.

    `card` is the checked test card for "pay" and "authenticate" (see find_card)."""
    if session.status is not SandboxStatus.OPEN:
        return None
    if action == "cancel":
        session.status = SandboxStatus.CANCELED
        return "payment.canceled"
    reason = _decline_reason(action, card)
    if reason:
        session.status = SandboxStatus.DECLINED
        session.decline_reason = reason
        return "payment.failed"
    if session.expires_at < utcnow():
        session.status = SandboxStatus.EXPIRED
        return "payment.failed"
    session.status = SandboxStatus.PAID
    session.charge_id = f"sbx_ch_{secrets.token_hex(10)}"
    return "payment.succeeded"


def _decline_reason(action: str, card: SandboxCard | None) -> str:
    if action == "decline":
        return CARDS[DECLINE_CARD].decline_reason
    if action == "fail_authentication":
        return AUTH_FAILED
    return card.decline_reason if card is not None else ""
