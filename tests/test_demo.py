from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Category, Course, CourseStatus
from app.catalog.search import CourseSearch, search_courses
from app.demo import seed_demo
from app.extensions import db


def test_seed_demo_is_complete_and_idempotent(app: Flask, db_session: Session) -> None:
    seed_demo()
    db.session.flush()
    counts = (
        db.session.scalar(select(func.count(Course.id))),
        db.session.scalar(select(func.count(Category.id))),
        db.session.scalar(select(func.count(User.id))),
    )
    assert counts == (40, 8, 11)
    seed_demo()
    db.session.flush()
    assert db.session.scalar(select(func.count(Course.id))) == 40
    roles = dict(
        db.session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all()
    )
    assert roles == {Role.ADMIN: 1, Role.TEACHER: 3, Role.TRAINER: 2, Role.STUDENT: 5}
    published = db.session.scalar(
        select(func.count(Course.id)).where(Course.status == CourseStatus.PUBLISHED)
    )
    assert 30 <= published < 40
    hits = search_courses(CourseSearch(q="python"), "USD", 50)
    assert hits.total >= 2
    assert "python" in hits.items[0].title.lower()


def test_seed_demo_is_refused_in_production(app: Flask, db_session: Session) -> None:
    app.config["APP_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        app.config["APP_ENV"] = "test"
    assert result.exit_code != 0
    assert "production" in result.output
