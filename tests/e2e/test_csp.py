"""No page breaks our Content-Security-Policy: Chromium reports each violation in the console."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_purchase import _buy, _log_in
from tests.factories import make_course, make_user

pytestmark = pytest.mark.e2e


def _violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: (
            seen.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    return seen


def test_anonymous_pages_have_no_csp_violations(
    committed: Any, page: Page, live_server: str
) -> None:
    course = make_course("Strict Pages", prices={"USD": 2900})
    committed.commit()
    seen = _violations(page)
    for path in ("/register", "/login", "/courses", f"/courses/{course.slug}", "/cart"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    # Fragments swapped in by HTMX: a refused registration and a cart update.
    page.goto(f"{live_server}/register")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#register-form .error").first).to_be_visible()
    page.goto(f"{live_server}/courses/{course.slug}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to cart").click()
    page.get_by_label("Coupon code").fill("NOSUCHCODE")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#code-error")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert seen == []


def test_order_page_has_no_csp_violations(
    committed: Any, live_worker: None, page: Page, live_server: str
) -> None:
    make_user(email="strict@example.com")
    course = make_course("Strict Orders", prices={"USD": 3900})
    committed.commit()
    seen = _violations(page)
    _log_in(page, live_server, "strict@example.com")
    _buy(page, live_server, course.slug)
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("You're enrolled", timeout=20_000)
    page.wait_for_timeout(2_500)  # one more poll swap
    page.goto(f"{live_server}/cart")
    page.wait_for_load_state("networkidle")
    assert seen == []
