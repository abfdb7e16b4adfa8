from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.catalog import queries
from app.catalog.course_page import CategoryLink, PagePrice, get_course_page
from app.catalog.models import LANGUAGES, Course, CourseLevel, CoursePrice, CourseStatus
from app.catalog.search import CourseSearch, Sort, search_courses
from app.core.periods import AccessPeriod
from tests.factories import make_category, make_course, make_user


def _titles(search: CourseSearch, currency: str = "USD", per_page: int = 50) -> list[str]:
    return [c.title for c in search_courses(search, currency, per_page).items]


def test_title_match_ranks_above_description_match(db_session: Session) -> None:
    make_course(
        "Cooking for Busy People",
        description="Python python python: we automate recipes with Python scripts. " * 3,
    )
    make_course("Python for Absolute Beginners", description="Variables, loops and functions.")
    make_course("Gardening Basics", description="Soil and seeds.")
    assert _titles(CourseSearch(q="python")) == [
        "Python for Absolute Beginners",
        "Cooking for Busy People",
    ]


def test_prefix_and_stem_matching(db_session: Session) -> None:
    make_course("Python for Data Analysis")
    make_course("Functional Programming in Haskell")
    assert _titles(CourseSearch(q="pyth")) == ["Python for Data Analysis"]
    assert _titles(CourseSearch(q="programm")) == ["Functional Programming in Haskell"]
    assert _titles(CourseSearch(q="program")) == ["Functional Programming in Haskell"]
    assert _titles(CourseSearch(q="PYTHON data")) == ["Python for Data Analysis"]
    assert _titles(CourseSearch(q="python haskell")) == []
    assert _titles(CourseSearch(q="'); drop table courses; --")) == []


def test_subtitle_outranks_description(db_session: Session) -> None:
    make_course("Course A", subtitle="Nothing relevant", description="All about kubernetes.")
    make_course("Course B", subtitle="Kubernetes in production", description="Pods.")
    assert _titles(CourseSearch(q="kubernetes")) == ["Course B", "Course A"]


def test_drafts_and_archived_courses_are_never_listed(db_session: Session) -> None:
    make_course("Visible Rust")
    make_course("Draft Rust", status=CourseStatus.DRAFT)
    make_course("Archived Rust", status=CourseStatus.ARCHIVED)
    assert _titles(CourseSearch(q="rust")) == ["Visible Rust"]
    assert [c.title for c in queries.list_newest()] == ["Visible Rust"]


def test_filters(db_session: Session) -> None:
    design, code = make_category("Design"), make_category("Code")
    make_course(
        "Figma Basics", category=design, level=CourseLevel.BEGINNER, prices={"USD": 0, "INR": 0}
    )
    make_course("Advanced Go", category=code, level=CourseLevel.ADVANCED, language="en")
    make_course(
        "Go en Español",
        category=code,
        level=CourseLevel.BEGINNER,
        language="es",
        prices={"INR": 49900},
    )
    assert _titles(CourseSearch(category=design.slug)) == ["Figma Basics"]
    assert set(_titles(CourseSearch(level="beginner"))) == {"Figma Basics", "Go en Español"}
    assert _titles(CourseSearch(language="es")) == ["Go en Español"]
    assert _titles(CourseSearch(price="free")) == ["Figma Basics"]
    assert set(_titles(CourseSearch(price="paid"))) == {"Advanced Go", "Go en Español"}
    assert _titles(CourseSearch(currency="INR", price="paid")) == ["Go en Español"]
    assert _titles(CourseSearch(category=code.slug, level="advanced", q="go")) == ["Advanced Go"]


