"""Razorpay Orders API + Standard Checkout (checkout.js on our pay page), webhooks, refunds."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import razorpay
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

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
    header,
    json_object,
    signature_header,
)

if TYPE_CHECKING:  # see base.py
    from app.checkout.models import Order
    from app.payments.models import Payment

PAGE = "payments/razorpay.html"
API_ERRORS = (BadRequestError, GatewayError, ServerError, OSError)
STATUS = {
    "captured": FactStatus.PAID,
    "failed": FactStatus.FAILED,
    "authorized": FactStatus.PENDING,
    "refunded": FactStatus.PAID,  # captured, then (partly) refunded
    "created": FactStatus.PENDING,
}


def payment_facts(entity: Mapping[str, Any], order_token: str | None = None) -> PaymentFacts:
    """Our reading of a Razorpay payment entity."""
    notes = entity.get("notes") or {}
    currency = entity.get("currency")
    return PaymentFacts(
        status=STATUS.get(str(entity.get("status")), FactStatus.PENDING),
        session_id=entity.get("order_id"),
        payment_id=entity.get("id"),
        amount=entity.get("amount"),
        currency=currency.upper() if currency else None,
        order_token=order_token or (notes.get("order_token") if isinstance(notes, dict) else None),
        reason=entity.get("error_description"),
    )


def script_origin(script: str) -> str:
    """The origin checkout.js is loaded from ("" unless it is an http(s) URL)."""
    parts = urlsplit(script)
    ok = parts.scheme in ("https", "http") and parts.netloc  # http: a local double in development
    return f"{parts.scheme}://{parts.netloc}" if ok else ""


def page_policy(script: str) -> str:
    """The CSP of our Razorpay page only: checkout.js, and the frames and styles it needs."""
    origin = script_origin(script)
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {origin}".strip(),
            f"frame-src 'self' https://api.razorpay.com {origin}".strip(),
            "img-src 'self' data: https:",
            "connect-src 'self' https:",
            "style-src 'self' 'unsafe-inline'",
            "form-action 'self' https://api.razorpay.com",
            "base-uri 'self'",
        ]
    )


class RazorpayProvider(PaymentProvider):
    name = "razorpay"
    label = "UPI, cards & netbanking (Razorpay)"

    def __init__(
        self,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        api_base: str = "",
        checkout_js: str = "",
    ) -> None:
        options: dict[str, Any] = {"base_url": api_base} if api_base else {}
        self.client = razorpay.Client(auth=(key_id, key_secret), **options)
        self.key_id = key_id
        self.webhook_secret = webhook_secret
        self.checkout_js = checkout_js

    def create_session(
        self,
        order: Order,
        payment: Payment,
        lines: Sequence[LineForProvider],  # noqa: ARG002 - a Razorpay order is one amount
        urls: ReturnUrls,
    ) -> SessionStart:
        # Creating a Razorpay order moves no money; it is the amount the modal will charge.
        data = {
            "amount": payment.amount_minor,
            "currency": payment.currency,
            "receipt": order.token,
            "notes": {"order_token": order.token, "payment_token": payment.token},
        }
        try:
            rzp_order = self.client.order.create(data)
        except API_ERRORS as exc:
            raise ProviderError(f"Razorpay could not start the payment: {exc}") from exc
        client_data = {
            "key": self.key_id,
            "order_id": rzp_order["id"],
            "amount": payment.amount_minor,
            "currency": payment.currency,
            "callback_url": urls.success,
            "cancel_url": urls.cancel,
            "script": self.checkout_js,
            "prefill": {"email": order.user.email, "name": order.user.name},
        }
        return SessionStart(rzp_order["id"], urls.pay_page, client_data)

    def pay_page(self, payment: Payment) -> PayPage | None:
        # Standard Checkout is a modal opened by checkout.js on a page of ours.
        if not payment.client_data:
            return None
        script = str(payment.client_data.get("script", ""))
        return PayPage.page(PAGE, csp=page_policy(script), payment=payment)

    def verify_return(self, params: Mapping[str, str]) -> PaymentFacts | None:
        needed = ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")
        if not all(params.get(k) for k in needed):
            return None
        try:
            self.client.utility.verify_payment_signature({k: params[k] for k in needed})
        except SignatureVerificationError:
            return None
        try:
            entity = self.client.payment.fetch(params["razorpay_payment_id"])
        except API_ERRORS:
            return None
        return payment_facts(entity)

    def verify_payment(
        self,
        payment: Payment,
        gateway_id: str,
        signature: str,
        test_card: str = "",  # noqa: ARG002 - the sandbox's
    ) -> PaymentFacts | None:
        """With the checkout's signature: checked as the return page does, over OUR Razorpay
        order id (so it proves the payment is this one's), then the payment is fetched. Without
        one: Razorpay is asked about our order's payments."""
        if not signature:
            return self.fetch_status(payment)
        params = {
            "razorpay_order_id": payment.provider_session_id or "",
            "razorpay_payment_id": gateway_id,
            "razorpay_signature": signature,
        }
        return self.verify_return(params)

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        signature = signature_header(headers, "X-Razorpay-Signature")
        body = raw_body.decode("utf-8", errors="replace")
        try:
            self.client.utility.verify_webhook_signature(body, signature, self.webhook_secret)
        except SignatureVerificationError as exc:
            raise InvalidSignature("Razorpay signature mismatch") from exc
        payload = json_object(raw_body)
        # The event id header is not covered by the signature: fulfilment is also idempotent
        # on the payment id, so a forged id can at worst make us process an event again.
        event_id = header(headers, "X-Razorpay-Event-Id") or hashlib.sha256(raw_body).hexdigest()
        return WebhookMessage(event_id, event_text(payload, "event"), payload)

    def interpret(self, message: WebhookMessage) -> list[Fact]:
        payload = message.payload.get("payload", {})
        entity = (payload.get("payment") or {}).get("entity") or {}
        order = (payload.get("order") or {}).get("entity") or {}
        token = order.get("receipt") if order else None
        if message.type in ("payment.captured", "order.paid", "payment.failed"):
            return [payment_facts(entity, token)]
        if message.type == "refund.processed":
            refund = (payload.get("refund") or {}).get("entity") or {}
            facts = payment_facts(entity, token)
            paid = PaymentFacts(**{**facts.__dict__, "status": FactStatus.PAID})
            return [
                RefundFacts(payment=paid, refund_id=refund.get("id"), amount=refund.get("amount"))
            ]
        return []

    def fetch_status(self, payment: Payment) -> PaymentFacts:
        if not payment.provider_session_id:
            return PaymentFacts(status=FactStatus.FAILED, reason="No Razorpay order was created.")
        try:
            items = self.client.order.payments(payment.provider_session_id).get("items", [])
        except API_ERRORS as exc:
            raise ProviderError(f"Razorpay could not be asked: {exc}") from exc
        facts = [payment_facts(item) for item in items]
        for status in (FactStatus.PAID, FactStatus.PENDING, FactStatus.FAILED):
            found = [f for f in facts if f.status is status]
            if found:
                return found[0]
        return PaymentFacts(status=FactStatus.PENDING, session_id=payment.provider_session_id)

    def refund(self, payment: Payment, amount: int, key: str) -> RefundResult:
        data = {"amount": amount, "notes": {"payment_token": payment.token}}
        try:
            refund = self.client.payment.refund(
                payment.provider_payment_id, data, headers={"X-Refund-Idempotency": key}
            )
        except API_ERRORS as exc:
            raise ProviderError(f"Razorpay refused the refund: {exc}") from exc
        status = refund.get("status")
        return RefundResult(
            refund["id"], succeeded=status == "processed", pending=status == "pending"
        )
