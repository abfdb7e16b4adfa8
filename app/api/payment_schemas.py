"""Request and response models of the payment, payment-session and coupon endpoints, the
payment-failure error (seed 000) and the money helpers they share.

Money: every reply carries integer minor units and the currency (`amountMinor`); seed 000's
payment fields (`amount`, `refunded`) are major-unit decimals as the seed shows them; seed
004's session and coupon fields (`amount`, `discountAmount`, `finalAmount`) are minor units, as
its comments say ("Amount in cents", `amount: 9900 // $99.00`).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from flask import request
from pydantic import Field

from app.api.spec import Body, InvalidRequest, Reply
from app.core.errors import DomainError
from app.core.money import Money
from app.payments.providers.sandbox import TEST_CARDS

MAX_ID = 2**31 - 1
MAX_AMOUNT = 10**9  # major units: far above any course price, far below int32 minor units
Method = Literal["stripe", "razorpay", "sandbox"]
# The sandbox's test card numbers (the OpenAPI document lists them).
TestCard: Any = Literal[tuple(card.number for card in TEST_CARDS)]


class PaymentVerificationFailed(DomainError):
    """Seed 000's "Payment Failed": 402 with the payment's status and the provider's reason."""

    code = "payment_failed"
    status = 402

    def __init__(self, payment_id: int, payment_status: str, gateway_error: str) -> None:
        super().__init__("Payment verification failed")
        self.payment_id = payment_id
        self.payment_status = payment_status
        self.gateway_error = gateway_error

    def details(self) -> dict[str, object]:
        return {
            "paymentId": self.payment_id,
            "paymentStatus": self.payment_status,
            "gatewayError": self.gateway_error,
        }


def major(amount_minor: int, currency: str) -> int | float:
    """A JSON number in major units with the currency's decimals. The float is only how it is
    written (json writes float("99.99") as 99.99, exactly); arithmetic stays in minor units."""
    value = Money(amount_minor, currency).to_decimal()
    return int(value) if value == value.to_integral_value() else float(value)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def invalid_field(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{name}: {message}", name, [{"field": name, "message": message}])


def exact_amount(name: str, currency: str) -> Money | None:
    """The body's decimal field as written in the JSON text (not through a float), in the
    currency's minor units; more decimals than the currency has are refused (422)."""
    try:
        data = json.loads(request.get_data(cache=True) or b"{}", parse_float=Decimal)
    except ValueError:
        return None  # the body was parsed (and refused) before this
    value = data.get(name) if isinstance(data, dict) else None
    if value is None:
        return None
    try:
        return Money.from_decimal(Decimal(str(value)), currency)
    except (ValueError, InvalidOperation):
        raise invalid_field(name, f"at most the decimals {currency} has") from None


def check_currency(currency: str, supported: tuple[str, ...]) -> str:
    code = currency.upper()
    if code not in supported:
        raise invalid_field("currency", f"one of {', '.join(supported)}")
    return code


# Requests


class CreatePayment(Body):
    courseId: int = Field(ge=1, le=MAX_ID)
    # The total the app shows the buyer (tax included): checked, never used as the price.
    amount: Decimal = Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    paymentMethod: Method | None = None
    couponCode: str | None = Field(default=None, min_length=1, max_length=40)


class VerifyPayment(Body):
    paymentGatewayId: str = Field(default="", max_length=200)
    signature: str = Field(default="", max_length=500)  # Razorpay's checkout signature
    # Test mode only: the sandbox test card to pay with (default: the one that succeeds).
    testCard: TestCard | None = None


class RefundPayment(Body):
    amount: Decimal | None = Field(default=None, gt=0, le=MAX_AMOUNT, allow_inf_nan=False)
    reason: str = Field(default="", max_length=500)


class CreateSession(Body):
    courseId: int = Field(ge=1, le=MAX_ID)
    couponCode: str | None = Field(default=None, min_length=1, max_length=40)
    # Seed 004 sends these; the buyer always comes back to the order page (no open redirect).
    returnUrl: str | None = Field(default=None, max_length=2000)
    cancelUrl: str | None = Field(default=None, max_length=2000)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    paymentMethod: Method | None = None


class ValidateCoupon(Body):
    code: str = Field(min_length=1, max_length=40)
    courseId: int = Field(ge=1, le=MAX_ID)
    amount: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)  # minor units, as in seed 004
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")


# Replies (documentation: the views build dicts)


class PaymentReply(Reply):
    paymentId: int
    provider: str
    requestedProvider: str | None = None
    testMode: bool
    gatewayOrderId: str | None
    gatewayPaymentId: str | None
    clientSecret: str | None
    clientData: dict[str, Any] | None
    amount: float
    amountMinor: int
    currency: str
    status: str
    checkoutUrl: str | None
    orderToken: str
    orderStatus: str
    courseId: int | None
    courseIds: list[int]
    refunded: float
    refundedMinor: int
    failureReason: str | None
    createdAt: str | None
    succeededAt: str | None


class VerifyReply(PaymentReply):
    verified: bool
    gatewayIdMatches: bool | None
    enrollmentIds: list[int]


class RefundReply(Reply):
    refundId: int
    status: str
    amount: float
    amountMinor: int
    currency: str
    reason: str
    paymentId: int
    replayed: bool


class SessionReply(Reply):
    id: int
    courseId: int | None
    userId: int
    status: str
    provider: str
    amount: int
    discountAmount: int
    finalAmount: int
    amountMinor: int
    currency: str
    couponCode: str | None
    paymentIntentId: str | None
    stripeSessionId: str | None
    providerSessionId: str | None
    enrollmentId: int | None
    redirectUrl: str | None
    createdAt: str | None
    expiresAt: str | None


class SessionEnvelope(Reply):
    session: SessionReply


class CouponValidation(Reply):
    isValid: bool
    code: str
    discountAmount: int
    finalAmount: int
    amount: int
    taxAmount: int
    currency: str
    reason: str | None = None
    errorCode: int | None = None
    message: str | None = None


class CouponReply(Reply):
    code: str
    description: str
    discountType: str
    discountValue: float
    currency: str | None
    minimumAmount: int | None
    maximumDiscount: int | None
    maxUses: int | None
    currentUses: int
    validFrom: str | None
    validUntil: str | None
    applicableCourses: list[int]


class CouponsReply(Reply):
    coupons: list[CouponReply]
