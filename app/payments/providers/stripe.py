"""Stripe Checkout Sessions (hosted page), webhooks verified on the raw body, refunds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import stripe

from app.core.models import utcnow
from app.payments.providers.base import (
    Fact,
    FactStatus,
    InvalidSignature,
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

if TYPE_CHECKING:  # see base.py
    from app.checkout.models import Order
    from app.payments.models import Payment

# Stripe allows a Checkout Session to live between 30 minutes and 24 hours.
MIN_SESSION, MAX_SESSION = timedelta(minutes=30), timedelta(hours=24)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read a field from a StripeObject or a plain dict alike."""
    getter = getattr(obj, "get", None)
    return getter(key, default) if callable(getter) else getattr(obj, key, default)


def session_facts(session: Any) -> PaymentFacts:
    """Our reading of a Checkout Session object."""
    status, payment_status = _get(session, "status"), _get(session, "payment_status")
    if payment_status in ("paid", "no_payment_required"):
        fact = FactStatus.PAID
    elif status == "expired":
        fact = FactStatus.EXPIRED
    else:
        fact = FactStatus.PENDING
    metadata = _get(session, "metadata") or {}
    currency = _get(session, "currency")
    return PaymentFacts(
        status=fact,
        session_id=_get(session, "id"),
        payment_id=_get(session, "payment_intent"),
        amount=_get(session, "amount_total"),
        currency=currency.upper() if currency else None,
        order_token=_get(session, "client_reference_id") or _get(metadata, "order_token"),
    )


class StripeProvider(PaymentProvider):
    name = "stripe"
    label = "Card (Stripe)"

    def __init__(
        self, secret_key: str, webhook_secret: str, api_base: str = "", session_minutes: int = 60
    ) -> None:
        addresses: Any = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(
            secret_key, base_addresses=addresses, max_network_retries=2
        )
        self.webhook_secret = webhook_secret
        self.lifetime = min(max(timedelta(minutes=session_minutes), MIN_SESSION), MAX_SESSION)

    def create_session(
        self, order: Order, payment: Payment, lines: Sequence[LineForProvider], urls: ReturnUrls
    ) -> SessionStart:
        params: Any = {
            "mode": "payment",
            "client_reference_id": order.token,
            "customer_email": order.user.email,
            "success_url": urls.success + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": urls.cancel,
            "expires_at": int((utcnow() + self.lifetime).timestamp()),
            "metadata": {"order_token": order.token, "payment_token": payment.token},
            "payment_intent_data": {"metadata": {"order_token": order.token}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": line.amount,
                        "product_data": {"name": line.title[:250]},
                    },
                }
                for line in lines
                if line.amount > 0
            ],
        }
        key = f"session-{order.token}-{payment.attempt}"
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": key}
            )
        except stripe.StripeError as exc:
            raise ProviderError(
                f"Stripe could not start the payment: {exc.user_message or exc}"
            ) from exc
        return SessionStart(session_id=session.id, redirect_url=session.url or urls.pay_page)

    def pay_page(self, payment: Payment) -> PayPage | None:
        # Stripe hosts the whole checkout: the buyer only needs its address.
        return PayPage.to(payment.checkout_url) if payment.checkout_url else None

    def verify_return(self, params: Mapping[str, str]) -> PaymentFacts | None:
        # The return URL carries only the session id: ask Stripe what it says.
        session_id = params.get("session_id", "")
        if not session_id.startswith("cs_"):
            return None
        try:
            return session_facts(self.client.v1.checkout.sessions.retrieve(session_id))
        except stripe.StripeError:
            return None

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        signature = signature_header(headers, "Stripe-Signature")
        try:
            stripe.WebhookSignature.verify_header(
                raw_body, signature, self.webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature(str(exc)) from exc
        payload = json_object(raw_body)
        return WebhookMessage(event_text(payload, "id"), event_text(payload, "type"), payload)

    def interpret(self, message: WebhookMessage) -> list[Fact]:
        obj = message.payload.get("data", {}).get("object", {})
        kind = message.type
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            return [session_facts(obj)]
        if kind == "checkout.session.async_payment_failed":
            facts = session_facts(obj)
            return [
                PaymentFacts(
                    **{
                        **facts.__dict__,
                        "status": FactStatus.FAILED,
                        "reason": "The payment did not go through.",
                    }
                )
            ]
        if kind == "checkout.session.expired":
            return [session_facts(obj)]
        if kind == "payment_intent.payment_failed":
            error = obj.get("last_payment_error") or {}
            return [
                PaymentFacts(
                    status=FactStatus.FAILED,
                    payment_id=obj.get("id"),
                    order_token=(obj.get("metadata") or {}).get("order_token"),
                    reason=error.get("message") or "The card was declined.",
                )
            ]
        if kind == "charge.refunded":
            return [self._charge_refund(obj)]
        return []

    @staticmethod
    def _charge_refund(charge: dict[str, Any]) -> RefundFacts:
        currency = charge.get("currency")
        payment = PaymentFacts(
            status=FactStatus.PAID,
            payment_id=charge.get("payment_intent"),
            amount=charge.get("amount_captured") or charge.get("amount"),
            currency=currency.upper() if currency else None,
            order_token=(charge.get("metadata") or {}).get("order_token"),
        )
        return RefundFacts(payment=payment, cumulative=int(charge.get("amount_refunded") or 0))

    def fetch_status(self, payment: Payment) -> PaymentFacts:
        if not payment.provider_session_id:
            return PaymentFacts(status=FactStatus.FAILED, reason="No Stripe session was created.")
        try:
            session = self.client.v1.checkout.sessions.retrieve(payment.provider_session_id)
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe could not be asked: {exc}") from exc
        return session_facts(session)

    def cancel_session(self, payment: Payment) -> None:
        # An expired Checkout Session can no longer be paid; one already paid cannot expire.
        if not payment.provider_session_id:
            return
        try:
            self.client.v1.checkout.sessions.expire(payment.provider_session_id)
        except stripe.StripeError as exc:
            raise ProviderError(
                f"Stripe could not cancel the payment: {exc.user_message or exc}"
            ) from exc

    def refund(self, payment: Payment, amount: int, key: str) -> RefundResult:
        params: Any = {
            "payment_intent": payment.provider_payment_id,
            "amount": amount,
            "metadata": {"payment_token": payment.token},
        }
        try:
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": key})
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
        status = refund.status
        return RefundResult(refund.id, succeeded=status == "succeeded", pending=status == "pending")
