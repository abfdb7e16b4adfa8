"""Media domain errors: a stable `code` for clients and a message for people."""

from __future__ import annotations

from app.core.errors import DomainError


class UploadRefused(DomainError):
    """An upload cannot start, continue or be confirmed (type, size, state, missing parts)."""

    code = "upload_refused"
    status = 422


class UploadGone(DomainError):
    """The upload was cancelled or cleaned up: start a new one."""

    code = "upload_aborted"
    status = 409
