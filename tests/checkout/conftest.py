from tests.payments.conftest import buyer, mailbox, providers  # noqa: F401 - shared fixtures
