"""Studio rules: prices and free, slugs, publishing reasons, unpublishing, reordering, and what
an edit of a course with students may not do."""

from __future__ import annotations

import pytest

from app.catalog.models import CoursePrice, CourseStatus
from app.core.errors import DomainError
from app.core.money import Money
from app.extensions import db
from app.learning.models import EnrollmentSource, EnrollmentStatus
from app.learning.queries import get_enrollment, list_learning
from app.learning.services import grant_enrollment
from app.teaching import curriculum, queries, services
from app.teaching.curriculum import Move
from app.teaching.errors import PublishRefused
from app.teaching.services import CourseDetails, PriceChoice
from tests.factories import make_user
from tests.teaching.conftest import Studio, chapters_of, lectures_of, ready_video

CURRENCIES = ("USD", "INR")


def _prices(course_id: int) -> dict[str, int]:
    return queries.get_prices(course_id)


# --- prices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("19.99", "USD", 1999), ("1,299", "INR", 129900), (" 5 ", "USD", 500), ("", "USD", None)],
)
def test_prices_are_parsed_per_currency_exponent(
    text: str, currency: str, minor: int | None
) -> None:
    money = services.parse_price(text, currency)
    assert (money.amount if money else None) == minor


@pytest.mark.parametrize("text", ["19.999", "-1", "abc", "1e12", "NaN"])
def test_bad_prices_are_refused_on_their_field(text: str) -> None:
    with pytest.raises(DomainError) as refused:
        services.parse_price(text, "USD")
    assert refused.value.field == "price_usd"


def test_set_prices_replaces_the_currencies(studio: Studio) -> None:
    course = studio.course
    services.set_prices(course, PriceChoice(prices={"INR": Money(49900, "INR")}), CURRENCIES)
    assert _prices(course.id) == {"INR": 49900}  # the factory's USD price is gone
    services.set_prices(
        course,
        PriceChoice(prices={"USD": Money(1500, "USD"), "INR": Money(99900, "INR")}),
        CURRENCIES,
    )
    assert _prices(course.id) == {"USD": 1500, "INR": 99900}


def test_free_is_zero_in_every_supported_currency(studio: Studio) -> None:
    services.set_prices(studio.course, PriceChoice(free=True), CURRENCIES)
    assert _prices(studio.course.id) == {"USD": 0, "INR": 0}


def test_a_zero_price_without_free_is_refused(studio: Studio) -> None:
    with pytest.raises(DomainError, match="Free course"):
        services.set_prices(studio.course, PriceChoice(prices={"USD": Money(0, "USD")}), CURRENCIES)


def test_an_unsupported_currency_is_refused(studio: Studio) -> None:
    with pytest.raises(DomainError, match="EUR"):
        services.set_prices(
            studio.course, PriceChoice(prices={"EUR": Money(100, "EUR")}), CURRENCIES
        )


def test_a_list_price_survives_while_it_is_above_the_price(studio: Studio) -> None:
    row = db.session.scalars(
        db.select(CoursePrice).where(CoursePrice.course_id == studio.course.id)
    ).one()
    row.list_amount_minor = 5000
    services.set_prices(studio.course, PriceChoice(prices={"USD": Money(2500, "USD")}), CURRENCIES)
    assert row.list_amount_minor == 5000
    services.set_prices(studio.course, PriceChoice(prices={"USD": Money(6000, "USD")}), CURRENCIES)
    assert row.list_amount_minor is None


# --- courses ---------------------------------------------------------------------------------


def test_new_courses_get_unique_slugs_and_are_drafts(studio: Studio) -> None:
    first = services.create_course(studio.teacher, CourseDetails(title="Rust for Pythonistas"))
    second = services.create_course(studio.other, CourseDetails(title="Rust for Pythonistas!"))
    assert first.slug == "rust-for-pythonistas"
    assert second.slug == "rust-for-pythonistas-2"
    assert first.status is CourseStatus.DRAFT and first.teacher_id == studio.teacher.id


