"""The audit log: one append-only row per action a person takes on the shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from app.accounts.models import AuditEntry, User
from app.extensions import db


@dataclass(frozen=True)
class Actor:
    """Who acted and from where: a console request (with its address) or a CLI command."""

    user: User | None
    source: str = "web"  # web | cli
    ip: str | None = None


CLI = Actor(None, "cli")


@dataclass(frozen=True)
class Target:
    """What an action was done to, as the log names it: `order` 7f3c…, "Order 7f3c… (a@b.c)"."""

    type: str
    id: str | int
    label: str = ""


@dataclass(frozen=True)
class Diff:
    """The fields an action changed, as they were and as they are now."""

    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def _plain(value: Any) -> Any:
    """JSON-safe copies of before/after values (enums as their value, dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record_audit(
    who: Actor, action: str, target: Target, diff: Diff | None = None, reason: str = ""
) -> AuditEntry:
    """Append one row in the caller's transaction: the action and its record commit together."""
    diff = diff or Diff()
    user = who.user
    entry = AuditEntry(
        actor_id=user.id if user else None,
        actor_email=user.email if user else "",
        source=who.source,
        action=action,
        target_type=target.type,
        target_id=str(target.id),
        target_label=target.label[:200],
        before=_plain(diff.before) if diff.before is not None else None,
        after=_plain(diff.after) if diff.after is not None else None,
        reason=reason,
        ip=who.ip,
    )
    db.session.add(entry)
    return entry
