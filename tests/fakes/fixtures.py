"""Session-wide Stripe and Razorpay doubles and moto's S3 server, for any test module.

    from tests.fakes.fixtures import moto_endpoint, razorpay_double, stripe_double  # noqa: F401

pytest registers imported fixtures once per importing module; the doubles are kept in the
pytest config's stash so every module still shares one of each, stopped at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from tests.fakes import ports
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


MOTO_PORTS = range(8320, 8330)
_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 in server mode on 127.0.0.1, spoken to over real HTTP by boto3 and clients."""
    from moto.server import ThreadedMotoServer  # only where it is used: a slow import

    saved = {name: os.environ.get(name) for name in _AWS}
    os.environ.update(_AWS)  # boto3's usual chain finds them, as in production
    port = ports.free_port(MOTO_PORTS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