def test_sorting(db_session: Session) -> None:
    make_course("Old", prices={"USD": 5000}, days_ago=30)
    make_course("Mid", prices={"USD": 1000}, days_ago=10)
    make_course("New", prices={"USD": 3000}, days_ago=1)
    make_course("Rupees only", prices={"INR": 100}, days_ago=50)
    assert _titles(CourseSearch(sort=Sort.NEWEST)) == ["New", "Mid", "Old", "Rupees only"]
    assert _titles(CourseSearch(sort=Sort.PRICE_ASC)) == ["Mid", "New", "Old", "Rupees only"]
    assert _titles(CourseSearch(sort=Sort.PRICE_DESC)) == ["Old", "New", "Mid", "Rupees only"]
    # relevance without a query falls back to newest
    assert _titles(CourseSearch()) == ["New", "Mid", "Old", "Rupees only"]


def test_pagination_and_stats(db_session: Session) -> None:
    for i in range(5):
        make_course(
            f"Course {i}",
            days_ago=i,
            chapters=[("One", [("a", 60), ("b", 120)]), ("Two", [("c", 30)])],
        )
    page = search_courses(CourseSearch(page=2), "USD", 2)
    assert page.total == 5 and page.pages == 3 and page.has_next and page.has_prev
    assert [c.title for c in page.items] == ["Course 2", "Course 3"]
    assert (page.items[0].lecture_count, page.items[0].duration_s) == (3, 210)


def test_price_view_prefers_the_visitors_currency(db_session: Session) -> None:
    course = make_course(prices={"USD": 1999, "INR": 99900})
    rupees_only = make_course(prices={"INR": 49900})
    loaded = get_course_page(course.slug)
    assert loaded is not None
    assert str(queries.price_view(loaded, "INR").price) == "₹999.00"
    other = get_course_page(rupees_only.slug)
    assert other is not None
    view = queries.price_view(other, "USD")
    assert view.price is None and view.other is not None and view.other.currency == "INR"


def test_a_course_page_holds_what_the_page_shows(db_session: Session) -> None:
    teacher = make_user(Role.TEACHER, name="Ada Lovelace")
    cat = make_category()
    course = make_course(
        "Engines", teacher=teacher, category=cat, prices={"USD": 1999, "EUR": 0},
        status=CourseStatus.DRAFT, level=CourseLevel.ADVANCED, language="de",
    )  # fmt: skip
    db_session.execute(
        update(CoursePrice)
        .where(CoursePrice.course_id == course.id, CoursePrice.currency == "USD")
        .values(access_period_value=3, access_period_unit="month", list_amount_minor=2999)
    )
    page = get_course_page(course.slug)
    assert page is not None
    assert (page.id, page.title, page.teacher_id) == (course.id, "Engines", teacher.id)
    assert (page.teacher_name, page.teacher_initial) == ("Ada Lovelace", "A")
    assert page.category == CategoryLink(cat.slug, cat.name) and page.category_id == cat.id
    assert (page.level, page.status, page.is_published) == (
        CourseLevel.ADVANCED, CourseStatus.DRAFT, False
    )  # fmt: skip
    assert page.language_name == LANGUAGES["de"]
    assert page.description_html == course.description_html != ""
    assert (page.lecture_count, page.duration_s) == (1, 300)
    version = select(Course.curriculum_version).where(Course.id == course.id)
    assert page.curriculum_version == db_session.scalar(version)  # set by triggers
    assert [p.currency for p in page.prices] == ["EUR", "USD"] and not page.is_free
    assert page.prices == (
        PagePrice("EUR", 0, None, None),
        PagePrice("USD", 1999, 2999, AccessPeriod(3, "month")),
    )
    assert page.price_in("GBP") is None
    bare = make_course(prices={}, status=CourseStatus.DRAFT)
    loaded = get_course_page(bare.slug)
    assert loaded is not None and loaded.category is None and loaded.prices == ()
    assert get_course_page("no-such-course") is None


def test_courses_by_category_are_limited_per_category(db_session: Session) -> None:
    cat = make_category()
    for i in range(6):
        make_course(f"C{i}", category=cat, days_ago=i)
    grouped = queries.list_courses_by_category(per_category=4)
    assert [c.title for c in grouped[cat.id]] == ["C0", "C1", "C2", "C3"]