def test_editing_keeps_the_slug_and_sanitises_the_description(studio: Studio) -> None:
    slug = studio.course.slug
    details = CourseDetails(
        title="Renamed", description_md="**Bold** <script>alert(1)</script> [x](javascript:evil)"
    )
    services.update_course(studio.course, details)
    assert studio.course.slug == slug
    html = studio.course.description_html
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (CourseDetails(title="  "), "title"),
        (CourseDetails(title="T", language="xx"), "language"),
        (CourseDetails(title="T", category_id=999_999), "category"),
    ],
)
def test_bad_details_are_refused_on_their_field(
    studio: Studio, details: CourseDetails, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        services.update_course(studio.course, details)
    assert refused.value.field == field


# --- publishing ------------------------------------------------------------------------------


def test_publish_refuses_with_every_reason(studio: Studio) -> None:
    course = studio.course
    services.update_course(course, CourseDetails(title="Untold", description_md=""))
    services.set_prices(course, PriceChoice(), CURRENCIES)
    with pytest.raises(PublishRefused) as refused:
        services.publish_course(course)
    reasons = " ".join(refused.value.reasons)
    assert len(refused.value.reasons) == 3
    assert "description" in reasons and "price" in reasons and "video" in reasons
    assert course.status is CourseStatus.DRAFT


def test_a_lecture_still_processing_does_not_count(studio: Studio) -> None:
    from app.media.models import MediaStatus

    media = ready_video(lectures_of(studio.course)[0], studio.teacher)
    media.status = MediaStatus.PROCESSING
    db.session.flush()
    assert services.publish_problems(studio.course) == [
        "Add at least one lecture whose video has finished processing."
    ]


def test_publish_with_a_ready_video_and_a_price_or_free(studio: Studio) -> None:
    ready_video(lectures_of(studio.course)[1], studio.teacher)
    services.set_prices(studio.course, PriceChoice(free=True), CURRENCIES)
    services.publish_course(studio.course)
    assert studio.course.status is CourseStatus.PUBLISHED
    assert studio.course.published_at is not None


def test_unpublish_and_archive_keep_students_access(studio: Studio) -> None:
    ready_video(lectures_of(studio.course)[0], studio.teacher)
    services.publish_course(studio.course)
    student = make_user()
    grant_enrollment(student.id, studio.course.id, EnrollmentSource.FREE)
    for status in (CourseStatus.DRAFT, CourseStatus.ARCHIVED):
        services.unpublish_course(studio.course, status)
        enrollment = get_enrollment(student.id, studio.course.id)
        assert enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE
        assert [e.course_id for e in list_learning(student.id)] == [studio.course.id]
        assert studio.course.status is status


def test_a_published_course_must_stay_complete(studio: Studio) -> None:
    ready_video(lectures_of(studio.course)[0], studio.teacher)
    services.publish_course(studio.course)
    with pytest.raises(PublishRefused):
        services.update_course(studio.course, CourseDetails(title="Still", description_md=" "))
    with pytest.raises(PublishRefused):
        services.set_prices(studio.course, PriceChoice(), CURRENCIES)


# --- curriculum ------------------------------------------------------------------------------


def _titles(studio: Studio) -> list[tuple[str, list[str]]]:
    by_chapter = {c.id: (c.title, []) for c in chapters_of(studio.course)}
    for lecture in lectures_of(studio.course):
        by_chapter[lecture.chapter_id][1].append(lecture.title)
    return list(by_chapter.values())


def test_move_lecture_within_and_across_chapters(studio: Studio) -> None:
    a, b, _ = lectures_of(studio.course)
    curriculum.move_lecture(studio.course, b, Move.UP)
    assert _titles(studio) == [("One", ["B", "A"]), ("Two", ["C"])]
    curriculum.move_lecture(studio.course, a, Move.DOWN)  # past the bottom: next chapter's top
    assert _titles(studio) == [("One", ["B"]), ("Two", ["A", "C"])]
    curriculum.move_lecture(studio.course, a, Move.UP)  # past the top: previous chapter's end
    assert _titles(studio) == [("One", ["B", "A"]), ("Two", ["C"])]
    curriculum.move_lecture(studio.course, b, Move.UP)  # the very first: stays
    assert _titles(studio) == [("One", ["B", "A"]), ("Two", ["C"])]
    positions = [lecture.position for lecture in lectures_of(studio.course)]
    assert positions == [1, 2, 1]


def test_move_chapter(studio: Studio) -> None:
    _, two = chapters_of(studio.course)
    curriculum.move_chapter(studio.course, two, Move.UP)
    assert [c.title for c in chapters_of(studio.course)] == ["Two", "One"]
    curriculum.move_chapter(studio.course, two, Move.UP)
    assert [(c.title, c.position) for c in chapters_of(studio.course)] == [("Two", 1), ("One", 2)]


def test_reorder_the_whole_curriculum(studio: Studio) -> None:
    one, two = chapters_of(studio.course)
    a, b, c = lectures_of(studio.course)
    curriculum.reorder_curriculum(
        studio.course, [two.id, one.id], {two.id: [c.id, a.id], one.id: [b.id]}
    )
    assert _titles(studio) == [("Two", ["C", "A"]), ("One", ["B"])]


@pytest.mark.parametrize("damage", ["missing", "repeated", "foreign"])
def test_a_stale_or_forged_order_is_refused(studio: Studio, damage: str) -> None:
    one, two = chapters_of(studio.course)
    a, b, c = lectures_of(studio.course)
    foreign = lectures_of(studio.theirs)[0]
    lectures = {
        "missing": {one.id: [a.id], two.id: [c.id]},
        "repeated": {one.id: [a.id, b.id, b.id], two.id: [c.id]},
        "foreign": {one.id: [a.id, b.id, foreign.id], two.id: [c.id]},
    }[damage]
    with pytest.raises(DomainError, match="reload"):
        curriculum.reorder_curriculum(studio.course, [one.id, two.id], lectures)


def test_add_rename_delete(studio: Studio) -> None:
    chapter = curriculum.add_chapter(studio.course, "  Three   extra ")
    assert chapter.title == "Three extra" and chapter.position == 3
    lecture = curriculum.add_lecture(chapter, "D")
    curriculum.rename_lecture(lecture, "Delta")
    curriculum.update_lecture(lecture, "Delta", "Some *notes*", is_preview=True)
    assert lecture.description_html.strip() == "<p>Some <em>notes</em></p>"
    curriculum.delete_chapter(studio.course, chapters_of(studio.course)[0])
    assert [(c.title, c.position) for c in chapters_of(studio.course)] == [
        ("Two", 1),
        ("Three extra", 2),
    ]
    with pytest.raises(DomainError):
        curriculum.rename_chapter(chapter, "   ")
    db.session.refresh(studio.course)
    assert studio.course.lecture_count == 2  # the triggers followed


def test_content_students_may_have_started_is_not_deleted(studio: Studio) -> None:
    grant_enrollment(make_user().id, studio.course.id, EnrollmentSource.FREE)
    lecture = lectures_of(studio.course)[0]
    with pytest.raises(DomainError, match="enrolled"):
        curriculum.delete_lecture(studio.course, lecture)
    with pytest.raises(DomainError, match="enrolled"):
        curriculum.delete_chapter(studio.course, chapters_of(studio.course)[0])
    empty = curriculum.add_chapter(studio.course, "Empty")
    curriculum.delete_chapter(studio.course, empty)  # nothing in it to have started
    curriculum.move_lecture(studio.course, lecture, Move.DOWN)  # reordering stays allowed
    assert lectures_of(studio.course)[1].id == lecture.id


def test_deleting_the_last_ready_lecture_of_a_published_course_is_refused(studio: Studio) -> None:
    lecture = lectures_of(studio.course)[0]
    ready_video(lecture, studio.teacher)
    services.publish_course(studio.course)
    with pytest.raises(PublishRefused):
        curriculum.delete_lecture(studio.course, lecture)
