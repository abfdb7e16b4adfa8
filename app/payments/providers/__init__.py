"""The configured payment providers, by name."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from app.payments.providers.base import PaymentProvider, ProviderError
from app.payments.providers.razorpay import RazorpayProvider
from app.payments.providers.sandbox import SandboxProvider
from app.payments.providers.stripe import StripeProvider


def sandbox_enabled() -> bool:
    """Test mode: when asked, or when no provider has keys; never in production."""
    cfg = current_app.config
    if cfg["APP_ENV"] == "production":
        return False
    setting = cfg["SANDBOX_PAYMENTS"]
    if setting in ("on", "off"):
        return bool(setting == "on")
    return not (cfg["STRIPE_SECRET_KEY"] or cfg["RAZORPAY_KEY_ID"])


def sandbox_secret() -> str:
    """The sandbox's webhook secret, derived from SECRET_KEY."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"sandbox-webhooks", hashlib.sha256).hexdigest()


def configured() -> dict[str, PaymentProvider]:
    """Every provider that can take payments now."""
    cfg = current_app.config
    found: dict[str, PaymentProvider] = {}
    minutes = cfg["PAYMENT_SESSION_MINUTES"]
    if cfg["STRIPE_SECRET_KEY"]:
        found["stripe"] = StripeProvider(
            cfg["STRIPE_SECRET_KEY"], cfg["STRIPE_WEBHOOK_SECRET"], cfg["STRIPE_API_BASE"], minutes
        )
    if cfg["RAZORPAY_KEY_ID"]:
        found["razorpay"] = RazorpayProvider(
            cfg["RAZORPAY_KEY_ID"],
            cfg["RAZORPAY_KEY_SECRET"],
            cfg["RAZORPAY_WEBHOOK_SECRET"],
            cfg["RAZORPAY_API_BASE"],
            cfg["RAZORPAY_CHECKOUT_JS"],
        )
    if sandbox_enabled():
        found["sandbox"] = SandboxProvider(sandbox_secret(), minutes)
    return found


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
