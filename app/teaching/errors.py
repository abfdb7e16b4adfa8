"""Studio refusals that carry more than one message."""

from __future__ import annotations

from app.core.errors import DomainError


class PublishRefused(DomainError):
    """The course cannot be published (or stay published) yet; `reasons` says everything
    that is missing, so the teacher fixes it in one pass."""

    code = "publish_refused"
    status = 422

    def __init__(
        self, reasons: list[str], message: str = "This course cannot be published yet."
    ) -> None:
        super().__init__(message)
        self.reasons = reasons
