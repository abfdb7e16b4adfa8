"""Mux's webhooks through the payments' verified inbox: not a payment provider (it is never
offered at checkout), only a source of signed events about videos, handled by app/media."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.media import mux, mux_events
from app.payments.providers.base import (
    InvalidSignature,
    MalformedWebhook,
    WebhookMessage,
    event_text,
    signature_header,
)


class MuxWebhooks:
    name = mux_events.PROVIDER

    def __init__(self, secret: str, tolerance_s: int) -> None:
        self.secret = secret
        self.tolerance_s = tolerance_s

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        """Verify `Mux-Signature` on the raw body and name the event (its `id` and `type`)."""
        signature = signature_header(headers, "Mux-Signature")
        try:
            mux.verify_webhook(self.secret, raw_body, signature, self.tolerance_s)
        except mux.BadSignature as exc:
            raise InvalidSignature(str(exc)) from exc
        try:
            payload = mux.parse_event(raw_body)
        except (ValueError, RecursionError) as exc:
            raise MalformedWebhook("the body is not a JSON object") from exc
        return WebhookMessage(event_text(payload, "id"), event_text(payload, "type"), payload)

    @staticmethod
    def process(message: WebhookMessage) -> bool:
        """Apply a stored event to its video; False when it is not about one of ours."""
        return mux_events.apply_event(message.type, message.payload)


def from_config(cfg: Mapping[str, Any]) -> MuxWebhooks | None:
    """Mux's inbox when Mux is configured (its events are refused as unknown otherwise)."""
    if not (mux.is_configured(cfg) and cfg.get("MUX_WEBHOOK_SECRET")):
        return None
    return MuxWebhooks(cfg["MUX_WEBHOOK_SECRET"], int(cfg["MUX_WEBHOOK_TOLERANCE_SECONDS"]))
