"""User accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import TimestampMixin, str_enum
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
    # Bumped on password change so every other session of this user ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    country: Mapped[str | None] = mapped_column(String(2))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

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
