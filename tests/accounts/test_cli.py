from flask import Flask
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.accounts.queries import get_user_by_email
from tests.factories import make_user


def test_create_admin_and_set_role(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "Boss@Example.com", "--password", "strong-pass-1"]
    )
    assert result.exit_code == 0, result.output
    admin = get_user_by_email("boss@example.com")
    assert admin is not None and admin.role is Role.ADMIN

    user = make_user()
    result = runner.invoke(args=["users", "set-role", user.email, "teacher"])
    assert result.exit_code == 0 and "is now a teacher" in result.output
    db_session.refresh(user)
    assert user.role is Role.TEACHER

    missing = runner.invoke(args=["users", "set-role", "ghost@example.com", "admin"])
    assert missing.exit_code != 0 and "No user" in missing.output
    weak = runner.invoke(args=["users", "create-admin", "x@example.com", "--password", "short"])
    assert weak.exit_code != 0 and "at least 8" in weak.output
