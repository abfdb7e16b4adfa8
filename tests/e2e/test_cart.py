"""Browser journey: an anonymous cart with coupons that survives logging in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.core.models import utcnow
from tests.cart.conftest import make_coupon
from tests.factories import PASSWORD, make_course, make_user

pytestmark = pytest.mark.e2e


def test_anonymous_cart_coupon_and_login(committed: Any, page: Page, live_server: str) -> None:
    user = make_user(email="cart.shopper@example.com")
    first = make_course("Practical SQL", prices={"USD": 4000, "INR": 299900})
    second = make_course("Data Visualisation", prices={"USD": 2000, "INR": 149900})
    make_coupon("WELCOME25", percent_off_bp=2500)
    make_coupon("OLDNEWS", valid_until=utcnow() - timedelta(days=1))
    committed.commit()

    badge = page.locator("#cart-badge")
    for course in (first, second):
        page.goto(f"{live_server}/courses/{course.slug}")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_role("link", name="Go to cart")).to_be_visible()
    expect(badge).to_have_text("2")  # refreshed by the cart-updated event, no reload

    page.get_by_role("link", name="Go to cart").click()
    total = page.locator("#sum-total")
    expect(total).to_have_text("$60.00")
    page.get_by_label("Coupon code").fill("welcome25")
    page.get_by_role("button", name="Apply").click()
    expect(total).to_have_text("$45.00")
    expect(page.get_by_text("Coupon WELCOME25 applied.")).to_be_visible()

    page.get_by_label("Coupon code").fill("OLDNEWS")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert").filter(has_text="This coupon has expired.")).to_be_visible()
    expect(total).to_have_text("$45.00")  # the applied coupon stays

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome back")).to_be_visible()
    expect(badge).to_have_text("2")
    page.goto(f"{live_server}/cart")
    expect(page.locator(".cart-line")).to_have_count(2)
    expect(page.locator("#sum-coupon")).to_have_text("\u2212$15.00")  # a real minus sign
    expect(total).to_have_text("$45.00")
