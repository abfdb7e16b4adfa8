"""A local Razorpay the real `razorpay` SDK can talk to over HTTP (in-memory, thread-safe).

Mirrors Razorpay's REST API v1: JSON bodies, HTTP Basic auth with `key_id:key_secret`,
errors as `{"error": {"code": "BAD_REQUEST_ERROR", "description", "field", ...}}`, unknown ids
answered with 400 "The id provided does not exist", and two quirks code must survive:
empty `notes` come back as `[]`, and a fully refunded payment has status "refunded".
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import string
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

# Shared plumbing (served WSGI app, request records) lives with the Stripe double.
from tests.fakes.stripe_double import RecordedRequest, WsgiDouble

_ALPHABET = string.ascii_letters + string.digits
CURRENCIES = frozenset((
    "INR", "USD", "EUR", "GBP", "SGD", "AED", "AUD", "CAD", "CHF", "CNY", "DKK", "HKD",
    "JPY", "MYR", "NOK", "NZD", "QAR", "SAR", "SEK", "THB", "ZAR",
))  # fmt: skip
ORDER_FIELDS = frozenset((
    "amount", "currency", "receipt", "notes", "partial_payment", "first_payment_min_amount",
    "payment_capture", "payment", "method", "offer_id", "discount", "bank_account",
    "customer_id", "token", "transfers", "line_items_total", "line_items", "promotions",
    "shipping_fee", "cod_fee", "customer_details", "device_details", "rto_review",
))  # fmt: skip
REFUND_FIELDS = frozenset({"amount", "speed", "notes", "receipt"})
CAPTURE_FIELDS = frozenset({"amount", "currency"})
MINIMUM_AMOUNT = 100  # one rupee (or one unit of the currency), in the smallest unit


def razorpay_id(prefix: str) -> str:
    """Razorpay's ids: a prefix and 14 base62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


class RazorpayApiError(Exception):
    """An error as Razorpay returns it."""

    def __init__(self, status: int, description: str, field: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.field = field

    def body(self) -> dict[str, Any]:
        """`{"error": {"code", "description", "source", "step", "reason", "metadata", "field"}}`."""
        error: dict[str, Any] = {
            "code": "BAD_REQUEST_ERROR",
            "description": self.description,
            "source": "business" if self.status == 400 else "NA",
            "step": "payment_initiation" if self.status == 400 else "NA",
            "reason": "input_validation_failed" if self.status == 400 else "NA",
            "metadata": {},
        }
        if self.field:
            error["field"] = self.field
        return {"error": error}


def _not_found() -> RazorpayApiError:
    return RazorpayApiError(400, "The id provided does not exist", "id")


def _amount(value: Any, currency: str, field: str = "amount") -> int:
    """A positive integer in the currency's smallest unit, at least one unit."""
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isdigit())
    ):
        raise RazorpayApiError(400, f"The {field} must be an integer.", field)
    amount = int(value)
    if amount < MINIMUM_AMOUNT:
        raise RazorpayApiError(400, f"The {field} must be atleast {currency} 1.00", field)
    return amount


def _notes(value: Any) -> dict[str, Any] | list[Any]:
    """Up to 15 key-value pairs of at most 256 characters; empty notes are stored as `[]`."""
    if value is None or value == [] or value == {}:
        return []
    if not isinstance(value, dict):
        raise RazorpayApiError(400, "The notes must be an array.", "notes")
    if len(value) > 15:
        raise RazorpayApiError(400, "Number of notes cannot exceed 15", "notes")
    for key, item in value.items():
        if len(str(item)) > 256:
            raise RazorpayApiError(400, "Notes value length should not exceed 256", f"notes.{key}")
    return dict(value)


