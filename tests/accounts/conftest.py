"""The live server the browser tests use, for the real-HTTP session tests here."""

from tests.e2e.conftest import live_server  # noqa: F401 - shared fixture
