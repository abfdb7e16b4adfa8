"""App-signed URLs for the local backend: an HMAC over what the URL allows, with its expiry.

The signature is the credential (no session, no database): a URL grants one action on one
object until `exp`, and changing any part of it (key, part number, size, expiry) breaks it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

# Keeps these signatures apart from anything else signed with SECRET_KEY.
_PURPOSE = b"coursefront.media.url.v1"


class UrlSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()

    def sign(self, *fields: str | int) -> str:
        message = "\n".join(str(f) for f in fields).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def expiry(self, expires_s: int) -> int:
        return int(time.time()) + max(1, expires_s)

    def check(self, signature: str, expires_at: str, *fields: str | int) -> bool:
        """True when `signature` signs (*fields, expires_at) and expires_at is still ahead."""
        if not expires_at.isdigit() or int(expires_at) < time.time():
            return False
        expected = self.sign(*fields, int(expires_at))
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
