"""A teacher makes a course in the studio and uploads videos that a real worker transcodes; the
course is published, an enrolled student and an anonymous visitor play what they may."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app.accounts.models import Role
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from app.media.testcard import make_clip
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e

# The highest value any upload bar showed (the bar is replaced once the upload is confirmed).
WATCH_UPLOAD_BAR = """
window.__uploadMax = 0;
(function watch() {
  for (const bar of document.querySelectorAll("progress[data-upload-bar]")) {
    window.__uploadMax = Math.max(window.__uploadMax, bar.value);
  }
  requestAnimationFrame(watch);
})();
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "lesson.mp4", seconds=4, height=720)


@pytest.fixture
def teacher_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_UPLOAD_BAR)
    page = context.new_page()
    yield page
    context.close()


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").filter(has_text="Welcome back")).to_be_visible()


def _plays(page: Page, video: str) -> float:
    """Start the video and say how far it got a moment later (seconds)."""
    page.locator(video).scroll_into_view_if_needed()
    page.evaluate(f"document.querySelector('{video}').muted = true")
    # Pressed at once, maybe before the player is ready (the promise is not awaited here).
    page.evaluate(f"void document.querySelector('{video}').play().catch(() => {{}})")
    # Polled from here: wait_for_function evaluates in the page, which the CSP forbids.
    at = 0.0
    for _ in range(100):
        at = float(page.evaluate(f"document.querySelector('{video}').currentTime"))
        if at > 1:
            break
        page.wait_for_timeout(200)
    return at


def _upload(page: Page, clip: Path) -> None:
    page.locator("#lecture-video input[type=file]").set_input_files(str(clip))
    page.locator("#lecture-video").get_by_role("button", name="Upload").click()
    # The partial polls every 2 s while the worker transcodes, then shows the ready video.
    expect(page.locator("#lecture-video video[data-lecture-id]")).to_be_visible(timeout=90_000)
    page.wait_for_timeout(2_500)  # past a poll period: it stays ready, polling stopped
    expect(page.locator("#lecture-video")).to_contain_text("Ready")
    expect(page.locator("#lecture-video")).not_to_have_attribute("hx-trigger", re.compile("every"))


def test_a_teacher_publishes_a_video_course_that_students_and_visitors_play(
    committed: Any,
    live_worker: None,
    live_server: str,
    teacher_page: Page,
    browser: Browser,
    clip: Path,
) -> None:
    make_user(Role.TEACHER, email="studio@example.com", name="Stella Studio")
    student = make_user(email="learner@example.com")
    committed.commit()
    page = teacher_page
    _log_in(page, live_server, "studio@example.com")
    page.get_by_role("link", name="Teach").click()
    page.get_by_role("link", name="New course").click()
    page.get_by_label("Title", exact=True).fill("Filming with Playwright")
    page.get_by_label("Subtitle").fill("Made in the studio by a browser")
    page.get_by_role("button", name="Create course").click()
    # htmx is a deferred script: typing as soon as the field exists can beat its handlers (a
    # person starts later), and then no preview is ever asked for.
    page.wait_for_load_state("load")
    page.get_by_label("Description").fill("## About\n\nA **real** course.")
    expect(page.locator("#description-preview strong")).to_have_text("real")  # live preview
    page.get_by_label("Price in USD").fill("12.50")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#course-details").get_by_role("status")).to_have_text("Saved.")
    course_url = page.url
    page.get_by_role("link", name="Curriculum").first.click()
    page.locator("#new-chapter").fill("Getting started")
    page.get_by_role("button", name="Add chapter").click()
    for title in ("Welcome", "Deep dive"):
        page.get_by_placeholder("New lecture title").first.fill(title)
        page.get_by_role("button", name="Add lecture").first.click()
        expect(page.locator("#curriculum").get_by_role("link", name=title)).to_be_visible()
    page.get_by_role("button", name=re.compile("Make preview.*Welcome")).click()
    expect(page.get_by_role("button", name=re.compile("Remove preview.*Welcome"))).to_be_visible()

    # Uploads go straight to storage in parts, slowly enough here to watch the bar fill.
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    page.locator("#curriculum").get_by_role("link", name="Welcome").click()
    _upload(page, clip)
    assert page.evaluate("window.__uploadMax") == 100
    assert _plays(page, "#lecture-video video") > 1  # the teacher's preview of it plays
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.get_by_role("link", name=re.compile("Curriculum of")).click()
    page.locator("#curriculum").get_by_role("link", name="Deep dive").click()
    deep_dive = int(re.search(r"/studio/lectures/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    _upload(page, clip)

    page.goto(course_url)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#publish-panel")).to_contain_text("Published")
    page.goto(f"{live_server}/courses?q=playwright")
    card = page.get_by_role("link", name="Filming with Playwright")
    expect(card).to_be_visible()
    course_page = card.get_attribute("href")

    # An anonymous visitor plays the preview lecture on the course page.
    visitor = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    visitor.goto(f"{live_server}{course_page}")
    assert _plays(visitor, "#course-preview video") > 1
    # ... but not the lecture that is not a preview: it asks them to log in.
    visitor.goto(f"{live_server}/lectures/{deep_dive}")
    expect(visitor.get_by_label("Email")).to_be_visible()
    visitor.context.close()

    # An enrolled student plays the lecture that is not a preview.
    course_id = int(re.search(r"/courses/(\d+)", course_url).group(1))  # type: ignore[union-attr]
    grant_enrollment(student.id, course_id, EnrollmentSource.FREE)
    committed.commit()
    learner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(learner, live_server, "learner@example.com")
    learner.goto(f"{live_server}{course_page}")
    learner.get_by_role("link", name="Deep dive").click()
    assert _plays(learner, "video[data-lecture-id]") > 1
    learner.context.close()
