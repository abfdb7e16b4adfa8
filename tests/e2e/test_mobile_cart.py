"""The cart at 390 px: the total and "Check out" stay in the first viewport."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.test_purchase import _log_in
from tests.factories import make_course, make_user
from tests.payments.conftest import fill_cart

pytestmark = pytest.mark.e2e


def test_check_out_is_visible_without_scrolling(
    committed: Any, browser: Browser, live_server: str
) -> None:
    user = make_user(email="mobile@example.com")
    courses = [make_course(f"Pocket Course {n}", prices={"USD": 1900 + n}) for n in range(4)]
    fill_cart(user, [c.id for c in courses])
    committed.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        _log_in(page, live_server, "mobile@example.com")
        page.goto(f"{live_server}/cart")
        bar = page.locator(".checkout-bar")
        checkout = bar.get_by_role("link", name="Check out")
        expect(checkout).to_be_visible()
        assert page.evaluate("window.scrollY") == 0
        box = checkout.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844
        expect(bar).to_contain_text("$")
        checkout.click()
        expect(page).to_have_url(f"{live_server}/checkout")
    finally:
        context.close()
