"""A tutoring package end to end in Chromium with a real worker: the student picks a slot and
pays, sees the trainer and the sessions appear on the order page without a reload; the
trainer marks the first session done; the student's progress reads 10 %."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from app.accounts.models import User
from app.core.models import utcnow
from app.tutoring.models import TutoringSession
from tests.e2e.test_purchase import _log_in
from tests.factories import make_user
from tests.tutoring.conftest import next_weekday, package, trainer, tutoring_course

pytestmark = pytest.mark.e2e


def test_buy_a_package_see_the_trainer_then_the_first_session_counts(
    committed: Any, live_worker: None, page: Page, browser: Browser, live_server: str
) -> None:
    course, category = tutoring_course("Live Algebra")
    package(course, 10, usd=20000)
    coach = trainer([category.slug], name="Tilda Coach")
    coach_email = committed.get(User, coach.user_id).email
    make_user(email="tutee@example.com", name="Tom Tutee")
    committed.commit()
    sunday = next_weekday(utcnow().date(), 7)

    _log_in(page, live_server, "tutee@example.com")
    page.goto(f"{live_server}/courses/{course.slug}?tz=Europe/London")
    form = page.locator("#package-form")
    expect(form).to_contain_text("Times with a trainer free")
    form.get_by_label("10 sessions").check()
    form.get_by_label("Your time zone").select_option("Europe/London")
    form.get_by_label("Start time").select_option("18:00")
    form.get_by_label("First session on or after").fill(sunday.isoformat())
    form.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("I accept the terms of sale and the refund policy").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(r"/orders/"))
    page.evaluate("window.notReloaded = true")
    section = page.locator(".order-package")
    expect(section).to_contain_text("Your trainer: Tilda Coach", timeout=30_000)
    expect(section.locator("tbody tr")).to_have_count(10)
    expect(section).to_contain_text(sunday.strftime("%a %d %b %Y") + ", 18:00")
    page.wait_for_timeout(2_500)  # past a poll period: the page stops polling, still whole
    expect(page.locator("#order-body")).not_to_have_attribute("hx-trigger", "every 2s")
    assert page.evaluate("window.notReloaded") is True
    order_url = page.url

    # The first session has taken place; the trainer marks it done from the desk.
    first = committed.scalars(select(TutoringSession.id).where(TutoringSession.number == 1)).one()
    committed.execute(
        update(TutoringSession)
        .where(TutoringSession.id == first)
        .values(starts_at=utcnow() - timedelta(hours=2))
    )
    committed.commit()
    desk = browser.new_context()
    trainer_page = desk.new_page()
    try:
        _log_in(trainer_page, live_server, coach_email)
        trainer_page.goto(f"{live_server}/tutoring/")
        expect(trainer_page.locator("#desk-students")).to_contain_text("Tom Tutee")
        trainer_page.locator(".desk-mark").first.get_by_role("button", name="Save").click()
        expect(trainer_page.locator("#desk-to-mark")).to_contain_text("Session 1 marked done.")
    finally:
        desk.close()

    page.goto(order_url)
    expect(page.locator(".order-package")).to_contain_text("1 of 10 sessions attended (10%)")
