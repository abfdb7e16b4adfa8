"""A student buys a video course, continues it from "My learning", watches (hls.js), leaves and
comes back where they stopped; an anonymous visitor plays the preview on the course page.

Set LEARNER_SHOTS=<folder> to also save screenshots of the dashboard and the player (1280 px,
390 px, and without JavaScript)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from app.learning.models import Enrollment, LectureProgress
from app.media.storage import get_storage
from tests.e2e.test_purchase import _buy, _log_in
from tests.factories import make_course, make_user
from tests.learning.builders import Transcoded, lectures_of, store_video, transcode_clip

pytestmark = pytest.mark.e2e

VIDEO = "video#lecture-video"
SHOTS = os.environ.get("LEARNER_SHOTS")


@pytest.fixture(scope="module")
def hls_clip(tmp_path_factory: pytest.TempPathFactory) -> Transcoded:
    """20 s of test card as HLS in two renditions (360p and 480p)."""
    return transcode_clip(tmp_path_factory.mktemp("learner"), seconds=20, height=480)


@pytest.fixture
def visitor(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _current_time(page: Page, video: str) -> float:
    return float(page.evaluate(f"document.querySelector('{video}').currentTime"))


def _play_until(page: Page, video: str, seconds: float) -> float:
    """Start the video (muted) and poll until it has played past `seconds`; where it got."""
    page.locator(video).scroll_into_view_if_needed()
    page.evaluate(f"document.querySelector('{video}').muted = true")
    page.evaluate(f"void document.querySelector('{video}').play().catch(() => {{}})")
    # Polled from here: wait_for_function evaluates in the page, which the CSP forbids.
    at = 0.0
    for _ in range(150):
        at = _current_time(page, video)
        if at > seconds:
            break
        page.wait_for_timeout(200)
    return at


def _saved_position(session: Any, user_id: int, lecture_id: int) -> int | None:
    """What the server holds as the student's place in the lecture (a fresh read)."""
    session.rollback()
    stmt = (
        sa.select(LectureProgress.position_s)
        .join(Enrollment, Enrollment.id == LectureProgress.enrollment_id)
        .where(Enrollment.user_id == user_id, LectureProgress.lecture_id == lecture_id)
    )
    return session.scalar(stmt)


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"player-{name}.png"), full_page=True)


def test_buy_continue_watch_leave_and_resume(
    committed: Any,
    live_worker: None,
    live_server: str,
    page: Page,
    visitor: Page,
    browser: Browser,
    hls_clip: Transcoded,
) -> None:
    student = make_user(email="watcher@example.com", name="Wanda Watcher")
    course = make_course(
        "Streaming Fundamentals",
        prices={"USD": 2500},
        chapters=(("Part one", (("Intro", 20), ("Main event", 20))), ("Part two", (("Notes", 0),))),
    )
    intro, main, _notes = lectures_of(course)
    for lecture in (intro, main):
        store_video(get_storage(), hls_clip, lecture)
    committed.commit()
    course_url = f"{live_server}/courses/{course.slug}"

    # An anonymous visitor plays the preview lecture on the course page.
    visitor.goto(course_url)
    assert _play_until(visitor, "#course-preview video", 1) > 1

    _log_in(page, live_server, "watcher@example.com")
    _buy(page, live_server, course.slug)
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order-status")).to_contain_text("You're enrolled", timeout=20_000)
    page.get_by_role("link", name="Go to my learning").click()
    expect(page.get_by_role("heading", name="Streaming Fundamentals")).to_be_visible()
    _shot(page, "dashboard-1280")
    page.get_by_role("link", name="Continue Streaming Fundamentals").click()
    expect(page).to_have_url(re.compile(rf"/learning/{course.slug}/{intro.id}$"))

    # The page's controls: speed, quality (hls.js renditions), shortcuts.
    expect(page.get_by_label("Playback speed")).to_be_visible()
    expect(page.get_by_label("Video quality")).to_be_visible(timeout=15_000)
    options = page.get_by_label("Video quality").locator("option").all_inner_texts()
    assert options[0].startswith("Auto") and {"360p", "480p"} <= set(options)
    page.locator("main h1").click()  # focus outside any form field
    page.keyboard.press(">")
    assert float(page.evaluate(f"document.querySelector('{VIDEO}').playbackRate")) == 1.25
    page.keyboard.press("<")

    left_at = _play_until(page, VIDEO, 6)
    assert left_at > 6  # the HLS video plays
    _shot(page, "lecture-1280")
    page.goto(f"{live_server}/learning")  # leaving: the page's beacon says where it stopped
    saved = None
    for _ in range(50):
        saved = _saved_position(committed, student.id, intro.id)
        if saved is not None and saved >= 5:
            break
        page.wait_for_timeout(200)
    assert saved is not None and abs(saved - left_at) <= 2, (saved, left_at)
    page.reload()  # the dashboard may have been served before the beacon's heartbeat landed
    expect(page.locator(".learner-last")).to_have_text("Intro")

    # Opening the lecture and leaving without playing keeps the saved place.
    page.get_by_role("link", name="Continue Streaming Fundamentals").click()
    expect(page.locator(VIDEO)).to_have_attribute("data-resume", str(saved))
    page.wait_for_timeout(1_000)
    page.goto(f"{live_server}/learning")
    page.wait_for_timeout(1_000)  # a beacon, had one gone out, has landed by now
    assert _saved_position(committed, student.id, intro.id) == saved

    page.get_by_role("link", name="Continue Streaming Fundamentals").click()
    expect(page.locator(VIDEO)).to_have_attribute("data-resume", str(saved))
    resumed = _play_until(page, VIDEO, 0.1)
    assert abs(resumed - saved) <= 2, (resumed, saved)

    if SHOTS:
        _more_shots(browser, page, live_server, f"/learning/{course.slug}/{intro.id}")


def _more_shots(browser: Browser, page: Page, base: str, player: str) -> None:
    """The dashboard and the player at 390 px and without JavaScript, signed in as `page`."""
    state = page.context.storage_state()
    for name, options in (
        ("390", {"viewport": {"width": 390, "height": 844}}),
        ("nojs", {"viewport": {"width": 1280, "height": 900}, "java_script_enabled": False}),
    ):
        context = browser.new_context(storage_state=state, **options)  # type: ignore[arg-type]
        other = context.new_page()
        other.goto(f"{base}/learning")
        _shot(other, f"dashboard-{name}")
        other.goto(f"{base}{player}")
        other.wait_for_timeout(1_000)
        _shot(other, f"lecture-{name}")
        context.close()
