"""The Stripe and Razorpay doubles, driven only through the real SDKs."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
import razorpay
import stripe
from razorpay.errors import BadRequestError, SignatureVerificationError

from tests.fakes.razorpay_double import RazorpayDouble
from tests.fakes.stripe_double import StripeDouble, flatten_form, parse_form

WEBHOOK_SECRET = "whsec_test_double"


def _key() -> str:
    return f"test-{uuid.uuid4()}"


def error_body(exc: stripe.StripeError) -> dict[str, Any]:
    """The `error` object of the JSON body Stripe (here: the double) answered with."""
    assert isinstance(exc.json_body, dict)
    error: dict[str, Any] = exc.json_body["error"]
    return error


# ---- Stripe ------------------------------------------------------------------------------


@pytest.fixture
def stripe_client(stripe_double: StripeDouble) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_double.url})


def session_params(**overrides: Any) -> Any:
    """Checkout Session params like the app sends (typed Any: the SDK wants its TypedDict)."""
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": "ord_123",
        "customer_email": "buyer@example.com",
        "success_url": "https://shop.test/paid?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.test/cancelled",
        "expires_at": int(time.time()) + 3600,
        "metadata": {"order_token": "ord_123", "payment_token": "pay_1"},
        "payment_intent_data": {"metadata": {"order_token": "ord_123"}},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "USD",
                    "unit_amount": 1999,
                    "product_data": {"name": "Python basics"},
                },
            },
            {
                "quantity": 2,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 500,
                    "product_data": {"name": "Workbook"},
                },
            },
        ],
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def create_session(client: stripe.StripeClient, **overrides: Any) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        params=session_params(**overrides),
        options={"idempotency_key": _key()},
    )


def test_bracket_form_round_trip() -> None:
    params = {"a": {"b": [{"c": "1"}, {"d": "x"}]}, "flag": "true", "e": ["p", "q"]}
    assert parse_form(flatten_form(params)) == params
    assert parse_form([("expand[]", "x"), ("expand[]", "y")]) == {"expand": ["x", "y"]}


def test_session_create_has_stripes_shape(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    expires_at = int(time.time()) + 3600
    session = create_session(stripe_client, expires_at=expires_at)

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.amount_total == session.amount_subtotal == 1999 + 2 * 500
    assert session.currency == "usd"
    assert session.client_reference_id == "ord_123"
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"order_token": "ord_123", "payment_token": "pay_1"}
    assert session.mode == "payment"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.url == f"{stripe_double.url}/pay/{session.id}"
    assert session.success_url == f"https://shop.test/paid?session_id={session.id}"
    assert session.cancel_url == "https://shop.test/cancelled"
    assert session.payment_intent is None
    assert session.expires_at == expires_at
    assert abs(session.created - time.time()) < 60
    assert session.livemode is False
    assert session.customer_email == "buyer@example.com"

    sent = [r for r in stripe_double.requests if r.path == "/v1/checkout/sessions"][-1]
    assert sent.method == "POST"
    assert sent.idempotency_key
    assert sent.params["line_items"][0]["price_data"]["unit_amount"] == "1999"
    assert sent.params["line_items"][1]["quantity"] == "2"
    assert sent.params["payment_intent_data"] == {"metadata": {"order_token": "ord_123"}}


def test_session_retrieve_line_items_and_expire(stripe_client: stripe.StripeClient) -> None:
    created = create_session(stripe_client)

    fetched = stripe_client.v1.checkout.sessions.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()
    lines = stripe_client.v1.checkout.sessions.line_items.list(created.id)
    assert [(li.description, li.quantity, li.amount_total) for li in lines.data] == [
        ("Python basics", 1, 1999),
        ("Workbook", 2, 1000),
    ]

    expired = stripe_client.v1.checkout.sessions.expire(created.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert stripe_client.v1.checkout.sessions.retrieve(created.id).status == "expired"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.checkout.sessions.expire(created.id)
    assert refused.value.http_status == 400


def test_unknown_session_is_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"mode": None}, "mode"),
        ({"mode": "sideways"}, "mode"),
        ({"success_url": None}, "success_url"),
        ({"line_items": None}, "line_items"),
        ({"client_reference_id": "x" * 201}, "client_reference_id"),
        ({"expires_at": int(time.time()) + 60}, "expires_at"),
        ({"expires_at": "soon"}, "expires_at"),
        ({"colour": "blue"}, "colour"),
        (
            {
                "line_items": [
                    {
                        "price_data": {
                            "currency": "usd",
                            "product_data": {"name": "A"},
                            "unit_amount": 100,
                        }
                    }
                ]
            },
            "line_items[0][quantity]",
        ),
        (
            {"line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 1}}]},
            "line_items[0][price_data][product_data]",
        ),
        (
            {
                "line_items": [
                    {
                        "quantity": 0,
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 1,
                            "product_data": {"name": "A"},
                        },
                    }
                ]
            },
            "line_items[0][quantity]",
        ),
    ],
)
def test_session_validation_errors_name_the_param(
    stripe_client: stripe.StripeClient, overrides: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create_session(stripe_client, **overrides)
    assert refused.value.http_status == 400
    assert refused.value.param == param
    assert error_body(refused.value)["type"] == "invalid_request_error"


@pytest.mark.parametrize("key", ["sk_live_abc123", "pk_test_abc123", "nonsense"])
def test_stripe_refuses_other_keys(stripe_double: StripeDouble, key: str) -> None:
    client = stripe.StripeClient(key, base_addresses={"api": stripe_double.url})
    with pytest.raises(stripe.AuthenticationError) as refused:
        client.v1.checkout.sessions.retrieve("cs_test_x")
    assert refused.value.http_status == 401
    error = error_body(refused.value)
    assert error["type"] == "invalid_request_error"
    assert error["message"]


def test_session_create_replays_for_the_same_key(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    key, params = _key(), session_params()
    first = stripe_client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key}
    )
    again = stripe_client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key}
    )

    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert first.last_response is not None
    assert "Idempotent-Replayed" not in first.last_response.headers
    records = [r for r in stripe_double.requests if r.idempotency_key == key]
    assert [r.replayed for r in records] == [False, True]


def test_same_key_with_other_params_is_an_idempotency_error(
    stripe_client: stripe.StripeClient,
) -> None:
    key = _key()
    stripe_client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": key}
    )
    with pytest.raises(stripe.IdempotencyError) as refused:
        stripe_client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="other"),
            options={"idempotency_key": key},
        )
    assert refused.value.http_status == 400
    assert error_body(refused.value)["type"] == "idempotency_error"
    assert "same parameters" in error_body(refused.value)["message"]


def test_completed_session_is_paid_by_a_real_payment_intent(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    session = create_session(stripe_client)

    done = stripe_double.complete_session(session.id)

    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert done["payment_intent"].startswith("pi_")
    fetched = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert fetched.payment_intent == done["payment_intent"]
    intent = stripe_client.v1.payment_intents.retrieve(done["payment_intent"])
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2999, "usd")
    assert intent.metadata.to_dict() == {"order_token": "ord_123"}
    assert isinstance(intent.latest_charge, str)
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_captured, charge.metadata.to_dict()) == (2999, {"order_token": "ord_123"})
    expanded = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert expanded.payment_intent.id == intent.id  # type: ignore[union-attr]


def test_refunds_through_the_sdk_partial_then_full_then_refused(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    intent_id = stripe_double.complete_session(create_session(stripe_client).id)["payment_intent"]

    partial = stripe_client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 1000, "reason": "requested_by_customer"},
        options={"idempotency_key": _key()},
    )
    assert (partial.amount, partial.status, partial.reason) == (
        1000,
        "succeeded",
        "requested_by_customer",
    )
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 5000})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")

    rest = stripe_client.v1.refunds.create(params={"payment_intent": intent_id})
    assert rest.amount == 2999 - 1000
    intent = stripe_double.payment_intent(intent_id)
    assert intent["latest_charge"]["amount_refunded"] == 2999
    assert intent["latest_charge"]["refunded"] is True

    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1})
    assert again.value.code == "charge_already_refunded"
    assert stripe_client.v1.refunds.retrieve(partial.id).reason == "requested_by_customer"


def test_refund_create_is_idempotent_through_the_proxy(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    intent_id = stripe_double.complete_session(create_session(stripe_client).id)["payment_intent"]
    key = _key()
    params: Any = {"payment_intent": intent_id, "amount": 700}

    first = stripe_client.v1.refunds.create(params=params, options={"idempotency_key": key})
    again = stripe_client.v1.refunds.create(params=params, options={"idempotency_key": key})

    assert again.id == first.id
    assert stripe_double.payment_intent(intent_id)["latest_charge"]["amount_refunded"] == 700
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": 800}, options={"idempotency_key": key}
        )
    assert stripe_double.count("POST", "/v1/refunds") >= 3


def test_refund_of_an_unpaid_intent_is_refused(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    done = stripe_double.complete_session(create_session(stripe_client).id, paid=False)
    assert (done["status"], done["payment_status"]) == ("complete", "unpaid")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.refunds.create(params={"payment_intent": done["payment_intent"]})
    assert refused.value.http_status == 400

    settled = stripe_double.settle_async_payment(done["id"])
    assert settled["payment_status"] == "paid"
    assert stripe_client.v1.payment_intents.retrieve(done["payment_intent"]).status == "succeeded"


def test_dashboard_refund_returns_the_current_charge(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    intent_id = stripe_double.complete_session(create_session(stripe_client).id)["payment_intent"]

    charge = stripe_double.refund_from_dashboard(intent_id, 999)
    assert (charge["object"], charge["payment_intent"]) == ("charge", intent_id)
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (2999, 999, False)
    assert [r["amount"] for r in charge["refunds"]["data"]] == [999]
    assert charge["metadata"] == {"order_token": "ord_123"}

    charge = stripe_double.refund_from_dashboard(intent_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (2999, True)
    with pytest.raises(ValueError, match="already been refunded"):
        stripe_double.refund_from_dashboard(intent_id)


def test_session_helpers_refuse_closed_sessions(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    session = create_session(stripe_client)
    stripe_double.expire_session(session.id)
    with pytest.raises(ValueError, match="not open"):
        stripe_double.complete_session(session.id)
    with pytest.raises(ValueError, match="can be expired"):
        stripe_double.expire_session(session.id)


def test_hosted_page_pays_and_redirects(
    stripe_double: StripeDouble, stripe_client: stripe.StripeClient
) -> None:
    session = create_session(stripe_client)
    assert session.url is not None
    with urllib.request.urlopen(session.url) as page:
        assert "Pay $29.99" in page.read().decode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(session.url, data=b"action=pay")
    assert redirected.value.code == 303
    assert redirected.value.headers["Location"] == session.success_url
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_signed_events_verify_with_the_stripe_sdk(stripe_double: StripeDouble) -> None:
    session = {"id": "cs_test_1", "object": "checkout.session", "payment_status": "paid"}
    payload, headers = stripe_double.signed_event(
        "checkout.session.completed", session, WEBHOOK_SECRET, event_id="evt_fixed"
    )

    event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert (event.id, event.type, event.object, event.livemode) == (
        "evt_fixed",
        "checkout.session.completed",
        "event",
        False,
    )
    assert event.data.object["payment_status"] == "paid"
    body = json.loads(payload)
    assert {"api_version", "created", "pending_webhooks", "request"} <= set(body)


def test_bad_stripe_signatures_are_rejected(stripe_double: StripeDouble) -> None:
    payload, headers = stripe_double.signed_event("charge.refunded", {"id": "ch_1"}, WEBHOOK_SECRET)
    signature = headers["Stripe-Signature"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"ch_1", b"ch_2"), signature, WEBHOOK_SECRET)

    stale, old_headers = stripe_double.signed_event(
        "charge.refunded", {"id": "ch_1"}, WEBHOOK_SECRET, timestamp=int(time.time()) - 301
    )
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(stale, old_headers["Stripe-Signature"], WEBHOOK_SECRET)


# ---- Razorpay ----------------------------------------------------------------------------


@pytest.fixture
def rzp(razorpay_double: RazorpayDouble) -> razorpay.Client:
    return razorpay.Client(
        auth=(razorpay_double.key_id, razorpay_double.key_secret), base_url=razorpay_double.url
    )


def new_order(client: razorpay.Client, amount: int = 49900, notes: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {"amount": amount, "currency": "INR", "receipt": "ord_123"}
    if notes is not None:
        data["notes"] = notes
    order: dict[str, Any] = client.order.create(data)
    return order


def test_order_create_and_fetch_have_razorpays_shape(rzp: razorpay.Client) -> None:
    order = new_order(rzp, notes={"order_token": "ord_123"})

    assert order["id"].startswith("order_")
    assert {k: order[k] for k in ("entity", "amount", "amount_paid", "amount_due", "currency")} == {
        "entity": "order",
        "amount": 49900,
        "amount_paid": 0,
        "amount_due": 49900,
        "currency": "INR",
    }
    assert (order["receipt"], order["offer_id"], order["status"], order["attempts"]) == (
        "ord_123",
        None,
        "created",
        0,
    )
    assert order["notes"] == {"order_token": "ord_123"}
    assert isinstance(order["created_at"], int)
    assert rzp.order.fetch(order["id"]) == order
    assert new_order(rzp)["notes"] == []  # Razorpay's empty notes are a list


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"currency": "INR"}, "The amount field is required."),
        ({"amount": 50, "currency": "INR"}, "The amount must be atleast INR 1.00"),
        ({"amount": "lots", "currency": "INR"}, "The amount must be an integer."),
        ({"amount": 1000}, "The currency field is required."),
        (
            {"amount": 1000, "currency": "INR", "receipt": "r" * 41},
            "The receipt may not be greater than 40 characters.",
        ),
        (
            {"amount": 1000, "currency": "INR", "colour": "blue"},
            "colour is/are not required and should not be sent",
        ),
    ],
)
def test_order_validation_errors(rzp: razorpay.Client, data: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequestError, match=message):
        rzp.order.create(data)


def test_razorpay_refuses_wrong_credentials(razorpay_double: RazorpayDouble) -> None:
    client = razorpay.Client(auth=(razorpay_double.key_id, "wrong"), base_url=razorpay_double.url)
    with pytest.raises(BadRequestError, match="Authentication failed"):
        client.order.create({"amount": 1000, "currency": "INR"})
    assert razorpay_double.requests[-1].status == 401


def test_unknown_ids_are_bad_requests(rzp: razorpay.Client) -> None:
    with pytest.raises(BadRequestError, match="does not exist"):
        rzp.order.fetch("order_nope")
    with pytest.raises(BadRequestError, match="does not exist"):
        rzp.payment.fetch("pay_nope")


def test_paid_order_and_its_payment(razorpay_double: RazorpayDouble, rzp: razorpay.Client) -> None:
    order = new_order(rzp)
    payment = razorpay_double.pay_order(order["id"])

    fetched = rzp.payment.fetch(payment["id"])
    assert fetched == payment
    assert payment["id"].startswith("pay_")
    assert {
        k: payment[k] for k in ("entity", "amount", "currency", "status", "order_id", "method")
    } == {
        "entity": "payment",
        "amount": 49900,
        "currency": "INR",
        "status": "captured",
        "order_id": order["id"],
        "method": "card",
    }
    assert (payment["captured"], payment["amount_refunded"], payment["refund_status"]) == (
        True,
        0,
        None,
    )
    assert payment["error_code"] is None and payment["email"] and payment["contact"]
    paid = rzp.order.fetch(order["id"])
    assert (paid["status"], paid["amount_paid"], paid["amount_due"], paid["attempts"]) == (
        "paid",
        49900,
        0,
        1,
    )
    listed = rzp.order.payments(order["id"])
    assert (listed["entity"], listed["count"], listed["items"]) == ("collection", 1, [payment])


def test_failed_then_authorized_then_captured(
    razorpay_double: RazorpayDouble, rzp: razorpay.Client
) -> None:
    order = new_order(rzp)
    failed = razorpay_double.pay_order(order["id"], captured=False)
    assert (failed["status"], failed["captured"]) == ("failed", False)
    assert failed["error_code"] == "BAD_REQUEST_ERROR" and failed["error_description"]
    assert rzp.order.fetch(order["id"])["status"] == "attempted"

    authorized = razorpay_double.pay_order(order["id"], authorized_only=True)
    assert authorized["status"] == "authorized"
    with pytest.raises(BadRequestError, match="equal to the amount authorized"):
        rzp.payment.capture(authorized["id"], 100, {"currency": "INR"})
    captured = rzp.payment.capture(authorized["id"], 49900, {"currency": "INR"})
    assert captured["status"] == "captured"
    assert rzp.order.fetch(order["id"])["status"] == "paid"
    assert [p["status"] for p in rzp.order.payments(order["id"])["items"]] == ["captured", "failed"]


def test_refunds_partial_full_and_over(
    razorpay_double: RazorpayDouble, rzp: razorpay.Client
) -> None:
    payment = razorpay_double.pay_order(new_order(rzp)["id"])

    refund = rzp.payment.refund(
        payment["id"],
        {"amount": 10000, "notes": {"why": "asked"}, "speed": "normal"},
        headers={"X-Refund-Idempotency": _key()},
    )
    assert refund["id"].startswith("rfnd_")
    assert {k: refund[k] for k in ("entity", "amount", "currency", "payment_id", "status")} == {
        "entity": "refund",
        "amount": 10000,
        "currency": "INR",
        "payment_id": payment["id"],
        "status": "processed",
    }
    assert (refund["notes"], refund["speed_processed"]) == ({"why": "asked"}, "normal")
    assert rzp.payment.fetch(payment["id"])["refund_status"] == "partial"

    with pytest.raises(BadRequestError, match="greater than amount captured"):
        rzp.payment.refund(payment["id"], {"amount": 40000})
    rzp.payment.refund(payment["id"], {"amount": 39900})
    after = rzp.payment.fetch(payment["id"])
    assert (after["amount_refunded"], after["refund_status"], after["status"]) == (
        49900,
        "full",
        "refunded",
    )
    with pytest.raises(BadRequestError):
        rzp.payment.refund(payment["id"], {"amount": 100})


def test_refund_idempotency_header(razorpay_double: RazorpayDouble, rzp: razorpay.Client) -> None:
    payment = razorpay_double.pay_order(new_order(rzp)["id"])
    key = _key()

    first = rzp.payment.refund(
        payment["id"], {"amount": 500}, headers={"X-Refund-Idempotency": key}
    )
    again = rzp.payment.refund(
        payment["id"], {"amount": 500}, headers={"X-Refund-Idempotency": key}
    )
    assert again == first
    assert rzp.payment.fetch(payment["id"])["amount_refunded"] == 500
    with pytest.raises(BadRequestError, match="Different request with the same idempotency key"):
        rzp.payment.refund(payment["id"], {"amount": 600}, headers={"X-Refund-Idempotency": key})
    sent = [r for r in razorpay_double.requests if r.idempotency_key == key]
    assert [(r.params, r.status) for r in sent] == [
        ({"amount": 500}, 200),
        ({"amount": 500}, 200),
        ({"amount": 600}, 400),
    ]


def test_dashboard_refund(razorpay_double: RazorpayDouble, rzp: razorpay.Client) -> None:
    payment = razorpay_double.pay_order(new_order(rzp)["id"])
    refund = razorpay_double.refund_from_dashboard(payment["id"], 1000)
    assert (refund["amount"], refund["payment_id"]) == (1000, payment["id"])
    assert rzp.payment.fetch(payment["id"])["amount_refunded"] == 1000
    with pytest.raises(ValueError, match="greater than amount captured"):
        razorpay_double.refund_from_dashboard(payment["id"], 100000)


def test_checkout_signature_verifies_with_the_sdk(
    razorpay_double: RazorpayDouble, rzp: razorpay.Client
) -> None:
    order = new_order(rzp)
    payment = razorpay_double.pay_order(order["id"])
    signature = razorpay_double.checkout_signature(
        order["id"], payment["id"], razorpay_double.key_secret
    )
    returned = {
        "razorpay_order_id": order["id"],
        "razorpay_payment_id": payment["id"],
        "razorpay_signature": signature,
    }
    assert rzp.utility.verify_payment_signature(returned) is True
    with pytest.raises(SignatureVerificationError):
        rzp.utility.verify_payment_signature({**returned, "razorpay_payment_id": "pay_other"})


def test_signed_webhooks_verify_with_the_sdk(
    razorpay_double: RazorpayDouble, rzp: razorpay.Client
) -> None:
    order = new_order(rzp)
    payment = razorpay_double.pay_order(order["id"])
    body, headers = razorpay_double.signed_webhook(
        "payment.captured",
        {"payment": payment, "order": rzp.order.fetch(order["id"])},
        WEBHOOK_SECRET,
        event_id="evt_fixed",
    )

    text = body.decode()
    assert rzp.utility.verify_webhook_signature(
        text, headers["X-Razorpay-Signature"], WEBHOOK_SECRET
    )
    assert headers["x-razorpay-event-id"] == "evt_fixed"
    event = json.loads(text)
    assert (event["entity"], event["event"], event["contains"]) == (
        "event",
        "payment.captured",
        ["payment", "order"],
    )
    assert event["account_id"].startswith("acc_")
    assert event["payload"]["payment"]["entity"] == payment
    assert set(event["payload"]) == {"payment", "order"}
    with pytest.raises(SignatureVerificationError):
        rzp.utility.verify_webhook_signature(text, headers["X-Razorpay-Signature"], "wrong")
    with pytest.raises(SignatureVerificationError):
        rzp.utility.verify_webhook_signature(
            text.replace("captured", "failed"), headers["X-Razorpay-Signature"], WEBHOOK_SECRET
        )


def test_fixtures_share_one_double_per_run(
    stripe_double: StripeDouble, razorpay_double: RazorpayDouble, pytestconfig: pytest.Config
) -> None:
    from tests.fakes import fixtures

    assert pytestconfig.stash[fixtures._STRIPE] is stripe_double
    assert pytestconfig.stash[fixtures._RAZORPAY] is razorpay_double
