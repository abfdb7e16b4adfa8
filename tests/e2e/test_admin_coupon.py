"""An admin creates a coupon in the console; a shopper applies it, pays, and the console shows
the use as redeemed with one use remaining (live server, real worker process, Chromium)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.accounts.models import Role
from app.checkout.models import Order
from tests.e2e.test_admin_refund import _log_in, _shoot
from tests.factories import make_course, make_user

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/B")


def test_a_coupon_made_in_the_console_discounts_a_purchase_and_counts_its_use(
    committed: Any, live_worker: None, browser: Browser, page: Page, live_server: str
) -> None:
    shopper = make_user(email="coupon.buyer@example.com", name="Cora Buyer")
    make_user(Role.ADMIN, email="boss@example.com", name="Ada Admin")
    course = make_course("Kubernetes for Humans", prices={"USD": 4000})
    committed.commit()

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(10_000)
    _log_in(admin, live_server, "boss@example.com")
    admin.goto(f"{live_server}/admin/coupons")
    admin.get_by_role("link", name="New coupon").click()
    admin.get_by_label("Code").fill("launch25")
    admin.get_by_label("Percent off").fill("25")
    admin.get_by_label("Uses in total").fill("2")
    admin.get_by_role("button", name="Create coupon").click()
    expect(admin.get_by_role("status").filter(has_text="Coupon LAUNCH25 created")).to_be_visible()
    expect(admin.locator("#coupon-remaining")).to_have_text("2")
    _shoot(browser, admin, "coupon-created")

    _log_in(page, live_server, shopper.email)
    page.goto(f"{live_server}/courses/{course.slug}")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("link", name="Go to cart")).to_be_visible()
    page.goto(f"{live_server}/cart")
    page.get_by_label("Coupon code").fill("LAUNCH25")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#sum-coupon")).to_have_text("\N{MINUS SIGN}$10.00")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("I accept the terms of sale and the refund policy").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("You're enrolled", timeout=20_000)

    admin.reload()
    expect(admin.locator("#coupon-redeemed")).to_have_text("1")
    expect(admin.locator("#coupon-remaining")).to_have_text("1")
    expect(admin.locator("#coupon-reserved")).to_have_text("0")
    _shoot(browser, admin, "coupon-used")
    admin.goto(f"{live_server}/admin/coupons")
    expect(admin.locator("tbody tr", has_text="LAUNCH25")).to_contain_text("25%")

    committed.expire_all()
    order = committed.scalars(select(Order).where(Order.user_id == shopper.id)).one()
    assert order.coupon_discount_minor == 1000 and order.coupon_code == "LAUNCH25"
