"""Browser journeys through the storefront, against a live server and real database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from tests.factories import make_category, make_course, make_user

pytestmark = pytest.mark.e2e


def _seed_catalog(session: Any) -> None:
    teacher = make_user(Role.TEACHER, name="Grace Teacher")
    programming = make_category("Programming")
    make_course(
        "Python for Everyone",
        teacher=teacher,
        category=programming,
        subtitle="From zero to writing useful scripts",
        prices={"USD": 2999, "INR": 149900},
        chapters=[
            ("Getting started", [("Installing Python", 240), ("Your first program", 420)]),
            ("Working with data", [("Lists and dictionaries", 780), ("Reading files", 600)]),
        ],
    )
    for i in range(14):
        make_course(f"Gardening Topic {i:02d}", teacher=teacher, days_ago=i + 1)
    session.commit()


def test_register_logout_login_search_and_open_a_course(
    page: Page, live_server: str, committed: Any
) -> None:
    _seed_catalog(committed)
    page.goto(f"{live_server}/register")
    page.get_by_label("Full name").fill("Maya Learner")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password", exact=True).fill("learning-2026")
    page.get_by_label("Repeat password").fill("learning-2026")
    page.get_by_role("button", name="Create account").click()
    expect(
        page.get_by_role("status").filter(has_text="Welcome to Coursefront, Maya!")
    ).to_be_visible()

    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been logged out.")).to_be_visible()

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That email and password don't match an account.")).to_be_visible()
    page.get_by_label("Password").fill("learning-2026")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Welcome back, Maya.")).to_be_visible()

    page.get_by_role("searchbox", name="Search courses").fill("pyth")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/courses\?q=pyth$"))
    results = page.locator("#results")
    expect(results.get_by_role("heading", name="Python for Everyone")).to_be_visible()
    expect(results.get_by_text("Gardening Topic 00")).to_have_count(0)

    # Live filtering through HTMX: the URL follows the search so it can be shared.
    page.get_by_role("searchbox", name="Search", exact=True).fill("gardening")
    expect(page).to_have_url(re.compile(r"q=gardening"))
    expect(page.locator("#result-count")).to_contain_text("of 14 courses")
    page.get_by_role("link", name="Load more courses").click()
    expect(page.locator("#course-grid .course-card")).to_have_count(14)

    page.get_by_role("searchbox", name="Search", exact=True).fill("python")
    expect(page).to_have_url(re.compile(r"q=python"))
    page.get_by_role("heading", name="Python for Everyone").click()
    expect(page.get_by_role("heading", level=1, name="Python for Everyone")).to_be_visible()
    curriculum = page.locator(".curriculum")
    expect(curriculum.get_by_text("Getting started")).to_be_visible()
    expect(curriculum.get_by_text("Installing Python")).to_be_visible()
    curriculum.get_by_text("2. Working with data").click()
    expect(curriculum.get_by_text("Reading files")).to_be_visible()
    expect(page.locator(".buy-box")).to_contain_text("$29.99")


def test_catalog_works_without_javascript(
    committed: Any, page_without_js: Page, live_server: str
) -> None:
    _seed_catalog(committed)
    page = page_without_js
    page.goto(f"{live_server}/courses?q=gardening")
    expect(page.locator(".course-card")).to_have_count(12)
    page.get_by_role("link", name="Next page →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(".course-card")).to_have_count(2)
    page.get_by_label("Subject").select_option(label="Programming (1)")
    page.get_by_role("searchbox", name="Search", exact=True).fill("")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".course-card")).to_have_count(1)
    expect(page.locator(".course-card")).to_contain_text("Python for Everyone")
