"""User accounts."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import TimestampMixin, str_enum, utcnow
from app.extensions import db


class Role(StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    TRAINER = "trainer"
    ADMIN = "admin"


class User(UserMixin, TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.STUDENT)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    country: Mapped[str | None] = mapped_column(String(2))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the owner followed a link mailed to this address; a new address clears it.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Flask-Login's id, "user id:login token": it names the login this object came through
        (see attach_login); without one it names no session, and no cookie made of it works."""
        return f"{self.id}:{getattr(self, '_login_token', '')}"

    def attach_login(self, login: LoginSession, token: str) -> None:
        """Remember which login session (and its secret token) this object stands for."""
        self._login_token = token
        self._login = login
        # Read now, while loaded: the after-request check must not refresh the expired row.
        self._login_seen_at = login.last_seen_at

    @property
    def login(self) -> LoginSession | None:
        """The login session this object was loaded through or signed in with, if any."""
        login: LoginSession | None = getattr(self, "_login", None)
        return login

    @property
    def login_seen_at(self) -> datetime | None:
        """When the login session had last seen activity as this request began."""
        seen: datetime | None = getattr(self, "_login_seen_at", None)
        return seen

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles or self.role == Role.ADMIN

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


LOGIN_WEB = "web"
LOGIN_API = "api"


class LoginSession(db.Model):  # type: ignore[name-defined,misc]
    """One sign-in on one device; the cookies carry its token, the table only a hash of it."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    remember: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # "web": a browser's cookies carry the token; "api": an app's sign-in (app/accounts/
    # api_logins.py), whose token is never handed out: its refresh tokens stand for it.
    kind: Mapped[str] = mapped_column(
        String(10), default=LOGIN_WEB, server_default=LOGIN_WEB, nullable=False
    )
    user_agent: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @staticmethod
    def hash_token(token: str) -> str:
        """What the table stores of a token: a leaked table opens no session."""
        return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"


class RefreshToken(db.Model):  # type: ignore[name-defined,misc]
    """One refresh token of an API login (its "family"): opaque, stored as a hash, good once.
    A used row is kept until it expires, so presenting it again is recognised as reuse."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login_id: Mapped[int] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<RefreshToken {self.id} login={self.login_id}>"


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One thing a person did to the shop (an admin in the console, an operator in the CLI):
    who, what, to which object, before and after. Append-only: a trigger refuses UPDATE and
    DELETE (migration 4fed0f441dd1), so a row once written reads the same forever."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )
    # No ON DELETE: the trigger would refuse the SET NULL; the email is kept as written anyway.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_email: Mapped[str] = mapped_column(String(320), default="", nullable=False)
    source: Mapped[str] = mapped_column(String(10), default="web", nullable=False)  # web | cli
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    target_id: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    target_label: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.target_type}:{self.target_id}>"
