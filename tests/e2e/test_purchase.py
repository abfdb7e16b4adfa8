"""Browser journeys through checkout with the sandbox provider and a real worker process."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_course, make_user

pytestmark = pytest.mark.e2e


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome back")).to_be_visible()


def _buy(page: Page, base: str, slug: str) -> None:
    page.goto(f"{base}/courses/{slug}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to cart").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("I accept the terms of sale and the refund policy").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_text("Sandbox · test mode")).to_be_visible()


def test_paid_course_order_page_flips_to_enrolled(
    committed: Any, live_worker: None, page: Page, live_server: str
) -> None:
    make_user(email="payer@example.com")
    course = make_course("Async Python", prices={"USD": 3900})
    committed.commit()
    _log_in(page, live_server, "payer@example.com")
    _buy(page, live_server, course.slug)
    expect(page.locator(".test-banner")).to_contain_text("TEST MODE")
    page.get_by_role("button", name="Pay", exact=True).click()
    status = page.locator("#order-status")
    # The order page polls; the worker delivers the signed webhook and fulfils meanwhile.
    expect(status).to_contain_text("You're enrolled", timeout=20_000)
    assert "/orders/" in page.url
    # Longer than one poll period (2 s): the swapped-in body must still hold the whole order.
    page.wait_for_timeout(3_000)
    body = page.locator("#order-body")
    expect(body.get_by_role("cell", name="Async Python")).to_be_visible()
    expect(body.get_by_role("heading", name="History")).to_be_visible()
    expect(body).not_to_have_attribute("hx-trigger", "every 2s")
    page.get_by_role("link", name="Go to my learning").click()
    expect(page.get_by_role("heading", name="Async Python")).to_be_visible()


def test_declined_payment_then_try_again(
    committed: Any, live_worker: None, page: Page, live_server: str
) -> None:
    make_user(email="unlucky@example.com")
    course = make_course("Rust for Pythonistas", prices={"USD": 4900})
    committed.commit()
    _log_in(page, live_server, "unlucky@example.com")
    _buy(page, live_server, course.slug)
    page.get_by_label("Test card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Pay", exact=True).click()
    status = page.locator("#order-status")
    expect(status).to_contain_text("Payment failed", timeout=20_000)
    expect(status).to_contain_text("declined")
    status.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("Sandbox · test mode")).to_be_visible()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("You're enrolled", timeout=20_000)


def test_free_course_enrollment(committed: Any, page: Page, live_server: str) -> None:
    make_user(email="freebie@example.com")
    course = make_course("Git Basics", prices={"USD": 0, "INR": 0})
    committed.commit()
    _log_in(page, live_server, "freebie@example.com")
    page.goto(f"{live_server}/courses/{course.slug}")
    page.get_by_role("button", name="Enroll for free").click()
    expect(page.get_by_text("You're enrolled in “Git Basics”")).to_be_visible()
    expect(page.get_by_role("heading", name="Git Basics")).to_be_visible()
    page.goto(f"{live_server}/courses/{course.slug}")
    expect(page.get_by_text("You're enrolled in this course.")).to_be_visible()