def _receipt(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RazorpayApiError(400, "The receipt must be a string.", "receipt")
    if len(value) > 40:
        raise RazorpayApiError(400, "The receipt may not be greater than 40 characters.", "receipt")
    return value


def _only(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Razorpay refuses fields an endpoint does not take."""
    extra = sorted(set(data) - allowed)
    if extra:
        raise RazorpayApiError(
            400, f"{', '.join(extra)} is/are not required and should not be sent", extra[0]
        )


def _collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"entity": "collection", "count": len(items), "items": items}


class RazorpayDouble(WsgiDouble):
    """Razorpay's Orders, Payments and Refunds APIs, plus helpers standing in for checkout.js."""

    def __init__(
        self, key_id: str = "rzp_test_coursefront", key_secret: str = "double_key_secret"
    ) -> None:
        super().__init__()
        self.key_id = key_id
        self.key_secret = key_secret
        self.account_id = razorpay_id("acc_")
        self._orders: dict[str, dict[str, Any]] = {}
        self._payments: dict[str, dict[str, Any]] = {}
        self._refunds: dict[str, dict[str, Any]] = {}
        self._refund_keys: dict[str, tuple[str, dict[str, Any], str]] = {}
        self._routes = Map(
            [
                Rule("/v1/orders", methods=["POST"], endpoint="create_order"),
                Rule("/v1/orders", methods=["GET"], endpoint="list_orders"),
                Rule("/v1/orders/<id>", methods=["GET"], endpoint="fetch_order"),
                Rule("/v1/orders/<id>/payments", methods=["GET"], endpoint="order_payments"),
                Rule("/v1/payments/<id>", methods=["GET"], endpoint="fetch_payment"),
                Rule("/v1/payments/<id>/capture", methods=["POST"], endpoint="capture"),
                Rule("/v1/payments/<id>/refund", methods=["POST"], endpoint="refund"),
                Rule("/v1/payments/<id>/refunds", methods=["GET"], endpoint="payment_refunds"),
                Rule("/v1/refunds/<id>", methods=["GET"], endpoint="fetch_refund"),
            ]
        )

    def reset(self) -> None:
        """Forget every order, payment, refund, idempotency key and recorded request."""
        with self._lock:
            for store in (self._orders, self._payments, self._refunds, self._refund_keys):
                store.clear()
            self.requests.clear()

    # ---- WSGI ------------------------------------------------------------------------------

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Authenticate, parse the JSON body (or query), dispatch, record."""
        request = Request(environ)
        params: dict[str, Any] = {}
        try:
            self._authenticate(request)
            params = self._parse(request)
            endpoint, args = self._routes.bind("localhost").match(
                request.path, method=request.method
            )
            handler: Callable[..., tuple[int, dict[str, Any]]] = getattr(self, f"_api_{endpoint}")
            status, body = handler(request, params, **args)
        except RazorpayApiError as exc:
            status, body = exc.status, exc.body()
        except HTTPException as exc:  # no such route / method
            status = exc.code or 404
            body = {
                "error": {
                    "code": "BAD_REQUEST_ERROR",
                    "description": "The requested URL was not found on the server.",
                }
            }
        key = request.headers.get("X-Refund-Idempotency")
        self._record(RecordedRequest(request.method, request.path, params, key, status))
        response = Response(json.dumps(body), status, content_type="application/json")
        return response(environ, start_response)

    def _authenticate(self, request: Request) -> None:
        """HTTP Basic auth with the API key id and secret."""
        auth = request.authorization
        ok = (
            auth is not None
            and auth.type == "basic"
            and hmac.compare_digest(auth.username or "", self.key_id)
            and hmac.compare_digest(auth.password or "", self.key_secret)
        )
        if not ok:
            raise RazorpayApiError(401, "Authentication failed")

    @staticmethod
    def _parse(request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.args)
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise RazorpayApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise RazorpayApiError(400, "The request body must be a JSON object.")
        return data

    def _get(self, store: dict[str, dict[str, Any]], entity_id: str) -> dict[str, Any]:
        found = store.get(entity_id)
        if found is None:
            raise _not_found()
        return found

    # ---- Orders ----------------------------------------------------------------------------

    def _api_create_order(
        self, request: Request, data: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """POST /v1/orders {amount, currency, receipt, notes}."""
        _only(data, ORDER_FIELDS)
        if data.get("amount") is None:
            raise RazorpayApiError(400, "The amount field is required.", "amount")
        currency = data.get("currency")
        if not currency:
            raise RazorpayApiError(400, "The currency field is required.", "currency")
        if currency not in CURRENCIES:
            raise RazorpayApiError(400, "The selected currency is invalid.", "currency")
        amount = _amount(data["amount"], currency)
        order = {
            "id": razorpay_id("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": _receipt(data.get("receipt")),
            "offer_id": data.get("offer_id"),
            "status": "created",
            "attempts": 0,
            "notes": _notes(data.get("notes")),
            "created_at": int(time.time()),
        }
        with self._lock:
            self._orders[order["id"]] = order
            return 200, copy.deepcopy(order)

    def _api_list_orders(
        self, request: Request, query: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/orders?count=&skip=&receipt= (newest first)."""
        count, skip = int(query.get("count", 10)), int(query.get("skip", 0))
        with self._lock:
            orders = sorted(self._orders.values(), key=lambda o: o["created_at"], reverse=True)
            if query.get("receipt"):
                orders = [o for o in orders if o["receipt"] == query["receipt"]]
            return 200, _collection(copy.deepcopy(orders[skip : skip + count]))

    def _api_fetch_order(
        self,
        request: Request,
        query: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/orders/{id}."""
        with self._lock:
            return 200, copy.deepcopy(self._get(self._orders, id))

    def _api_order_payments(
        self,
        request: Request,
        query: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/orders/{id}/payments: every attempt on the order, newest first."""
        with self._lock:
            self._get(self._orders, id)
            items = [p for p in self._payments.values() if p["order_id"] == id]
            return 200, _collection(copy.deepcopy(items[::-1]))

    # ---- Payments --------------------------------------------------------------------------

    def _api_fetch_payment(
        self,
        request: Request,
        query: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/payments/{id}."""
        with self._lock:
            return 200, copy.deepcopy(self._get(self._payments, id))

    def _api_capture(
        self,
        request: Request,
        data: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """POST /v1/payments/{id}/capture {amount, currency}: capture an authorized payment."""
        _only(data, CAPTURE_FIELDS)
        with self._lock:
            payment = self._get(self._payments, id)
            if payment["status"] != "authorized":
                raise RazorpayApiError(400, "This payment has already been captured", "id")
            if data.get("amount") is None:
                raise RazorpayApiError(400, "The amount field is required.", "amount")
            if _amount(data["amount"], payment["currency"]) != payment["amount"]:
                raise RazorpayApiError(
                    400, "Capture amount must be equal to the amount authorized", "amount"
                )
            if data.get("currency", payment["currency"]) != payment["currency"]:
                raise RazorpayApiError(
                    400, "The currency should be same as payment currency", "currency"
                )
            self._capture(payment)
            return 200, copy.deepcopy(payment)

    def _capture(self, payment: dict[str, Any]) -> None:
        fee = payment["amount"] * 2 // 100
        payment.update(
            status="captured", captured=True, fee=fee + fee * 18 // 100, tax=fee * 18 // 100
        )
        order = self._orders[payment["order_id"]]
        order.update(status="paid", amount_paid=order["amount"], amount_due=0)

    # ---- Refunds ---------------------------------------------------------------------------

    def _api_refund(
        self,
        request: Request,
        data: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """POST /v1/payments/{id}/refund {amount, speed, notes, receipt}.

        Honours `X-Refund-Idempotency`: the same key and body return the same refund; the same
        key with another request is refused.
        """
        key = request.headers.get("X-Refund-Idempotency")
        with self._lock:
            if key:
                seen = self._refund_keys.get(key)
                if seen is not None:
                    if seen[:2] != (id, data):
                        raise RazorpayApiError(
                            400,
                            "Different request with the same idempotency key has already "
                            "been processed.",
                        )
                    return 200, copy.deepcopy(self._refunds[seen[2]])
            refund = self._refund(id, data)
            if key:
                self._refund_keys[key] = (id, copy.deepcopy(data), refund["id"])
            return 200, copy.deepcopy(refund)

    def _refund(self, payment_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and apply a refund (the lock is held)."""
        _only(data, REFUND_FIELDS)
        payment = self._get(self._payments, payment_id)
        if payment["refund_status"] == "full":
            raise RazorpayApiError(400, "The payment has been fully refunded already", "id")
        if payment["status"] != "captured":
            raise RazorpayApiError(
                400, "The payment status should be captured for action to be taken", "id"
            )
        left = payment["amount"] - payment["amount_refunded"]
        amount = left
        if data.get("amount") is not None:
            amount = _amount(data["amount"], payment["currency"])
        if amount > left:
            raise RazorpayApiError(
                400, "The refund amount provided is greater than amount captured", "amount"
            )
        speed = data.get("speed", "normal")
        if speed not in ("normal", "optimum"):
            raise RazorpayApiError(400, "The selected speed is invalid.", "speed")
        refund = {
            "id": razorpay_id("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment_id,
            "notes": _notes(data.get("notes")),
            "receipt": _receipt(data.get("receipt")),
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": "processed",
            "speed_processed": "instant" if speed == "optimum" else "normal",
            "speed_requested": speed,
        }
        self._refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        full = payment["amount_refunded"] == payment["amount"]
        payment["refund_status"] = "full" if full else "partial"
        if full:
            payment["status"] = "refunded"
        return refund

    def _api_payment_refunds(
        self,
        request: Request,
        query: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/payments/{id}/refunds."""
        with self._lock:
            self._get(self._payments, id)
            items = [r for r in self._refunds.values() if r["payment_id"] == id]
            return 200, _collection(copy.deepcopy(items[::-1]))

    def _api_fetch_refund(
        self,
        request: Request,
        query: dict[str, Any],
        id: str,
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/refunds/{id}."""
        with self._lock:
            return 200, copy.deepcopy(self._get(self._refunds, id))

    # ---- test helpers ----------------------------------------------------------------------

    def pay_order(
        self,
        order_id: str,
        captured: bool = True,
        *,
        authorized_only: bool = False,
        email: str = "customer@example.com",
        contact: str = "+919900000000",
        notes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The customer pays in the checkout.js modal; returns the payment entity.

        `captured`: the payment is captured and the order becomes "paid". Not `captured`: the
        payment failed and the order is "attempted". `authorized_only`: the payment is
        authorized but not captured yet (capture it through the API).
        """
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise ValueError(f"No such order: {order_id}")
            if order["status"] == "paid":
                raise ValueError(f"{order_id} is already paid")
            failed = not captured and not authorized_only
            payment: dict[str, Any] = {
                "id": razorpay_id("pay_"),
                "entity": "payment",
                "amount": order["amount"],
                "currency": order["currency"],
                "status": "failed" if failed else "authorized",
                "order_id": order_id,
                "invoice_id": None,
                "international": False,
                "method": "card",
                "amount_refunded": 0,
                "refund_status": None,
                "captured": False,
                "description": None,
                "card_id": razorpay_id("card_"),
                "bank": None,
                "wallet": None,
                "vpa": None,
                "email": email,
                "contact": contact,
                "notes": _notes(dict(notes) if notes else None),
                "fee": None,
                "tax": None,
                "error_code": "BAD_REQUEST_ERROR" if failed else None,
                "error_description": (
                    "Your payment didn't go through as it was declined by the bank. "
                    "Try another payment method or contact your bank."
                    if failed
                    else None
                ),
                "error_source": "bank" if failed else None,
                "error_step": "payment_authorization" if failed else None,
                "error_reason": "payment_failed" if failed else None,
                "acquirer_data": {"auth_code": None if failed else "828553"},
                "created_at": int(time.time()),
            }
            self._payments[payment["id"]] = payment
            order["attempts"] += 1
            order["status"] = "attempted"
            if captured and not authorized_only:
                self._capture(payment)
            return copy.deepcopy(payment)

    @staticmethod
    def checkout_signature(order_id: str, payment_id: str, key_secret: str) -> str:
        """What Standard Checkout hands back as `razorpay_signature`."""
        message = f"{order_id}|{payment_id}".encode()
        return hmac.new(key_secret.encode(), message, hashlib.sha256).hexdigest()

    def refund_from_dashboard(self, payment_id: str, amount: int | None = None) -> dict[str, Any]:
        """A refund made in the Razorpay dashboard; returns the refund entity."""
        data = {} if amount is None else {"amount": amount}
        with self._lock:
            try:
                return copy.deepcopy(self._refund(payment_id, data))
            except RazorpayApiError as exc:
                raise ValueError(exc.description) from exc

    def order(self, order_id: str) -> dict[str, Any]:
        """The current order entity (a copy)."""
        with self._lock:
            return copy.deepcopy(self._orders[order_id])

    def payment(self, payment_id: str) -> dict[str, Any]:
        """The current payment entity (a copy)."""
        with self._lock:
            return copy.deepcopy(self._payments[payment_id])

    def signed_webhook(
        self,
        event: str,
        entities: Mapping[str, Mapping[str, Any]],
        secret: str,
        event_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery: the event body and its `X-Razorpay-Signature` headers.

        `entities` maps "payment" / "order" / "refund" to entity dicts; the signature is the hex
        HMAC-SHA256 of the raw body with the webhook secret.
        """
        body = json.dumps(
            {
                "entity": "event",
                "account_id": self.account_id,
                "event": event,
                "contains": list(entities),
                "payload": {name: {"entity": dict(obj)} for name, obj in entities.items()},
                "created_at": int(time.time()),
            }
        ).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": signature,
            "x-razorpay-event-id": event_id or razorpay_id(""),
        }
        return body, headers
