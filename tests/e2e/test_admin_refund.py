"""An admin finds a two-course order by the buyer's email, refunds one course after seeing the
plan, and the student keeps the other one (live server, real worker process, Chromium)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.accounts.models import Role
from app.learning.models import Enrollment, EnrollmentStatus
from tests.factories import PASSWORD, make_course, make_user

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/B")


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome back")).to_be_visible()


def _buy_both(page: Page, base: str, slugs: list[str]) -> None:
    for slug in slugs:
        page.goto(f"{base}/courses/{slug}")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_role("link", name="Go to cart")).to_be_visible()
    page.goto(f"{base}/cart")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("I accept the terms of sale and the refund policy").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("You're enrolled", timeout=20_000)


def _shoot(browser: Browser, page: Page, name: str) -> None:
    """The page as it is now at 1280 px, and the same URL at 390 px (same login)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    narrow = page.context.new_page()
    narrow.set_viewport_size({"width": 390, "height": 844})
    narrow.goto(page.url)
    narrow.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    narrow.close()


def test_admin_refunds_one_course_of_two_and_the_student_keeps_the_other(
    committed: Any, live_worker: None, browser: Browser, page: Page, live_server: str
) -> None:
    student = make_user(email="two.courses@example.com", name="Tess Student")
    make_user(Role.ADMIN, email="boss@example.com", name="Ada Admin")
    keep = make_course("Practical SQL", prices={"USD": 3000})
    drop = make_course("Docker Deep Dive", prices={"USD": 2000})
    committed.commit()
    _log_in(page, live_server, student.email)
    _buy_both(page, live_server, [keep.slug, drop.slug])

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(10_000)
    _log_in(admin, live_server, "boss@example.com")
    admin.goto(f"{live_server}/admin/orders")
    admin.get_by_label("Token, email or provider id").fill("two.courses@")
    admin.get_by_role("button", name="Filter").click()
    rows = admin.locator("#order-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("two.courses@example.com")
    _shoot(browser, admin, "orders-list")
    rows.first.get_by_role("link").click()
    expect(admin.get_by_role("heading", name="Items")).to_be_visible()
    _shoot(browser, admin, "order-detail")

    form = admin.locator("#refund-form")
    form.get_by_label("Docker Deep Dive").check()
    form.get_by_label("Reason").fill("Bought the wrong course")
    form.get_by_role("button", name="Plan refund…").click()
    plan = admin.locator("#order-refund-plan")
    expect(plan).to_contain_text("Docker Deep Dive")
    expect(plan).to_contain_text("Access ends")
    expect(plan).not_to_contain_text("Practical SQL")
    expect(admin.get_by_text("Nothing has changed yet.")).to_be_visible()
    admin.screenshot(path=str(SHOTS / "refund-plan-1280.png"), full_page=True)
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.screenshot(path=str(SHOTS / "refund-plan-390.png"), full_page=True)
    admin.set_viewport_size({"width": 1280, "height": 900})
    admin.get_by_role("button", name="Confirm: refund").click()
    expect(admin.get_by_role("status").filter(has_text="Refund of $20.00 queued")).to_be_visible()

    refunds = admin.locator("section", has=admin.get_by_role("heading", name="Refunds"))
    for _ in range(40):  # the worker makes the refund at the sandbox provider meanwhile
        if "Succeeded" in (refunds.inner_text() or ""):
            break
        admin.wait_for_timeout(500)
        admin.reload()
    expect(refunds).to_contain_text("Succeeded")
    expect(admin.locator(".admin-head").first).to_contain_text("Partially refunded")
    _shoot(browser, admin, "order-refunded")

    page.goto(f"{live_server}/learning")
    page.screenshot(path=str(SHOTS / "student-learning-1280.png"), full_page=True)
    in_progress = page.locator("section[aria-labelledby='in-progress-title']")
    ended = page.locator("section[aria-labelledby='ended-title']")
    expect(in_progress.get_by_role("heading", name="Practical SQL")).to_be_visible()
    expect(in_progress).not_to_contain_text("Docker Deep Dive")
    expect(ended).to_contain_text("Docker Deep Dive")
    expect(ended).not_to_contain_text("Practical SQL")
    committed.expire_all()
    rows = committed.execute(
        select(Enrollment.course_id, Enrollment.status).where(Enrollment.user_id == student.id)
    )
    status = dict(rows.all())
    assert status == {keep.id: EnrollmentStatus.ACTIVE, drop.id: EnrollmentStatus.DROPPED}
