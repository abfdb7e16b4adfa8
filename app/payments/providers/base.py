"""What every payment provider offers, and the facts it reports in our own words."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.core.errors import DomainError

if TYPE_CHECKING:  # only named in signatures: app.payments.models imports the sandbox's table
    from app.checkout.models import Order
    from app.payments.models import Payment


class InvalidSignature(Exception):
    """A webhook or return whose signature does not verify: never trusted, never stored."""


class MalformedWebhook(InvalidSignature):
    """A webhook body we cannot store as an event (not a JSON object, a bad id or type):
    refused like a bad signature, with nothing stored."""


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value by case-insensitive name (a plain dict of headers is case-sensitive)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def signature_header(headers: Mapping[str, str], name: str) -> str:
    """The signature header's value; a signature is hex or base64, so non-ASCII never verifies
    (and `hmac.compare_digest` would raise TypeError on such a str)."""
    value = header(headers, name)
    if not value.isascii():
        raise InvalidSignature(f"{name} is not ASCII")
    return value


def json_object(raw_body: bytes) -> dict[str, Any]:
    """The verified body as a JSON object, or MalformedWebhook."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        raise MalformedWebhook("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedWebhook("the body is not a JSON object")
    return payload


def event_text(payload: Mapping[str, Any], key: str) -> str:
    """A string field naming the event (its id or type), or MalformedWebhook."""
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedWebhook(f"the event's {key!r} is not a non-empty string")
    return value


class ProviderError(DomainError):
    """The provider refused or could not be reached."""

    code = "provider_error"
    status = 502


class FactStatus(StrEnum):
    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PaymentFacts:
    """What the provider says about one payment attempt (amounts in minor units)."""

    status: FactStatus
    session_id: str | None = None
    payment_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    order_token: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RefundFacts:
    """A refund the provider made, with the payment it belongs to.

    `cumulative` is the total refunded on that payment so far, for providers whose events
    report the running total instead of each refund.
    """

    payment: PaymentFacts
    refund_id: str | None = None
    amount: int | None = None
    cumulative: int | None = None


@dataclass(frozen=True)
class WebhookMessage:
    event_id: str
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SessionStart:
    session_id: str
    redirect_url: str
    client_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    succeeded: bool
    pending: bool = False


@dataclass(frozen=True)
class LineForProvider:
    title: str
    amount: int


@dataclass(frozen=True)
class ReturnUrls:
    success: str
    cancel: str
    pay_page: str


@dataclass(frozen=True)
class PayPage:
    """Where the buyer pays: the provider's own page (a redirect), or a page of ours.

    A page of ours is a template and its context; `csp`, when set, replaces the site's
    Content-Security-Policy on that page only (a provider's script, frames and styles).
    The pay view turns it into a response: providers never touch the request.
    """

    redirect: str | None = None
    template: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    csp: str | None = None

    def __post_init__(self) -> None:
        if (self.redirect is None) == (self.template is None):
            raise ValueError("A pay page is a redirect or a page of ours, exactly one of them.")

    @classmethod
    def to(cls, url: str) -> PayPage:
        return cls(redirect=url)

    @classmethod
    def page(cls, template: str, csp: str | None = None, **context: Any) -> PayPage:
        return cls(template=template, context=context, csp=csp)


Fact = PaymentFacts | RefundFacts


class PaymentProvider(ABC):
    name: str
    label: str

    @abstractmethod
    def create_session(
        self, order: Order, payment: Payment, lines: Sequence[LineForProvider], urls: ReturnUrls
    ) -> SessionStart:
        """Open a hosted payment for the payment's amount; idempotent per payment attempt."""

    @abstractmethod
    def pay_page(self, payment: Payment) -> PayPage | None:
        """Where the buyer pays this payment; None when it has nothing to pay on (no session)."""

    @abstractmethod
    def verify_return(self, params: Mapping[str, str]) -> PaymentFacts | None:
        """Facts proven by the buyer's return, or None when the return proves nothing."""

    @abstractmethod
    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        """Verify the signature on the raw body and name the event; InvalidSignature if not."""

    @abstractmethod
    def interpret(self, message: WebhookMessage) -> list[Fact]:
        """What a (verified, stored) event tells us; empty for events we do not act on."""

    @abstractmethod
    def fetch_status(self, payment: Payment) -> PaymentFacts:
        """Ask the provider where a payment stands (for reconciliation)."""

    @abstractmethod
    def refund(self, payment: Payment, amount: int, key: str) -> RefundResult:
        """Refund part or all of a captured payment; the same key never refunds twice."""

    def verify_payment(
        self,
        payment: Payment,
        gateway_id: str,  # noqa: ARG002 - the client's id: checked by the caller, never trusted
        signature: str,  # noqa: ARG002 - only providers whose checkout signs its result use it
        test_card: str = "",  # noqa: ARG002 - the sandbox's test card (test mode only)
    ) -> PaymentFacts | None:
        """An app asks us to verify a payment (seed 000's verify call): what the provider says
        about it, or None when what the app brought proves nothing (a bad signature).

        By default the provider is asked directly, as reconciliation does."""
        return self.fetch_status(payment)

    def cancel_session(self, payment: Payment) -> None:  # noqa: B027 - optional, no-op default
        """Stop the payment's session from taking money, where the provider can; by default
        nothing (the session expires by itself, and a late payment is still honoured)."""
