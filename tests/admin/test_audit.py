"""The audit log: rows written with the action, append-only in the database, shown on its page;
CLI role changes are logged too."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.audit import CLI, Actor, Diff, Target, record_audit
from app.accounts.models import AuditEntry, Role, User
from app.accounts.services import change_role
from app.extensions import db
from tests.factories import make_user


def test_a_row_cannot_be_changed_or_deleted(db_session: Session, admin: User) -> None:
    entry = record_audit(Actor(admin, "web", "10.0.0.1"), "test.thing", Target("thing", 1, "One"))
    db.session.flush()
    for statement in (
        sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(reason="rewritten"),
        sa.delete(AuditEntry).where(AuditEntry.id == entry.id),
    ):
        nested = db.session.begin_nested()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(statement)
        nested.rollback()
    assert db.session.get(AuditEntry, entry.id) is not None


def test_role_change_writes_one_row_and_a_no_op_none(db_session: Session, admin: User) -> None:
    user = make_user(Role.STUDENT)
    change_role(user, Role.TEACHER, Actor(admin, "web", "10.0.0.2"), "teaches Rust")
    change_role(user, Role.TEACHER, Actor(admin, "web", "10.0.0.2"), "again")
    rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.target_id == str(user.id)))
    (row,) = rows.all()
    assert (row.action, row.actor_email, row.ip) == ("user.role", admin.email, "10.0.0.2")
    assert (row.before, row.after, row.reason) == (
        {"role": "student"},
        {"role": "teacher"},
        "teaches Rust",
    )


def test_cli_set_role_is_logged(app: Flask, db_session: Session) -> None:
    user = make_user(Role.STUDENT)
    result = app.test_cli_runner().invoke(args=["users", "set-role", user.email, "trainer"])
    assert result.exit_code == 0, result.output
    row = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_id == str(user.id))
    ).one()
    assert (row.source, row.actor_id, row.after) == ("cli", None, {"role": "trainer"})


def test_the_page_lists_filters_and_exports(admin_client: FlaskClient, admin: User) -> None:
    record_audit(
        Actor(admin), "coupon.create", Target("coupon", 5, "SPRING"), Diff(None, {"code": "SPRING"})
    )
    record_audit(
        CLI, "user.role", Target("user", 9, "x@example.com"), Diff({"role": "a"}, {"role": "b"})
    )
    db.session.flush()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "coupon.create" in page and "SPRING" in page and "x@example.com" in page
    only = admin_client.get("/admin/audit?action=coupon.create").get_data(as_text=True)
    assert "SPRING" in only and "x@example.com" not in only
    fragment = admin_client.get("/admin/audit?q=SPRING", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="audit-rows">')
    csv = admin_client.get("/admin/audit?format=csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("time,actor,source,action") and len(lines) == 3
