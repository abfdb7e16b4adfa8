"""Tokens, signatures and redirect safety."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit


def new_token() -> str:
    """A random public identifier (UUID4) for URLs: never a guessable sequence."""
    return str(uuid.uuid4())


def is_safe_redirect(target: str | None) -> bool:
    """Only a path on our own site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
