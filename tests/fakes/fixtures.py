"""Session-wide Stripe and Razorpay doubles for any test module.

    from tests.fakes.fixtures import razorpay_double, stripe_double  # noqa: F401

pytest registers imported fixtures once per importing module; the doubles are kept in the
pytest config's stash so every module still shares one of each, stopped at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from tests.fakes.razorpay_double import RazorpayDouble
from tests.fakes.stripe_double import StripeDouble, WsgiDouble

_STRIPE = pytest.StashKey[StripeDouble]()
_RAZORPAY = pytest.StashKey[RazorpayDouble]()
D = TypeVar("D", bound=WsgiDouble)


def _shared(config: pytest.Config, key: pytest.StashKey[D], make: Callable[[], D]) -> D:
    """The one running double of its kind for this pytest run, started on first use."""
    if key not in config.stash:
        double = make().start()
        config.add_cleanup(double.stop)
        config.stash[key] = double
    return config.stash[key]


@pytest.fixture(scope="session")
def stripe_double(pytestconfig: pytest.Config) -> StripeDouble:
    """The Stripe double: `StripeClient(key, base_addresses={"api": stripe_double.url})`."""
    return _shared(pytestconfig, _STRIPE, StripeDouble)


@pytest.fixture(scope="session")
def razorpay_double(pytestconfig: pytest.Config) -> RazorpayDouble:
    """The Razorpay double: `razorpay.Client(auth=(double.key_id, double.key_secret),
    base_url=double.url)`."""
    return _shared(pytestconfig, _RAZORPAY, RazorpayDouble)
