"""The test-mode provider: a hosted page in our app, signed webhooks, refunds.

It behaves like a real provider: its state lives in its own table (models.py), the browser's
return proves nothing (payment is confirmed by its webhook, stored through the same ingestion
path as Stripe's and Razorpay's: hosted.py), its events are signed (events.py) and it takes
only the documented test cards (cards.py). Its pages are served by views.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.models import utcnow
from app.extensions import db
from app.payments.providers.base import (
    Fact,
    FactStatus,
    LineForProvider,
    PaymentFacts,
    PaymentProvider,
    PayPage,
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
from app.payments.providers.sandbox.cards import (
    AUTH_FAILED,
    CARDS,
    CHALLENGE_CARD,
    DECLINE_CARD,
    SUCCESS_CARD,
    TEST_CARDS,
    CardOutcome,
    CardRefused,
    SandboxCard,
    find_card,
    luhn_ok,
)
from app.payments.providers.sandbox.events import (
    SIGNATURE_HEADER,
    TOLERANCE_S,
    event_body,
    sign,
    verify,
    webhook_secret,
)
from app.payments.providers.sandbox.models import SandboxSession, SandboxStatus, get_session

if TYPE_CHECKING:  # see base.py
    from app.checkout.models import Order
    from app.payments.models import Payment

__all__ = [
    "AUTH_FAILED",
    "CARDS",
    "CHALLENGE_CARD",
    "DECLINE_CARD",
    "SUCCESS_CARD",
    "TEST_CARDS",
    "TOLERANCE_S",
    "CardOutcome",
    "CardRefused",
    "SandboxCard",
    "SandboxProvider",
    "SandboxSession",
    "SandboxStatus",
    "enabled",
    "event_body",
    "find_card",
    "from_config",
    "hosted_page",
    "luhn_ok",
    "sign",
    "verify",
    "webhook_secret",
]

PAGE = "payments/sandbox/pay.html"
PREFILLED = TEST_CARDS[0].spaced  # the page opens with the card that pays
FACT = {
    SandboxStatus.OPEN: FactStatus.PENDING,
    SandboxStatus.PAID: FactStatus.PAID,
    SandboxStatus.DECLINED: FactStatus.FAILED,
    SandboxStatus.CANCELED: FactStatus.CANCELED,
    SandboxStatus.EXPIRED: FactStatus.EXPIRED,
}
EVENT_STATUS = {
    "payment.succeeded": FactStatus.PAID,
    "payment.failed": FactStatus.FAILED,
    "payment.canceled": FactStatus.CANCELED,
    "refund.succeeded": FactStatus.PAID,
}


def enabled(config: Mapping[str, Any]) -> bool:
    """Test mode: when asked, or when no provider has keys; never in production."""
    if config["APP_ENV"] == "production":
        return False
    setting = config["SANDBOX_PAYMENTS"]
    if setting in ("on", "off"):
        return bool(setting == "on")
    return not (config["STRIPE_SECRET_KEY"] or config["RAZORPAY_KEY_ID"])


def from_config(config: Mapping[str, Any]) -> SandboxProvider | None:
    """The sandbox, when test mode is on."""
    if not enabled(config):
        return None
    return SandboxProvider(webhook_secret(config), config["PAYMENT_SESSION_MINUTES"])


def hosted_page(
    session: SandboxSession, payment: Payment, card: str = "", errors: Sequence[str] = ()
) -> PayPage:
    """The hosted page: the card field (with what was typed and why it was refused), the table."""
    return PayPage.page(
        PAGE, session=session, payment=payment, cards=TEST_CARDS, card=card, card_errors=errors
    )


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

    def pay_page(self, payment: Payment) -> PayPage | None:
        session = get_session(payment.provider_session_id)
        return hosted_page(session, payment, card=PREFILLED) if session else None

    def verify_return(self, params: Mapping[str, str]) -> PaymentFacts | None:  # noqa: ARG002
        return None  # the sandbox confirms payments only by its signed webhook

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        verify(self.webhook_secret, raw_body, signature_header(headers, SIGNATURE_HEADER))
        payload = json_object(raw_body)
        return WebhookMessage(event_text(payload, "id"), event_text(payload, "type"), payload)

    def interpret(self, message: WebhookMessage) -> list[Fact]:
        data = message.payload.get("data", {})
        s = data.get("session") or {}
        status = EVENT_STATUS.get(message.type)
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
        session = get_session(payment.provider_session_id)
        if session is None:
            return PaymentFacts(status=FactStatus.FAILED, reason="No sandbox session was created.")
        return session_facts(session)

    def verify_payment(
        self,
        payment: Payment,
        gateway_id: str,  # noqa: ARG002 - reported against the charge by the caller
        signature: str,  # noqa: ARG002 - the sandbox signs its events, not its checkout
        test_card: str = "",
    ) -> PaymentFacts | None:
        """Test mode has no buyer's page in an app: an open session is paid with the test card
        (the one that succeeds unless another is named) by the sandbox itself, then reported
        as it stands; a finished one is only reported."""
        from app.payments.providers.sandbox.hosted import pay_in_test_mode  # uses the services

        session = get_session(payment.provider_session_id, lock=True)
        if session is None:
            return PaymentFacts(status=FactStatus.FAILED, reason="No sandbox session was created.")
        if session.is_open:
            pay_in_test_mode(session, test_card or SUCCESS_CARD)
        return session_facts(session)

    def cancel_session(self, payment: Payment) -> None:
        session = get_session(payment.provider_session_id, lock=True)
        if session is not None and session.is_open:
            session.status = SandboxStatus.CANCELED

    def refund(self, payment: Payment, amount: int, key: str) -> RefundResult:
        session = get_session(payment.provider_session_id, lock=True)
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
