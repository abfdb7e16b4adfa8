"""What every payment provider offers, and the facts it reports in our own words."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.checkout.models import Order
from app.core.errors import DomainError
from app.payments.models import Payment


class InvalidSignature(Exception):
    """A webhook or return whose signature does not verify: never trusted, never stored."""


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
