"""Issue 8, defects 11 and 12 (catalog): the catalog and home page on a 390 px phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from app.accounts.models import Role
from tests.factories import make_category, make_course, make_user

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def _seed(session: Any) -> str:
    teacher = make_user(Role.TEACHER, name="Grace Teacher")
    slug = ""
    for name in ("Programming", "Data Science"):
        category = make_category(name)
        for i in range(8):
            course = make_course(f"{name} Course {i}", teacher=teacher, category=category)
            course.is_featured = i < 3
            slug = course.slug
    session.commit()
    return slug


def _csp_violations(page: Page) -> list[str]:
    seen: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(f"{page.url}: {message.text}")

    page.on("console", record)
    return seen


def test_catalog_and_home_fit_a_phone(phone: Page, live_server: str, committed: Any) -> None:
    course_slug = _seed(committed)
    violations = _csp_violations(phone)

    phone.goto(f"{live_server}/courses")
    first = phone.locator("#course-grid .course-card").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], box  # no scrolling past filters
    drawer = phone.locator("aside.filters > details")
    assert drawer.evaluate("d => d.tagName") == "DETAILS"
    assert drawer.evaluate("d => d.open") is False
    expect(phone.locator("#catalog-filters")).to_be_hidden()
    drawer.locator("summary").click()
    expect(phone.get_by_label("Subject")).to_be_visible()

    phone.goto(f"{live_server}/")
    rows = phone.locator(".course-row")
    assert rows.count() >= 3
    for i in range(rows.count()):
        row = rows.nth(i)
        assert row.evaluate("r => r.scrollWidth > r.clientWidth"), f"row {i} does not scroll"
        assert row.evaluate("r => getComputedStyle(r).scrollSnapType").startswith("x")
    page_height = phone.evaluate("document.documentElement.scrollHeight")
    assert page_height < 6 * PHONE["height"], page_height  # not 40 cards stacked
    icons = phone.locator(".category-tile .category-icon svg")
    assert icons.count() == 2
    assert icons.first.bounding_box()["width"] > 10  # type: ignore[index]

    phone.goto(f"{live_server}/courses/{course_slug}")
    expect(phone.locator(".course-title")).to_be_visible()
    phone.goto(f"{live_server}/courses?q=programming&page=1")
    expect(phone.locator("#result-count")).to_contain_text("of 8 courses")
    assert violations == []


def test_filters_stay_open_on_desktop(page: Page, live_server: str, committed: Any) -> None:
    _seed(committed)
    page.goto(f"{live_server}/courses")
    expect(page.get_by_label("Subject")).to_be_visible()  # the closed drawer shows its content
    expect(page.locator("#course-grid .course-card")).to_have_count(12)
    page.get_by_role("link", name="Load more courses").click()
    expect(page.locator("#course-grid .course-card")).to_have_count(16)
    expect(page.locator("#result-count")).to_contain_text(
        re.compile(r"Showing 1\W16 of 16 courses")
    )
    expect(page.locator("#load-more")).to_be_attached()
    page.get_by_label("Subject").select_option(label="Data Science (8)")
    expect(page.locator("#result-count")).to_contain_text(re.compile(r"Showing 1\W8 of 8 courses"))
    expect(page.locator("#results")).to_have_count(1)  # swapped in place, never nested
