"""The configured payment providers, by name.

REGISTRY maps a provider's name to a factory that builds it from the app's config, or says
it is not configured (None). Adding a provider is adding its module and one entry here: the
views ask a provider what to do (`pay_page`, `verify_return`) and never test its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flask import current_app

from app.payments.providers import sandbox
from app.payments.providers.base import PaymentProvider, ProviderError, WebhookMessage

ProviderFactory = Callable[[Mapping[str, Any]], PaymentProvider | None]


# The SDKs are imported when a provider is first built, not with the app: a web worker that
# only serves the catalog never loads them (stripe, razorpay, requests and aiohttp are ~20 MB).
def _stripe(cfg: Mapping[str, Any]) -> PaymentProvider | None:
    if not cfg["STRIPE_SECRET_KEY"]:
        return None
    from app.payments.providers.stripe import StripeProvider

    return StripeProvider(
        cfg["STRIPE_SECRET_KEY"],
        cfg["STRIPE_WEBHOOK_SECRET"],
        cfg["STRIPE_API_BASE"],
        cfg["PAYMENT_SESSION_MINUTES"],
    )


def _razorpay(cfg: Mapping[str, Any]) -> PaymentProvider | None:
    if not cfg["RAZORPAY_KEY_ID"]:
        return None
    from app.payments.providers.razorpay import RazorpayProvider

    return RazorpayProvider(
        cfg["RAZORPAY_KEY_ID"],
        cfg["RAZORPAY_KEY_SECRET"],
        cfg["RAZORPAY_WEBHOOK_SECRET"],
        cfg["RAZORPAY_API_BASE"],
        cfg["RAZORPAY_CHECKOUT_JS"],
    )


REGISTRY: dict[str, ProviderFactory] = {
    "stripe": _stripe,
    "razorpay": _razorpay,
    "sandbox": sandbox.from_config,
}


class WebhookSource(Protocol):
    """Whoever signs webhooks under a name: a payment provider, or Mux (video events)."""

    name: str

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookMessage: ...


MUX = "mux"


def webhook_source(name: str) -> WebhookSource:
    """The verifier of webhooks posted under `name` (ProviderError when none is configured)."""
    if name == MUX:
        from app.payments.providers.mux import from_config  # loads media's Mux code

        source = from_config(current_app.config)
        if source is None:
            raise ProviderError("Mux is not configured here.", code="no_provider")
        return source
    return get_provider(name)


def sandbox_enabled() -> bool:
    """Test mode: when asked, or when no provider has keys; never in production."""
    return sandbox.enabled(current_app.config)


def sandbox_secret() -> str:
    """The sandbox's webhook secret, derived from SECRET_KEY."""
    return sandbox.webhook_secret(current_app.config)


def configured() -> dict[str, PaymentProvider]:
    """Every provider that can take payments now."""
    built = {name: factory(current_app.config) for name, factory in REGISTRY.items()}
    return {name: provider for name, provider in built.items() if provider is not None}


def get_provider(name: str) -> PaymentProvider:
    """The provider with this name, or ProviderError when it is not configured."""
    provider = configured().get(name)
    if provider is None:
        raise ProviderError(f"The payment provider {name!r} is not available.", code="no_provider")
    return provider


def providers_for(currency: str) -> list[PaymentProvider]:
    """Providers offered for a currency: the configured preference (else any), sandbox last."""
    available = configured()
    preferred = current_app.config["PAYMENT_PROVIDERS"].get(currency, "")
    names = [n.strip() for n in preferred.split("|") if n.strip()]
    offered = [available[n] for n in names if n in available and n != "sandbox"]
    if not offered:
        offered = [p for n, p in available.items() if n != "sandbox"]
    if "sandbox" in available:
        offered.append(available["sandbox"])
    return offered


def provider_for_app(name: str) -> PaymentProvider | None:
    """The provider an app's `paymentMethod` names. In test mode a provider without keys here
    is served by the sandbox (seed 000's script asks for "stripe" against `make run`); None
    when neither is configured (the sandbox never is in production)."""
    available = configured()
    return available.get(name) or available.get(sandbox.SandboxProvider.name)


def in_test_mode(provider_name: str) -> bool:
    """Whether this provider's payments are test payments (the sandbox's)."""
    return provider_name == sandbox.SandboxProvider.name


def stripe_session_id(provider_name: str, session_id: str | None) -> str | None:
    """Seed 004's `stripeSessionId`: a Stripe payment's Checkout Session id, else None."""
    return session_id if provider_name == "stripe" else None
