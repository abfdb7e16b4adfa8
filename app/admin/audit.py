"""Reads of the audit log for its console page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, or_, select

from app.accounts.models import AuditEntry
from app.admin.web import ListArgs
from app.core.pagination import Page, paginate_scalars
from app.extensions import db

SOURCES = (("web", "Console"), ("cli", "Command line"))


def audit_statement(args: ListArgs) -> Select[Any]:
    """Newest first; `q` matches the actor's email, the target's id or label, or the reason."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if args.q:
        like = f"%{args.q}%"
        stmt = stmt.where(
            or_(
                AuditEntry.actor_email.ilike(like),
                AuditEntry.target_id == args.q,
                AuditEntry.target_label.ilike(like),
                AuditEntry.reason.ilike(like),
            )
        )
    if args.get("action"):
        stmt = stmt.where(AuditEntry.action == args.get("action"))
    if args.get("source"):
        stmt = stmt.where(AuditEntry.source == args.get("source"))
    if args.start:
        stmt = stmt.where(AuditEntry.created_at >= args.start)
    if args.end:
        stmt = stmt.where(AuditEntry.created_at < args.end)
    return stmt


def list_audit(args: ListArgs, per_page: int) -> Page[Any]:
    return paginate_scalars(db.session, audit_statement(args), args.page, per_page)


def list_actions() -> list[tuple[str, str]]:
    """Every action name the log holds, as filter choices."""
    names = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    return [(name, name) for name in names]


AUDIT_CSV_HEADER = (
    "time",
    "actor",
    "source",
    "action",
    "target",
    "target id",
    "label",
    "before",
    "after",
    "reason",
    "ip",
)


def audit_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    stmt = audit_statement(args).execution_options(yield_per=500)
    for entry in db.session.scalars(stmt):
        yield (
            entry.created_at.isoformat(),
            entry.actor_email,
            entry.source,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.target_label,
            entry.before,
            entry.after,
            entry.reason,
            entry.ip,
        )
