"""Account rules: registration, authentication, profile and roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app.accounts import passwords, sessions, tokens
from app.accounts.audit import CLI, Actor, Diff, Target, record_audit
from app.accounts.models import Role, User
from app.accounts.queries import get_user_by_email, normalise_email
from app.core.errors import DomainError, NotFound
from app.core.models import utcnow
from app.extensions import db


class EmailTaken(DomainError):
    code = "email_taken"


class WeakPassword(DomainError):
    code = "weak_password"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


class InvalidEmail(DomainError):
    code = "invalid_email"


# One message for an unknown email and a wrong password: nothing to learn about who has an account.
BAD_LOGIN = "That email and password don't match an account."


def clean_email(email: str) -> str:
    """A syntactically valid, lower-cased email address, or InvalidEmail."""
    # Imported here: only registration and profile changes check addresses (with dnspython's
    # and idna's tables, not worth holding in every web worker).
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc), field="email") from exc
    return normalise_email(checked.normalized)


def check_password(password: str, email: str, name: str) -> None:
    """Raise WeakPassword with every reason the password is too weak."""
    problems = passwords.password_problems(password, email, name)
    if problems:
        raise WeakPassword(" ".join(problems), field="password")


def register_user(email: str, password: str, name: str, role: Role = Role.STUDENT) -> User:
    """Create an account; the email must be free (case-insensitively) and the password strong."""
    email = clean_email(email)
    name = " ".join(name.split())
    if not name:
        raise DomainError("Tell us your name.", code="name_required", field="name")
    check_password(password, email, name)
    if get_user_by_email(email) is not None:
        raise EmailTaken("An account with this email already exists.", field="email")
    user = User(email=email, name=name, role=role, password_hash=passwords.hash_password(password))
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:  # a concurrent sign-up took the email between check and insert
        raise EmailTaken("An account with this email already exists.", field="email") from exc
    return user


def authenticate(email: str, password: str) -> User:
    """The active user with these credentials (upgrading an old hash); else InvalidCredentials."""
    user = get_user_by_email(email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise InvalidCredentials(BAD_LOGIN)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    return user


def update_profile(user: User, name: str, email: str, country: str | None) -> User:
    """Change name, email and country; a new email must be free."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("Tell us your name.", code="name_required", field="name")
    email = clean_email(email)
    other = get_user_by_email(email)
    if other is not None and other.id != user.id:
        raise EmailTaken("An account with this email already exists.", field="email")
    if email != user.email:
        user.email_verified_at = None  # the new address is not proven yet
    user.name, user.email = name, email
    user.country = country.upper() if country else None
    return user


def change_password(user: User, current: str, new: str, keep_login: int | None = None) -> User:
    """Set a new password after checking the current one; every login but `keep_login` ends."""
    if not passwords.verify_password(user.password_hash, current):
        raise InvalidCredentials("Your current password is not correct.", field="current_password")
    check_password(new, user.email, user.name)
    user.password_hash = passwords.hash_password(new)
    sessions.revoke_user_sessions(user.id, keep=keep_login)
    return user


def reset_password(token: str, new: str, now: datetime | None = None) -> User:
    """Set a new password through a mailed reset link, which then stops working; every login
    of the user ends. Raises BadLink (expired, used, invalid) or WeakPassword."""
    user = tokens.user_for_reset(token, now, lock=True)
    check_password(new, user.email, user.name)
    user.password_hash = passwords.hash_password(new)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached this mailbox: the address is real
    sessions.revoke_user_sessions(user.id)
    return user


def verify_email(token: str, now: datetime | None = None) -> User:
    """Mark the address a verification link was sent to as verified (idempotent)."""
    user = tokens.user_for_verification(token, now)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def set_role(email: str, role: Role, who: Actor = CLI) -> User:
    """Give the user with this email a role, and log the change."""
    user = get_user_by_email(email)
    if user is None:
        raise NotFound(f"No user with email {email}.")
    return change_role(user, role, who)


def change_role(user: User, role: Role, who: Actor, reason: str = "") -> User:
    """Give `user` a role; a real change writes an audit row in the same transaction."""
    before = user.role
    if before == role:
        return user
    user.role = role
    diff = Diff({"role": before}, {"role": role})
    record_audit(who, "user.role", Target("user", user.id, user.email), diff, reason)
    return user


def ensure_user(email: str, password: str, name: str, role: Role) -> User:
    """The user with this email, created (or given the role) as needed; used by seeds and CLI."""
    user = get_user_by_email(email)
    if user is None:
        return register_user(email, password, name, role)
    return change_role(user, role, CLI)
