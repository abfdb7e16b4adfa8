"""A text search reads course_search, kept by a trigger on courses: a course is findable exactly
while it is published, by its current words. A text search's count is kept for the next visitor
and ends with the next committed catalog change."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.catalog.models import Course, CourseSearchRow, CourseStatus
from app.extensions import db
from tests.factories import make_course


def _found(q: str) -> list[str]:
    from app.catalog.search import CourseSearch, search_courses

    return [card.title for card in search_courses(CourseSearch(q=q), "USD", 12).items]


def _has_row(course_id: int) -> bool:
    found = db.session.scalar(
        text("SELECT count(*) FROM course_search WHERE course_id = :id"), {"id": course_id}
    )
    return found == 1


def _count(html: str) -> str:
    match = re.search(r'id="result-count"[^>]*>(.*?)</p>', html, re.S)
    assert match
    return " ".join(match.group(1).split())


def test_rows_follow_the_course(db_session: Session) -> None:
    course = make_course("Zebra tactics", subtitle="Stripes", description="Savanna strategy.")
    row = db.session.get(CourseSearchRow, course.id)
    assert row is not None and row.level == course.level.value
    assert _found("zebra") == ["Zebra tactics"] and _found("savanna") == ["Zebra tactics"]

    course.title = "Okapi tactics"
    db.session.flush()
    assert _found("zebra") == [] and _found("okapi") == ["Okapi tactics"]

    course.status = CourseStatus.DRAFT
    db.session.flush()
    assert not _has_row(course.id)
    assert _found("okapi") == []

    course.status = CourseStatus.PUBLISHED
    db.session.flush()
    assert _found("okapi") == ["Okapi tactics"]

    # Writes the search does not read leave the row alone (no trigger run, no row rewrite).
    before = db.session.scalar(
        text("SELECT xmin::text FROM course_search WHERE course_id = :id"), {"id": course.id}
    )
    course.is_featured = True
    db.session.flush()
    after = db.session.scalar(
        text("SELECT xmin::text FROM course_search WHERE course_id = :id"), {"id": course.id}
    )
    assert before == after

    db.session.execute(text("DELETE FROM lectures"))
    db.session.execute(text("DELETE FROM chapters"))
    db.session.execute(text("DELETE FROM course_prices"))
    db.session.delete(course)
    db.session.flush()
    assert db.session.scalars(select(CourseSearchRow)).all() == []


def test_draft_courses_have_no_rows(db_session: Session) -> None:
    draft = make_course("Hidden lynx", status=CourseStatus.DRAFT)
    assert db.session.get(Course, draft.id) is not None
    assert not _has_row(draft.id)
    assert _found("lynx") == []


def test_a_text_search_count_is_kept_until_the_catalog_changes(
    client: FlaskClient, db_session: Session
) -> None:
    make_course("Falcon basics")
    gone = make_course("Falcon advanced")
    assert _count(client.get("/courses?q=falcon").text).endswith("of 2 courses")
    # A write the cache does not watch: the kept count shows it was not counted again.
    db.session.execute(text("DELETE FROM course_search WHERE course_id = :id"), {"id": gone.id})
    kept = client.get("/courses?q=falcon&sort=newest").text
    assert _count(kept).endswith("of 2 courses") and "Falcon advanced" not in kept
    make_course("Falcon expert")
    db.session.commit()  # a committed catalog change ends the kept count
    assert _count(client.get("/courses?q=falcon").text).endswith("of 2 courses")
    assert _count(client.get("/courses?q=basics").text).endswith("of 1 course")
