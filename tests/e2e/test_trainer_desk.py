"""The trainer's desk in a browser: every page fits 390 px without sideways scrolling, a
session is marked without JavaScript (a plain form post and a redirect), and with it (htmx
swaps the list to mark, the students' count follows)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app.accounts.models import User
from app.extensions import db
from tests.e2e.test_purchase import _log_in
from tests.tutoring.desk_fixture import started_desk

pytestmark = pytest.mark.e2e
PAGES = ("/tutoring/", "/tutoring/profile", "/tutoring/time-off")


def _desk() -> tuple[str, list[int]]:
    """A trainer with one student whose first two sessions have started; (email, their ids)."""
    teacher, ids = started_desk()
    user = db.session.get(User, teacher.user_id)
    assert user is not None
    return user.email, ids


def _fits(page: Page, path: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide at 390"


def test_the_desk_fits_390_px_and_marks_a_session_without_javascript(
    committed: Any, browser: Browser, live_server: str
) -> None:
    email, ids = _desk()
    committed.commit()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page, live_server, email)
        for path in (*PAGES, f"/tutoring/sessions/{ids[0]}"):
            page.goto(f"{live_server}{path}")
            _fits(page, path)
        page.goto(f"{live_server}/tutoring/")
        first = page.locator(".desk-mark").first
        first.get_by_label("No-show").check()
        first.get_by_role("button", name="Save").click()
        expect(page).to_have_url(f"{live_server}/tutoring/")
        expect(
            page.get_by_role("status").filter(has_text="Session 1 marked no-show.")
        ).to_be_visible()
        expect(page.locator(".desk-mark")).to_have_count(1)
    finally:
        context.close()


def test_marking_with_javascript_swaps_the_list_and_the_students_count(
    committed: Any, page: Page, live_server: str
) -> None:
    email, _ = _desk()
    committed.commit()
    _log_in(page, live_server, email)
    page.goto(f"{live_server}/tutoring/")
    page.evaluate("window.notReloaded = true")
    students = page.locator("#desk-students")
    expect(students).to_contain_text("0 / 10")
    page.locator(".desk-mark").first.get_by_role("button", name="Save").click()
    expect(page.locator("#desk-to-mark")).to_contain_text("Session 1 marked done.")
    expect(students).to_contain_text("1 / 10")
    expect(page.locator(".desk-mark")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True
