"""Tutoring test data: a tutoring course with packages, trainers with weekly slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Category, Course, CourseKind
from app.extensions import db
from app.tutoring.models import Trainer, TrainerSlot, TutoringPackage, TutoringPackagePrice
from tests.conftest import login_as
from tests.factories import make_category, make_course, make_user

SUNDAY_EVENINGS = ((7, time(17, 0), time(21, 0)),)


def tutoring_course(
    title: str = "Algebra Tutoring", category: Category | None = None
) -> tuple[Course, Category]:
    category = category or make_category("Mathematics")
    course = make_course(title, category=category, prices={"USD": 1000, "INR": 50000})
    course.kind = CourseKind.TUTORING
    db.session.flush()
    return course, category


def package(course: Course, sessions: int = 20, usd: int = 40000) -> TutoringPackage:
    row = TutoringPackage(course_id=course.id, sessions=sessions)
    row.prices = [
        TutoringPackagePrice(currency="USD", amount_minor=usd),
        TutoringPackagePrice(currency="INR", amount_minor=usd * 80),
    ]
    db.session.add(row)
    db.session.flush()
    return row


def trainer(
    specialties: Sequence[str],
    *,
    name: str = "",
    timezone: str = "Europe/London",
    slots: Sequence[tuple[int, time, time]] = SUNDAY_EVENINGS,
    capacity: int = 8,
    active: int = 0,
    gender: str | None = None,
    **fields: Any,
) -> Trainer:
    user = make_user(Role.TRAINER, name=name)
    row = Trainer(
        user_id=user.id,
        specialties=list(specialties),
        timezone=timezone,
        capacity=capacity,
        active_students=active,
        gender=gender,
        **fields,
    )
    row.slots = [TrainerSlot(weekday=d, starts=s, ends=e) for d, s, e in slots]
    db.session.add(row)
    db.session.flush()
    return row


def next_weekday(after: date, iso_weekday: int) -> date:
    """The first day after `after` falling on the ISO weekday."""
    return after + timedelta(days=(iso_weekday - after.isoweekday() - 1) % 7 + 1)


def sunday_choice(start: date, **changes: Any) -> dict[str, Any]:
    return {
        "timeSlot": "18:00",
        "date": start.isoformat(),
        "isSundayOnly": True,
        "sessionDuration": 60,
        **changes,
    }


@pytest.fixture
def buyer(app: Flask, client: FlaskClient, db_session: Session) -> User:
    user = make_user(email="student@example.com", name="Sam Student")
    login_as(client, user)
    return user
