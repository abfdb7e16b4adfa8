from tests.payments.conftest import buyer, mailbox  # noqa: F401 - shared fixtures
