"""Password hashing (argon2id) and the strength rule."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@cache
def _hasher() -> PasswordHasher:
    # Imported on first use: only logins and registrations hash (argon2 and cffi, ~1 MB a web
    # worker that serves pages only).
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time."""
    return _hasher().hash("timing-equaliser-not-a-password")


MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON = frozenset(
    [
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwerty123",
        "qwertyuiop",
        "iloveyou11",
        "letmein123",
        "welcome1",
        "welcome123",
        "admin123",
        "abc12345",
        "football1",
        "monkey123",
        "sunshine1",
        "princess1",
        "passw0rd",
        "p@ssw0rd",
        "trustno1",
        "11111111",
        "00000000",
        "asdfghjkl",
    ]
)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; False (after the same work) otherwise."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """Reasons a password is too weak, in plain words; empty when it is acceptable."""
    problems: list[str] = []
    lowered = password.lower()
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    if not any(c.isalpha() for c in password) or all(c.isalpha() for c in password):
        problems.append("Mix letters with digits or symbols.")
    if lowered in COMMON:
        problems.append("This password is too common; pick something less guessable.")
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        problems.append("Don't use your email address in your password.")
    first = name.split()[0].lower() if name.strip() else ""
    if len(first) >= 4 and first in lowered:
        problems.append("Don't use your name in your password.")
    return problems
