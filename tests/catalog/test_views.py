import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.catalog.models import CourseStatus
from app.core import shared_cache
from tests.conftest import IsolatedClient, QueryCounter, login_as, truncate_all
from tests.factories import make_category, make_course, make_user

HX = {"HX-Request": "true"}


def test_home_page(client: FlaskClient, db_session: Session) -> None:
    cat = make_category("Data Science")
    course = make_course("Statistics with Python", category=cat)
    course.is_featured = True
    db_session.flush()
    response = client.get("/")
    assert response.status_code == 200
    assert "Featured courses" in response.text
    assert "Statistics with Python" in response.text
    assert "Data Science" in response.text


def test_catalog_page_fragment_and_shareable_url(client: FlaskClient) -> None:
    make_course("Python Basics")
    make_course("Rust Basics")
    page = client.get("/courses?q=pyth")
    assert page.status_code == 200 and "<html" in page.text
    assert "Python Basics" in page.text and "Rust Basics" not in page.text
    assert 'value="pyth"' in page.text  # the form reflects the URL
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/courses?q=pyth", headers=HX)
    assert "<html" not in fragment.text and "Python Basics" in fragment.text
    restore = client.get("/courses?q=pyth", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_load_more_and_page_links(client: FlaskClient) -> None:
    for i in range(14):
        make_course(f"Course {i:02d}", days_ago=i)
    first = client.get("/courses?sort=newest")
    assert first.text.count('class="course-card"') == 12
    assert 'hx-get="/courses?sort=newest&amp;page=2"' in first.text  # HTMX "load more"
    assert 'href="/courses?sort=newest&amp;page=2"' in first.text  # plain link without JS
    second = client.get("/courses?sort=newest&page=2")
    assert second.text.count('class="course-card"') == 2
    assert "Course 13" in second.text and 'rel="prev"' in second.text


def test_bad_query_params_are_ignored_safely(client: FlaskClient) -> None:
    make_course("Anything")
    response = client.get("/courses?page=-4&sort=drop&level=expert&price=cheap&currency=xxx")
    assert response.status_code == 200
    assert "Anything" in response.text


def test_course_page_shows_curriculum_and_price(client: FlaskClient) -> None:
    course = make_course(
        "Django in Depth",
        prices={"USD": 4999, "INR": 299900},
        description="## Why\n\nBecause **web**.<script>alert(1)</script>",
        chapters=[
            ("Setup", [("Install", 125), ("Project layout", 600)]),
            ("Models", [("ORM", 900)]),
        ],
    )
    response = client.get(f"/courses/{course.slug}")
    assert response.status_code == 200
    text = response.text
    assert "Django in Depth" in text and "$49.99" in text
    assert "Setup" in text and "Project layout" in text and "ORM" in text
    assert "Preview" in text
    assert "27m" in text  # 125 + 600 + 900 seconds in total
    assert "<strong>web</strong>" in text and "<script>alert" not in text
    rupees = client.get(f"/courses/{course.slug}", headers={"Accept-Language": "en-IN,en;q=0.8"})
    assert "₹2,999.00" in rupees.text


def test_currency_choice_is_remembered(client: FlaskClient) -> None:
    course = make_course(prices={"USD": 1000, "INR": 80000})
    response = client.post("/currency", data={"currency": "INR", "next": f"/courses/{course.slug}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/courses/{course.slug}"
    assert "₹800.00" in client.get(f"/courses/{course.slug}").text
    assert (
        client.post("/currency", data={"currency": "INR", "next": "https://evil.example"}).headers[
            "Location"
        ]
        == "/"
    )


def test_draft_is_visible_only_to_its_teacher_and_admins(client: FlaskClient) -> None:
    teacher = make_user(Role.TEACHER)
    draft = make_course("Secret Draft", teacher=teacher, status=CourseStatus.DRAFT)
    assert client.get(f"/courses/{draft.slug}").status_code == 404
    login_as(client, make_user(Role.TEACHER))
    assert client.get(f"/courses/{draft.slug}").status_code == 404
    login_as(client, teacher)
    own = client.get(f"/courses/{draft.slug}")
    assert own.status_code == 200 and "only you and admins" in own.text
    login_as(client, make_user(Role.ADMIN))
    assert client.get(f"/courses/{draft.slug}").status_code == 200
    assert "Secret Draft" not in client.get("/courses?q=secret").text


def test_unknown_course_is_a_real_404_page(client: FlaskClient) -> None:
    response = client.get("/courses/no-such-course")
    assert response.status_code == 404
    assert "Page not found" in response.text and "<html" in response.text
    as_json = client.get("/courses/no-such-course", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json == {
        "success": False,
        "status": 404,
        "error": {"code": "page_not_found", "message": as_json.json["error"]["message"]},
    }


def test_catalog_query_count_does_not_grow_with_courses(
    client: FlaskClient, count_queries: QueryCounter
) -> None:
    cat = make_category()
    for i in range(3):
        make_course(f"Few {i}", category=cat, prices={"USD": 100, "INR": 100})
    counts = {}
    for label in ("few", "many"):
        if label == "many":
            for i in range(20):
                make_course(f"Many {i}", category=make_category(), prices={"USD": 100, "INR": 1})
        for url in ("/courses", "/courses?q=few+many", "/"):
            shared_cache.clear()  # cold: the shared lists and counts are read too
            count_queries.statements.clear()
            assert client.get(url).status_code == 200
            counts[(label, url)] = count_queries.count
    for url in ("/courses", "/courses?q=few+many", "/"):
        assert counts[("few", url)] == counts[("many", url)], url
    assert counts[("many", "/courses")] <= 8
    # Warm, a catalog page or a search is one statement: the page's cards with their prices.
    for url in ("/courses", "/courses?q=few+many", "/courses?q=few&sort=price_asc"):
        client.get(url)
        count_queries.statements.clear()
        assert client.get(url).status_code == 200
        assert count_queries.count == 1, (url, count_queries.statements)


def test_course_page_query_count_is_constant(
    client: FlaskClient, count_queries: QueryCounter
) -> None:
    small = make_course(chapters=[("A", [("a", 1)])])
    big = make_course(chapters=[(f"Ch {i}", [(f"L {j}", 60) for j in range(8)]) for i in range(10)])
    client.get(f"/courses/{small.slug}")  # the running sales, cached from here on
    count_queries.statements.clear()
    client.get(f"/courses/{small.slug}")
    small_count = count_queries.count
    count_queries.statements.clear()
    client.get(f"/courses/{big.slug}")
    assert count_queries.count == 2  # the course, then its curriculum
    count_queries.statements.clear()
    client.get(f"/courses/{big.slug}")
    # The curriculum is kept in memory while the course's curriculum version holds.
    assert count_queries.count == small_count == 1


def test_the_kept_curriculum_follows_every_change(client: FlaskClient, db_session: Session) -> None:
    course = make_course(chapters=[("Basics", [("Hello", 60), ("World", 60)])])
    url = f"/courses/{course.slug}"
    assert "Hello" in client.get(url).text
    changes = [
        ("UPDATE lectures SET title = 'Renamed' WHERE title = 'Hello'", "Renamed"),
        ("UPDATE lectures SET is_preview = NOT is_preview WHERE title = 'World'", None),
        ("UPDATE chapters SET title = 'Foundations' WHERE title = 'Basics'", "Foundations"),
        (
            "INSERT INTO chapters (course_id, position, title) "
            f"VALUES ({course.id}, 9, 'Brand new chapter')",
            "Brand new chapter",
        ),
        ("DELETE FROM lectures WHERE title = 'Renamed'", None),
    ]
    for sql, shown in changes:
        before = _version(db_session, course.id)
        db_session.execute(sa.text(sql))
        db_session.flush()
        assert _version(db_session, course.id) > before, sql
        page = client.get(url).text
        if shown:
            assert shown in page, sql
    assert "Renamed" not in page and "Hello" not in page


def test_the_kept_chapter_list_is_per_viewer_kind(client: FlaskClient, db_session: Session) -> None:
    """The rendered chapters are kept per course version: a visitor who may watch gets links to
    the player, one who may not never gets them from a kept copy, and back again."""
    teacher = make_user(Role.TEACHER)
    course = make_course(teacher=teacher, chapters=[("Basics", [("Hello", 60), ("World", 60)])])
    url, player = f"/courses/{course.slug}", f"/learning/{course.slug}/"
    assert player not in client.get(url).text
    login_as(client, teacher)
    assert client.get(url).text.count(player) == 2  # one link a lecture
    client._cookies.clear()  # signed out: a new visitor
    assert player not in client.get(url).text


def _version(session: Session, course_id: int) -> int:
    sql = sa.text("SELECT curriculum_version FROM courses WHERE id = :id")
    return int(session.execute(sql, {"id": course_id}).scalar_one())


def test_filter_changes_push_a_clean_url(client: FlaskClient) -> None:
    response = client.get(
        "/courses?q=go&category=&level=&price=free&language=&currency=&sort=relevance",
        headers={**HX, "HX-Target": "results"},
    )
    assert response.headers["HX-Push-Url"] == "/courses?q=go&price=free"
    for i in range(13):
        make_course(f"Go part {i}")
    load_more = client.get("/courses?q=go&page=2", headers={**HX, "HX-Target": "load-more"})
    assert load_more.status_code == 200
    assert "HX-Push-Url" not in load_more.headers


def test_a_course_id_used_again_never_gets_the_kept_curriculum(
    live_app: Flask, committed: Session
) -> None:
    # TRUNCATE ... RESTART IDENTITY hands the same course id to a new course (the tests do
    # that between tests): its curriculum must not come from what this process kept before.
    live_app.test_client_class = IsolatedClient  # each request its own app context and session
    client = live_app.test_client()
    pages = []
    for lecture in ("Old lecture", "New lecture"):
        committed.rollback()  # no open transaction may hold a lock the TRUNCATE waits for
        truncate_all()
        course = make_course("Reused id", chapters=[("Only chapter", [(lecture, 60)])])
        course_id, slug = course.id, course.slug
        committed.commit()
        pages.append((course_id, client.get(f"/courses/{slug}").text))
    assert pages[0][0] == pages[1][0]
    assert "Old lecture" in pages[0][1]
    assert "New lecture" in pages[1][1] and "Old lecture" not in pages[1][1]
