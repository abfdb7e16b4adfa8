"""Issue 8, defects 5, 6 and 11: honest counts, search edges, SVG subject icons."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.devserver import _commands
from tests.factories import make_category, make_course

HX = {"HX-Request": "true"}
LOAD_MORE = {**HX, "HX-Target": "load-more"}


def _count_text(html: str) -> str:
    match = re.search(r'id="result-count"[^>]*>(.*?)</p>', html, re.S)
    assert match, "no #result-count in the response"
    return " ".join(match.group(1).split()).replace("\N{EN DASH}", "-")


def _courses(n: int) -> None:
    for i in range(n):
        make_course(f"Course {i:02d}", days_ago=i)


def test_load_more_counts_every_card_on_screen(client: FlaskClient) -> None:
    _courses(30)
    plain = client.get("/courses?sort=newest&page=2")
    assert _count_text(plain.text) == "Showing 13-24 of 30 courses"  # a page of its own
    more = client.get("/courses?sort=newest&page=2", headers=LOAD_MORE)
    assert more.status_code == 200 and "<html" not in more.text
    # The fragment's root is the swapped #load-more; cards and the count come out of band.
    assert more.text.lstrip().startswith('<div id="load-more"')
    assert 'hx-swap-oob="true"' in re.search(r'<p[^>]*id="result-count"[^>]*>', more.text)[0]
    assert _count_text(more.text) == "Showing 1-24 of 30 courses"
    assert more.text.count('class="course-card"') == 12
    assert "Course 12" in more.text and "Course 11" not in more.text
    assert 'hx-get="/courses?sort=newest&amp;page=3"' in more.text
    last = client.get("/courses?sort=newest&page=3", headers=LOAD_MORE)
    assert _count_text(last.text) == "Showing 1-30 of 30 courses"
    assert "Load more" not in last.text
    # Started on page 2 without JS, then loaded page 3: cards 13-30 are on screen.
    from_two = client.get("/courses?sort=newest&page=2")
    assert 'hx-get="/courses?sort=newest&amp;page=3&amp;start=2"' in from_two.text
    later = client.get("/courses?sort=newest&page=3&start=2", headers=LOAD_MORE)
    assert _count_text(later.text) == "Showing 13-30 of 30 courses"


def test_filter_swap_fragment_root_is_results(client: FlaskClient) -> None:
    _courses(2)
    fragment = client.get("/courses?q=course", headers={**HX, "HX-Target": "results"})
    assert fragment.text.lstrip().startswith('<div id="results"')
    page = client.get("/courses")
    assert 'hx-target="#results"' in page.text and 'hx-swap="outerHTML"' in page.text


@pytest.mark.parametrize("headers", [{}, LOAD_MORE])
def test_a_page_past_the_end_is_a_404(client: FlaskClient, headers: dict[str, str]) -> None:
    _courses(14)
    assert client.get("/courses?page=2", headers=headers).status_code == 200
    past = client.get("/courses?page=999", headers=headers)
    assert past.status_code == 404
    assert "11977" not in past.text
    if headers:
        return
    assert "<html" in past.text and "Page not found" in past.text
    for raw in ("0", "-3", "abc", "1.5", ""):  # junk is the first page, as before
        response = client.get(f"/courses?page={raw}")
        assert response.status_code == 200, raw
        assert _count_text(response.text) == "Showing 1-12 of 14 courses", raw


def test_an_empty_catalog_has_a_first_page_only(client: FlaskClient) -> None:
    assert client.get("/courses").status_code == 200
    assert client.get("/courses?q=nothing-matches").status_code == 200
    assert client.get("/courses?page=2").status_code == 404


@pytest.mark.parametrize("q", ["analisis", "Análisis", "ANALISIS", "análi"])
def test_search_ignores_accents(client: FlaskClient, q: str) -> None:
    make_course("Análisis de Datos con Excel", language="es")
    make_course("Analisis sin tilde", description="Sin acento en el título.")
    make_course("Python Basics")
    text = client.get("/courses", query_string={"q": q}).text
    assert "Análisis de Datos con Excel" in text, q
    assert "Analisis sin tilde" in text, q
    assert "Python Basics" not in text, q


def test_operator_only_query_does_not_list_the_catalog(client: FlaskClient) -> None:
    make_course("C++ from Scratch", description="Pointers and templates.")
    make_course("Cooking for Coders", description="Cook, clean and code.")
    make_course("Python Basics")
    symbols = client.get("/courses", query_string={"q": "& | ! ( ) :*"})
    assert symbols.status_code == 200
    assert "Python Basics" not in symbols.text and "Cooking for Coders" not in symbols.text
    assert "letters or digits" in symbols.text
    mixed = client.get("/courses", query_string={"q": "c++ & | ! ( ) :*"}, headers=HX)
    assert mixed.status_code == 200
    assert "C++ from Scratch" in mixed.text
    assert "Python Basics" not in mixed.text and "Cooking for Coders" not in mixed.text
    for q in ("'", "\\", "a:*b", "!!!x", "x & !", "(((", ":A", "<->"):
        assert client.get("/courses", query_string={"q": q}).status_code == 200, q


@pytest.mark.parametrize("headers", [{}, HX])
def test_a_very_long_query_is_capped_with_a_message(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    make_course("Python Basics")
    response = client.get("/courses", query_string={"q": "python " * 715}, headers=headers)
    assert response.status_code == 200
    assert "first 200 characters" in response.text
    assert "Python Basics" in response.text
    assert ("python " * 715).strip()[:201] not in response.text


def test_gunicorn_accepts_long_search_urls(app: Flask) -> None:
    web = _commands(app)["web"]
    assert web[web.index("--limit-request-line") + 1] == "8190"


def test_subject_icons_are_inline_svg(client: FlaskClient, db_session: Session) -> None:
    known = make_category("Programming")
    known.slug, known.icon = "programming", "💻"
    other = make_category("Basket Weaving")
    other.icon = "🧺"
    make_course("Python Basics", category=known)
    make_course("Weaving 101", category=other)
    db_session.flush()
    text = client.get("/").text
    assert "💻" not in text and "🧺" not in text
    icons = re.findall(r'<span class="category-icon[^"]*"[^>]*>\s*<svg', text)
    assert len(icons) >= 2
    assert 'data-icon="programming"' in text and 'data-icon="default"' in text
    assert "style=" not in text
