"""Every route in the URL map, fed NUL bytes, oversized integers, overlong strings and wrong JSON
types in its path, query, form and JSON body, anonymous and logged in: nothing answers 5xx."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import inspect
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter, Rule
from wtforms.fields.core import UnboundField

from app import DOMAINS
from app.accounts.models import User
from app.notifications.services import notify
from app.payments.providers import sandbox_secret
from app.payments.providers.sandbox import sign
from tests.conftest import login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import checkout, fill_cart, order_of

NUL = "a\x00b"
BIG = "9" * 30
# Longer than every bounded field but course descriptions (20,000), and small enough that a form
# carrying it in every field stays under Werkzeug's 500 KB form limit, so validators see it.
LONG = "x" * 2_100
CONTROL = "a\x01\x1b\x7fb"
STRINGS = {"nul": NUL, "big": BIG, "long": LONG, "control": CONTROL}
# The names views read from request.args / JSON, on top of every form's field names.
GENERIC_NAMES = [
    *("q", "page", "category", "sort", "level", "language", "price", "currency", "canceled"),
    *("course_id", "code", "coupon", "email", "password", "name", "token", "session_id"),
    *("cart_token", "products", "course_slug", "provider", "idempotency_key", "next", "card"),
    *("razorpay_order_id", "razorpay_payment_id", "razorpay_signature", "amount", "reason"),
]
DEEP = "[" * 50_000 + "]" * 50_000
JSON_BODIES: dict[str, str] = {
    "invalid": "{not json",
    "null": "null",
    "list": "[1, 2, 3]",
    "deep": DEEP,
    "deep_object": '{"products": ' + DEEP + "}",
}
JSON_VALUES: dict[str, Any] = {
    "null": None,
    "list": [None, 1, "x"],
    "nested": {"a": {"b": [{"c": None}]}},
    "huge_number": 10**30,
    "bool": True,
    "nul": NUL,
    "long": LONG,
}
STRIPE_SECRET = "whsec_malformed_walk"
RAZORPAY_SECRET = "rzp_malformed_walk"
# A signature header whose value is not ASCII (hmac.compare_digest refuses such str).
ODD_HEADERS = {
    "X-Sandbox-Signature": "t=1,v1=\u00e9\u00e9",
    "Stripe-Signature": "t=1,v1=\u00e9",
    "X-Razorpay-Signature": "\u00e9" * 64,
    "Idempotency-Key": "key-\u00e9\u00e9\u00e9\u00e9-0001",
}
HEADER_VARIANTS = ({}, {"HX-Request": "true"}, {"Accept": "application/json"}, ODD_HEADERS)


def form_field_names() -> set[str]:
    """The field names of every form the app defines."""
    names: set[str] = set()
    for domain in DOMAINS:
        try:
            module = importlib.import_module(f"app.{domain}.forms")
        except ModuleNotFoundError:
            continue
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm):
                for klass in cls.__mro__:
                    names |= {n for n, v in vars(klass).items() if isinstance(v, UnboundField)}
    return names


@dataclass
class Walk:
    app: Flask
    client: FlaskClient
    plausible: dict[str, str]
    user: User | None = None
    failures: list[str] = field(default_factory=list)
    answered_ok: set[str] = field(default_factory=set)
    sent: int = 0
    headers: Iterator[dict[str, str]] = field(default_factory=lambda: cycle(HEADER_VARIANTS))

    def send(self, method: str, path: str, **kwargs: Any) -> None:
        if self.user is not None:
            login_as(self.client, self.user)  # a walked /logout must not end the pass
        headers = {**next(self.headers), **kwargs.pop("headers", {})}
        self.sent += 1
        try:
            status = self.client.open(path, method=method, headers=headers, **kwargs).status_code
            if status == 200:
                self.answered_ok.add(path)
        except Exception as exc:  # an escaped exception is a 500 in production
            status = 500
            kwargs["exception"] = repr(exc)
        if status >= 500:
            who = "user" if self.user else "anonymous"
            detail = {k: str(v)[:60] for k, v in {**kwargs, "headers": headers}.items()}
            self.failures.append(f"{status} {method} {path[:70]!r} {who} {detail}")


def fill(rule: Rule, kind: str, plausible: dict[str, str]) -> str:
    """The rule's path with every parameter set to the kind of value (or a plausible one)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        if kind == "plausible":
            value = plausible.get(name, "1" if isinstance(converter, IntegerConverter) else "x")
        else:
            value = STRINGS[kind]
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", lambda _m, v=value: v, path)
    return path


