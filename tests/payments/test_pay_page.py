"""Each provider says how its buyer pays (`pay_page`); the one pay view renders whatever it says."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import Order
from app.payments import providers
from app.payments.models import Payment
from app.payments.providers import get_provider
from app.payments.providers.base import (
    Fact,
    LineForProvider,
    PaymentFacts,
    PaymentProvider,
    PayPage,
    RefundResult,
    ReturnUrls,
    SessionStart,
    WebhookMessage,
)
from app.payments.providers.razorpay import RazorpayProvider
from app.payments.providers.sandbox import TEST_CARDS, SandboxSession
from app.payments.providers.stripe import StripeProvider
from tests.factories import make_course
from tests.payments.conftest import checkout, fill_cart, order_of, payment_token

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT_JS = "https://checkout.razorpay.com/v1/checkout.js"


def test_a_pay_page_is_a_redirect_or_a_page_never_both() -> None:
    assert PayPage.to("https://pay.example/cs_1").redirect == "https://pay.example/cs_1"
    page = PayPage.page("x.html", csp="default-src 'none'", a=1)
    assert (page.redirect, page.template, dict(page.context), page.csp) == (
        None,
        "x.html",
        {"a": 1},
        "default-src 'none'",
    )
    with pytest.raises(ValueError, match="redirect or a page"):
        PayPage(redirect="https://pay.example", template="x.html")
    with pytest.raises(ValueError, match="redirect or a page"):
        PayPage()


def test_stripe_sends_the_buyer_to_its_checkout() -> None:
    stripe = StripeProvider("sk_test_x", "whsec_x")
    page = stripe.pay_page(Payment(provider="stripe", checkout_url="https://stripe.test/pay/cs_1"))
    assert page is not None and page.redirect == "https://stripe.test/pay/cs_1"
    assert page.template is None and page.csp is None
    assert stripe.pay_page(Payment(provider="stripe", checkout_url=None)) is None


def test_razorpay_has_a_page_of_ours_with_a_policy_for_that_page_only() -> None:
    razorpay = RazorpayProvider("rzp_test_x", "secret", "whsec", checkout_js=CHECKOUT_JS)
    payment = Payment(
        provider="razorpay", client_data={"order_id": "order_1", "script": CHECKOUT_JS}
    )
    page = razorpay.pay_page(payment)
    assert page is not None and page.redirect is None
    assert page.template == "payments/razorpay.html" and page.context["payment"] is payment
    directives = dict(d.split(" ", 1) for d in (page.csp or "").split("; "))
    assert directives["script-src"] == "'self' https://checkout.razorpay.com"
    assert "https://api.razorpay.com" in directives["frame-src"]
    assert "https://api.razorpay.com" in directives["form-action"]
    # A script from elsewhere in client_data never widens the policy beyond an origin.
    odd = Payment(provider="razorpay", client_data={"order_id": "o", "script": "javascript:x"})
    assert "javascript" not in (razorpay.pay_page(odd).csp or "")  # type: ignore[union-attr]
    assert razorpay.pay_page(Payment(provider="razorpay", client_data=None)) is None


def test_the_sandbox_serves_its_hosted_page(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course("Hosted", prices={"USD": 1200}).id])
    token = payment_token(checkout(client).headers["Location"])
    payment = db_session.scalars(select(Payment).where(Payment.token == token)).one()
    page = get_provider("sandbox").pay_page(payment)
    assert page is not None and page.redirect is None and page.csp is None
    assert page.template == "payments/sandbox/pay.html"
    assert isinstance(page.context["session"], SandboxSession)
    assert page.context["session"].id == payment.provider_session_id
    assert page.context["cards"] == TEST_CARDS
    assert page.context["card"] == TEST_CARDS[0].spaced
    payment.provider_session_id = None
    assert get_provider("sandbox").pay_page(payment) is None


class FakeProvider(PaymentProvider):
    """A provider the pay view has never heard of."""

    name = "fake"
    label = "Fake pay"

    def __init__(self) -> None:
        self.page: PayPage | None = None

    def pay_page(self, payment: Payment) -> PayPage | None:
        return self.page

    def create_session(
        self, order: Order, payment: Payment, lines: Sequence[LineForProvider], urls: ReturnUrls
    ) -> SessionStart:
        raise NotImplementedError

    def verify_return(self, params: Mapping[str, str]) -> PaymentFacts | None:
        raise NotImplementedError

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage:
        raise NotImplementedError

    def interpret(self, message: WebhookMessage) -> list[Fact]:
        raise NotImplementedError

    def fetch_status(self, payment: Payment) -> PaymentFacts:
        raise NotImplementedError

    def refund(self, payment: Payment, amount: int, key: str) -> RefundResult:
        raise NotImplementedError


@pytest.fixture
def fake(app: Flask, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider()
    monkeypatch.setitem(providers.REGISTRY, "fake", lambda cfg: provider)
    page = '{% extends "base.html" %}{% block content %}<p>Pay {{ amount }} the fake way</p>'
    pages = DictLoader({"fake/pay.html": page + "{% endblock %}"})
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([pages, app.jinja_env.loader]))
    return provider


def _payment_with(provider: str, client: FlaskClient, db_session: Session, buyer: User) -> str:
    fill_cart(buyer, [make_course("Fake paid", prices={"USD": 700}).id])
    token = payment_token(checkout(client).headers["Location"])
    payment = db_session.scalars(select(Payment).where(Payment.token == token)).one()
    payment.provider = provider
    db_session.flush()
    return token


def test_the_pay_view_renders_any_registered_provider(
    fake: FakeProvider, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    token = _payment_with("fake", client, db_session, buyer)
    fake.page = PayPage.page("fake/pay.html", csp="default-src 'self'; frame-src x.test", amount=7)
    shown = client.get(f"/pay/{token}")
    assert shown.status_code == 200 and "Pay 7 the fake way" in shown.text
    assert shown.headers["Content-Security-Policy"] == "default-src 'self'; frame-src x.test"

    fake.page = PayPage.to("https://fake.test/checkout/abc")
    away = client.get(f"/pay/{token}")
    assert away.status_code == 303 and away.headers["Location"] == "https://fake.test/checkout/abc"
    hx = client.get(f"/pay/{token}", headers={"HX-Request": "true"})
    assert hx.status_code == 204 and hx.headers["HX-Redirect"] == "https://fake.test/checkout/abc"

    fake.page = None  # nothing to pay with yet
    assert client.get(f"/pay/{token}").status_code == 404
    assert order_of(db_session, buyer).token  # the order is untouched by looking


def test_a_payment_whose_provider_is_gone_has_no_pay_page(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    token = _payment_with("unplugged", client, db_session, buyer)
    assert client.get(f"/pay/{token}").status_code == 404


PROVIDER_NAMES = {"stripe", "razorpay", "sandbox"}


def _branches_on_a_provider_name(node: ast.AST) -> bool:
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    names = [
        c.value
        for side in sides
        for c in ([side] if not isinstance(side, ast.Tuple | ast.List | ast.Set) else side.elts)
        if isinstance(c, ast.Constant)
    ]
    return any(name in PROVIDER_NAMES for name in names)


def test_nothing_outside_the_providers_branches_on_a_provider_name() -> None:
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if (ROOT / "app/payments/providers") in path.parents:
            continue
        tree = ast.parse(path.read_text(), str(path))
        found += [
            f"{path.relative_to(ROOT)}:{n.lineno}"
            for n in ast.walk(tree)
            if _branches_on_a_provider_name(n)
        ]
    assert found == []


@pytest.mark.parametrize(
    "first",
    [
        "app.payments.models",
        "app.payments.providers",
        "app.payments.providers.sandbox",
        "app.payments.providers.sandbox.models",
        "app.payments.jobs",
        "app.payments.services",
    ],
)
def test_the_payment_modules_import_in_any_order(first: str) -> None:
    """The sandbox's table is listed with the domain's models: no import circle whichever
    module a process (worker, CLI, Alembic) happens to import first."""
    code = (
        f"import {first}\n"
        "from app.payments.models import SandboxSession\n"
        "from app.extensions import db\n"
        "assert 'sandbox_sessions' in db.metadata.tables\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
