"""Payments, payment sessions and coupons for apps (issue 14, seed 000 flows 2 and 5, seed 004):

    POST /api/v1/payments                          {courseId, amount, currency, paymentMethod}
    GET  /api/v1/payments/<id>
    POST /api/v1/payments/<id>/verify              {paymentGatewayId, signature?, testCard?}
    POST /api/v1/payments/<id>/refund              {amount?, reason?}
    POST /api/v1/payments/sessions                 {courseId, couponCode?, ...}       (201)
    GET  /api/v1/payments/sessions/<id>
    GET  /api/v1/payments/sessions/stripe/<provider session id>                     (public)
    POST /api/v1/payments/sessions/<id>/cancel
    POST /api/v1/coupons/validate                  {code, courseId, amount?, currency?}
    GET  /api/v1/coupons/active                                                   (admins)

A payment session (seed 004) is one of our payment rows: its id is the payment's id. The
rules (docs/api.md has them for clients):
- The price is the server's. `amount` is the total the app shows (after sales and coupon,
  tax included: what the provider will charge); any other amount orders nothing: 409
  `amount_mismatch` with the server's amount.
- `paymentMethod` names a provider; one without keys here is served by the sandbox in test mode
  (the answer says `provider: "sandbox"`, `testMode: true`); with neither, 422.
- Verify asks the provider about OUR payment; what the app sends is checked, never trusted.
  In test mode the sandbox charges its test card itself on verify (the app has no card page).
- Another user's payment (or session) is not found (404), for refunds too; admins see all.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.wrappers import Response
from sqlalchemy import select

from app.accounts.audit import Actor
from app.accounts.models import Role, User
from app.admin.order_actions import refund_order
from app.api import bp
from app.api.auth import rate_key
from app.api.payment_schemas import (
    CouponsReply,
    CouponValidation,
    CreatePayment,
    CreateSession,
    PaymentReply,
    PaymentVerificationFailed,
    RefundPayment,
    RefundReply,
    SessionEnvelope,
    ValidateCoupon,
    VerifyPayment,
    VerifyReply,
    check_currency,
    exact_amount,
    invalid_field,
    iso,
    major,
)
from app.api.spec import ok
from app.api.spec import operation as op
from app.cart.models import Coupon
from app.cart.services import CouponInvalid, list_active_coupons, quote_course_coupon
from app.checkout.idempotency import request_hash
from app.checkout.models import Order
from app.checkout.queries import load_items
from app.core.errors import NotFound
from app.core.money import Money
from app.core.unit import committing
from app.extensions import db, limiter
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.learning.queries import get_enrollment
from app.payments import services
from app.payments.models import Payment, Refund
from app.payments.providers import (
    in_test_mode,
    provider_for_app,
    providers_for,
    stripe_session_id,
)

PAYMENTS, SESSIONS, COUPONS = "Payments", "Payment sessions", "Coupons"
LIMIT = (limiter.limit("30 per minute", key_func=rate_key, override_defaults=False),)
EXECUTE_REFUND = "app.payments.jobs.execute_refund"


def _own_payment(payment_id: int, user: User) -> tuple[Payment, Order]:
    """The caller's payment and its order (admins: anyone's); 404 otherwise."""
    found = db.session.execute(
        select(Payment, Order)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.id == payment_id)
    ).first()
    if found is None or (found[1].user_id != user.id and not user.is_admin):
        raise NotFound("No payment with this id.", code="PAYMENT_NOT_FOUND")
    return found[0], found[1]


def _payment(payment: Payment, order: Order, requested: str | None = None) -> dict[str, Any]:
    course_ids = [item.course_id for item in load_items(order.id)]
    return {
        "paymentId": payment.id,
        "provider": payment.provider,
        "requestedProvider": requested,
        "testMode": in_test_mode(payment.provider),
        "gatewayOrderId": payment.provider_session_id,
        "gatewayPaymentId": payment.provider_payment_id,
        # Stripe Checkout and Razorpay orders have no client secret: the buyer pays at
        # checkoutUrl (Razorpay's SDKs take clientData).
        "clientSecret": None,
        "clientData": payment.client_data,
        "amount": major(payment.amount_minor, payment.currency),
        "amountMinor": payment.amount_minor,
        "currency": payment.currency,
        "status": payment.status.value,
        "checkoutUrl": payment.checkout_url,
        "orderToken": order.token,
        "orderStatus": order.status.value,
        "courseId": course_ids[0] if course_ids else None,
        "courseIds": course_ids,
        "refunded": major(payment.refunded_minor, payment.currency),
        "refundedMinor": payment.refunded_minor,
        "failureReason": payment.failure_reason,
        "createdAt": iso(payment.created_at),
        "succeededAt": iso(payment.succeeded_at),
    }


def _provider_name(requested: str | None, currency: str) -> str:
    if requested is None:
        offered = providers_for(currency)
        if offered:
            return offered[0].name
    provider = provider_for_app(requested or "")
    if provider is None:
        raise invalid_field("paymentMethod", f"{requested or 'a provider'} is not available here")
    return provider.name


def _purchase(
    user: User, body: CreatePayment | CreateSession, currency: str, expected: Money | None
) -> services.CoursePurchase:
    provider = _provider_name(body.paymentMethod, currency)
    amount = expected.amount if expected else None
    asked = {"course": body.courseId, "currency": currency, "provider": provider,
             "coupon": body.couponCode, "amount": amount}  # fmt: skip
    return services.buy_course(
        user,
        body.courseId,
        provider,
        currency=currency,
        expected=expected,
        key=request.headers.get("Idempotency-Key"),
        fingerprint=request_hash(asked),
        coupon_code=body.couponCode or "",
    )


@op(bp, "POST", "/payments", summary="Buy a course: create its payment", tag=PAYMENTS,
    body=CreatePayment, response=PaymentReply, status=201, errors=(401, 404, 409, 422, 502),
    decorators=LIMIT)  # fmt: skip
def api_create_payment(user: User, body: CreatePayment) -> Response:
    currency = check_currency(body.currency, current_app.config["SUPPORTED_CURRENCIES"])
    expected = exact_amount("amount", currency)
    with committing():
        bought = _purchase(user, body, currency, expected)
    return _purchase_answer(bought, body.paymentMethod)


def _purchase_answer(bought: services.CoursePurchase, requested: str | None) -> Response:
    status = 200 if bought.replayed else 201
    if bought.payment is None:  # a coupon took it all: enrolled now, nothing to pay
        data = {"paymentId": None, "status": "completed", "orderToken": bought.order.token,
                "orderStatus": bought.order.status.value, "amount": 0, "amountMinor": 0,
                "currency": bought.order.currency}  # fmt: skip
        return ok(data, status, replayed=bought.replayed)
    return ok(_payment(bought.payment, bought.order, requested), status, replayed=bought.replayed)


@op(bp, "GET", "/payments/<int:payment_id>", summary="A payment", tag=PAYMENTS,
    response=PaymentReply, errors=(401, 404))  # fmt: skip
def api_get_payment(user: User, payment_id: int) -> Response:
    return ok(_payment(*_own_payment(payment_id, user)))


@op(bp, "POST", "/payments/<int:payment_id>/verify", summary="Verify a payment with its provider",
    tag=PAYMENTS, body=VerifyPayment, response=VerifyReply, errors=(401, 402, 404, 422, 502),
    decorators=LIMIT)  # fmt: skip
def api_verify_payment(user: User, payment_id: int, body: VerifyPayment) -> Response:
    payment, order = _own_payment(payment_id, user)
    if body.testCard and not in_test_mode(payment.provider):
        raise invalid_field("testCard", "only for payments in test mode (the sandbox)")
    with committing():  # a failure is recorded too: it is committed, then answered 402
        checked = services.verify_payment(
            payment, body.paymentGatewayId, body.signature, body.testCard or ""
        )
    if not checked.paid:
        raise PaymentVerificationFailed(
            checked.payment.id, checked.payment.status.value, checked.reason or "Not paid."
        )
    data = _payment(checked.payment, order)
    enrolled = [get_enrollment(order.user_id, course_id) for course_id in data["courseIds"]]
    return ok(
        data
        | {
            "verified": True,
            "gatewayIdMatches": checked.matches(body.paymentGatewayId),
            "enrollmentIds": [e.id for e in enrolled if e is not None],
        }
    )


@op(bp, "POST", "/payments/<int:payment_id>/refund", summary="Refund a payment (in part)",
    tag=PAYMENTS, body=RefundPayment, response=RefundReply, status=202,
    errors=(401, 404, 422), decorators=LIMIT)  # fmt: skip
def api_refund_payment(user: User, payment_id: int, body: RefundPayment) -> Response:
    payment, order = _own_payment(payment_id, user)
    with committing():
        refund, first = _refund(user, payment, order, body)
    data = {"refundId": refund.id, "status": refund.status.value,
            "amount": major(refund.amount_minor, refund.currency),
            "amountMinor": refund.amount_minor, "currency": refund.currency,
            "reason": refund.reason, "paymentId": payment.id, "replayed": not first}  # fmt: skip
    return ok(data, 202 if first else 200)


def _refund(user: User, payment: Payment, order: Order, body: RefundPayment) -> tuple[Refund, bool]:
    """The buyer within the self-service policy; an admin any amount, audited as in the
    console. Either way the one refund job makes it after commit. The request key is the
    Idempotency-Key, else the amount and what was refunded so far: the same request sent twice
    (before the first is made) finds the first refund."""
    amount = exact_amount("amount", payment.currency) if body.amount is not None else None
    minor = amount.amount if amount else None
    key = request.headers.get("Idempotency-Key") or f"{minor or 'all'}:{payment.refunded_minor}"
    if not user.is_admin:
        return services.request_buyer_refund(
            payment, user, minor, body.reason, f"api:{payment.token}:{key[:100]}"
        )
    form_key = f"api-{key[:100]}"
    before = services.find_refund(f"admin:{order.token}:{form_key}"[:200])  # refund_order's key
    if before is not None:
        return before, False
    plan = services.plan_payment_refund(payment, minor)
    actor = Actor(user, "api", request.remote_addr)
    owner = db.session.get(User, order.user_id)
    refund = refund_order(plan, body.reason, form_key, actor, owner.email if owner else "")
    enqueue_after_commit(EXECUTE_REFUND, refund.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY)
    return refund, True


# Seed 004's payment sessions: our payment rows.


def _session(payment: Payment, order: Order) -> dict[str, Any]:
    course_ids = [item.course_id for item in load_items(order.id)]
    enrollment = get_enrollment(order.user_id, course_ids[0]) if course_ids else None
    return {
        "id": payment.id,
        "courseId": course_ids[0] if course_ids else None,
        "userId": order.user_id,
        "status": payment.status.value,
        "provider": payment.provider,
        "amount": order.subtotal_minor - order.sale_discount_minor,
        "discountAmount": order.coupon_discount_minor,
        "finalAmount": payment.amount_minor,
        "amountMinor": payment.amount_minor,
        "currency": payment.currency,
        "couponCode": order.coupon_code,
        "paymentIntentId": payment.provider_payment_id,
        "stripeSessionId": stripe_session_id(payment.provider, payment.provider_session_id),
        "providerSessionId": payment.provider_session_id,
        "enrollmentId": enrollment.id if enrollment and order.is_paid else None,
        "redirectUrl": payment.checkout_url,
        "createdAt": iso(payment.created_at),
        "expiresAt": iso(order.expires_at),
    }


@op(bp, "POST", "/payments/sessions", summary="Create a payment session for a course",
    tag=SESSIONS, body=CreateSession, response=SessionEnvelope, status=201,
    errors=(401, 404, 422, 502), decorators=LIMIT)  # fmt: skip
def api_create_session(user: User, body: CreateSession) -> Response:
    supported = current_app.config["SUPPORTED_CURRENCIES"]
    currency = check_currency(body.currency or current_app.config["DEFAULT_CURRENCY"], supported)
    with committing():
        bought = _purchase(user, body, currency, None)
    if bought.payment is None:
        return _purchase_answer(bought, body.paymentMethod)
    session = _session(bought.payment, bought.order)
    return ok({"session": session}, 200 if bought.replayed else 201,
              redirectUrl=session["redirectUrl"])  # fmt: skip


@op(bp, "GET", "/payments/sessions/<int:session_id>", summary="A payment session", tag=SESSIONS,
    response=SessionEnvelope, errors=(401, 404))  # fmt: skip
def api_get_session(user: User, session_id: int) -> Response:
    return ok({"session": _session(*_own_payment(session_id, user))})


@op(bp, "GET", "/payments/sessions/stripe/<provider_session_id>",
    summary="A payment session by the provider's session id", tag=SESSIONS, auth="optional",
    response=SessionEnvelope, errors=(404,),
    decorators=(
        limiter.limit("60 per minute", key_func=rate_key, override_defaults=False),
    ))  # fmt: skip
def api_session_by_provider_id(user: User | None, provider_session_id: str) -> Response:
    found = db.session.execute(
        select(Payment, Order)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.provider_session_id == provider_session_id[:120])
    ).first()
    if found is None:
        raise NotFound("No payment session with this id.", code="PAYMENT_NOT_FOUND")
    session = _session(found[0], found[1])
    if user is None or (found[1].user_id != user.id and not user.is_admin):
        # Seed 004 serves this without login (a success page): the status, nothing personal.
        public = ("status", "provider", "finalAmount", "currency", "courseId", "stripeSessionId",
                  "providerSessionId")  # fmt: skip
        session = {k: session[k] for k in public}
    return ok({"session": session})


@op(bp, "POST", "/payments/sessions/<int:session_id>/cancel", summary="Cancel a payment session",
    tag=SESSIONS, response=SessionEnvelope, errors=(401, 404, 409, 502))  # fmt: skip
def api_cancel_session(user: User, session_id: int) -> Response:
    payment, order = _own_payment(session_id, user)
    with committing():
        payment = services.cancel_payment(payment)
    return ok({"session": _session(payment, db.session.get(Order, order.id) or order)})


# Seed 004's coupons.


@op(bp, "POST", "/coupons/validate", summary="Check a coupon on a course (nothing is reserved)",
    tag=COUPONS, body=ValidateCoupon, response=CouponValidation, errors=(401, 422),
    decorators=LIMIT)  # fmt: skip
def api_validate_coupon(user: User, body: ValidateCoupon) -> Response:
    supported = current_app.config["SUPPORTED_CURRENCIES"]
    currency = check_currency(body.currency or current_app.config["DEFAULT_CURRENCY"], supported)
    try:
        plain, priced = quote_course_coupon(body.code, body.courseId, currency, user)
    except CouponInvalid as err:
        return ok(_coupon_refused(body, err, currency))
    return ok({"isValid": True, "code": priced.coupon_code or body.code.upper(),
               "discountAmount": priced.coupon_discount, "finalAmount": priced.total,
               "amount": plain.sale_total, "taxAmount": priced.tax_total,
               "currency": currency})  # fmt: skip


def _coupon_refused(body: ValidateCoupon, err: CouponInvalid, currency: str) -> dict[str, Any]:
    return {"isValid": False, "code": body.code.upper(), "discountAmount": 0,
            "finalAmount": None, "amount": None, "taxAmount": 0, "currency": currency,
            "reason": err.reason, "errorCode": err.number, "message": err.message}  # fmt: skip


def _coupon(coupon: Coupon) -> dict[str, Any]:
    percent = coupon.kind.value == "percent"
    return {
        "code": coupon.code,
        "description": coupon.description,
        "discountType": "PERCENTAGE" if percent else "FIXED_AMOUNT",
        "discountValue": coupon.percent_off_bp / 100 if percent else coupon.amount_off_minor,
        "currency": coupon.currency,
        "minimumAmount": coupon.minimum_minor,
        "maximumDiscount": coupon.max_discount_minor,
        "maxUses": coupon.max_uses,
        "currentUses": coupon.uses,
        "validFrom": iso(coupon.valid_from),
        "validUntil": iso(coupon.valid_until),
        "applicableCourses": [c.id for c in coupon.courses],
    }


@op(bp, "GET", "/coupons/active", summary="Coupons usable now (admins)", tag=COUPONS,
    roles=(Role.ADMIN,), response=CouponsReply, errors=(401, 403))  # fmt: skip
def api_active_coupons() -> Response:
    # Coupons have no "public" flag: a code is handed out, so listing them is for admins.
    return ok({"coupons": [_coupon(c) for c in list_active_coupons()]})