def signed(provider: str, raw: str) -> dict[str, str]:
    """A valid signature for the body, so the webhook route parses what it is sent."""
    body = raw.encode()
    if provider == "sandbox":
        return {"X-Sandbox-Signature": sign(sandbox_secret(), body)}
    if provider == "stripe":
        return {
            "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                raw, STRIPE_SECRET
            )
        }
    mac = hmac.new(RAZORPAY_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Razorpay-Signature": mac}


def walk_rule(walk: Walk, rule: Rule, names: list[str]) -> None:
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    for method in methods:
        for kind, value in STRINGS.items():
            payload = dict.fromkeys(names, value)
            walk.send(method, fill(rule, kind, walk.plausible), query_string=payload)
            if method != "GET":
                walk.send(method, fill(rule, "plausible", walk.plausible), data=payload)
            walk.send(method, fill(rule, "plausible", walk.plausible), query_string=payload)
        if method == "GET":
            continue
        path = fill(rule, "plausible", walk.plausible)
        bodies = dict(JSON_BODIES)
        for kind, value in JSON_VALUES.items():
            bodies[f"field_{kind}"] = json.dumps(dict.fromkeys(names, value))
            bodies[f"nested_{kind}"] = json.dumps(
                {"products": [{"course_slug": value}], "id": value, "type": value, "data": value}
            )
        for raw in bodies.values():
            headers = {"Content-Type": "application/json"}
            if rule.endpoint == "payments.webhook":
                headers |= signed(path.rsplit("/", 1)[1], raw)
            walk.send(method, path, data=raw, headers=headers)


@contextmanager
def webhook_secrets(app: Flask) -> Iterator[None]:
    """Stripe and Razorpay webhooks verifiable for the walk (no API calls are made)."""
    settings = {
        "STRIPE_SECRET_KEY": "sk_test_walk",
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "RAZORPAY_KEY_ID": "rzp_test_walk",
        "RAZORPAY_KEY_SECRET": "rzp_secret_walk",
        "RAZORPAY_WEBHOOK_SECRET": RAZORPAY_SECRET,
        "SANDBOX_PAYMENTS": "on",
    }
    old = {k: app.config[k] for k in settings}
    app.config.update(settings)
    try:
        yield
    finally:
        app.config.update(old)


def rules_to_walk(app: Flask) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    # Logging out last keeps the logged-in pass logged in for as long as possible.
    return sorted(rules, key=lambda r: (r.endpoint.endswith("logout"), r.rule))


def walk_all(walk: Walk) -> None:
    names = sorted(form_field_names() | set(GENERIC_NAMES))
    for rule in rules_to_walk(walk.app):
        if rule.endpoint == "payments.webhook":
            with webhook_secrets(walk.app):
                for provider in ("sandbox", "stripe", "razorpay"):
                    walk.plausible["provider"] = provider
                    walk_rule(walk, rule, names)
            walk.plausible["provider"] = "sandbox"
        else:
            walk_rule(walk, rule, names)


@pytest.fixture
def plausible(client: FlaskClient, db_session: Session) -> tuple[User, dict[str, str]]:
    """A buyer with an order and a notification, so path parameters can name real things."""
    buyer = make_user()
    course = make_course("Walked", prices={"USD": 2500})
    fill_cart(buyer, [course.id])
    login_as(client, buyer)
    checkout(client)
    order = order_of(db_session, buyer)
    note = notify(buyer, "walk-1", "accounts/email_verify", email=False, action_url="/", hours=1)
    assert note is not None
    values = {
        "slug": course.slug,
        "token": order.token,
        "provider": "sandbox",
        "course_id": str(course.id),
        "notification_id": str(note.id),
    }
    return buyer, values


@pytest.fixture
def production_errors(app: Flask) -> Iterator[None]:
    """Unhandled exceptions become the 500 page, as in production, instead of propagating."""
    old = app.config["PROPAGATE_EXCEPTIONS"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        yield
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = old


@pytest.mark.usefixtures("production_errors")
def test_no_route_answers_5xx_to_malformed_input(
    app: Flask, client: FlaskClient, plausible: tuple[User, dict[str, str]]
) -> None:
    buyer, values = plausible
    anonymous = Walk(app, app.test_client(), dict(values))
    walk_all(anonymous)
    logged_in = Walk(app, client, dict(values), user=buyer)
    walk_all(logged_in)
    failures = anonymous.failures + logged_in.failures
    assert anonymous.sent > 500 and logged_in.sent > 500
    # The logged-in pass really was logged in (its pages answered), the anonymous one was not.
    assert "/orders" in logged_in.answered_ok and "/orders" not in anonymous.answered_ok
    assert not failures, f"{len(failures)} 5xx answers:\n" + "\n".join(failures[:60])
