"""A student finishes a course of short generated lectures in the browser (two HLS videos
watched to the end, a reading marked as done), the worker renders the certificate, the student
downloads it from "My learning", and anyone can open its verification page."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from app.media.storage import get_storage
from tests.e2e.test_learner import _play_until
from tests.e2e.test_purchase import _log_in
from tests.factories import make_course, make_user
from tests.learning.builders import Transcoded, lectures_of, store_video, transcode_clip

pytestmark = pytest.mark.e2e

VIDEO = "video#lecture-video"


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Transcoded:
    return transcode_clip(tmp_path_factory.mktemp("journey"), seconds=4, height=360)


def _watch_to_the_end(page: Page) -> None:
    """Play the lecture's video (muted) until it ends, then wait for the sidebar to tick it."""
    _play_until(page, VIDEO, 1)
    for _ in range(100):
        if page.evaluate(f"document.querySelector('{VIDEO}').ended"):
            break
        page.wait_for_timeout(200)
    assert page.evaluate(f"document.querySelector('{VIDEO}').ended")
    # The "ended" heartbeat completes the lecture; the sidebar swaps in with its tick.
    expect(page.locator("#lecture-sidebar li.is-current.is-done")).to_be_visible(timeout=10_000)


def test_finish_a_course_download_the_certificate_and_verify_it(
    committed: Any,
    live_worker: None,
    live_server: str,
    page: Page,
    browser: Browser,
    short_clip: Transcoded,
) -> None:
    student = make_user(email="finisher@example.com", name="Zoë Finisher")
    course = make_course(
        "Tiny Course of Clips",
        chapters=(("Only chapter", (("First clip", 4), ("Second clip", 4), ("Reading", 0))),),
    )
    first, second, _reading = lectures_of(course)
    for lecture in (first, second):
        store_video(get_storage(), short_clip, lecture)
    grant_enrollment(student.id, course.id, EnrollmentSource.ADMIN)
    committed.commit()

    _log_in(page, live_server, student.email)
    page.goto(f"{live_server}/learning")
    page.get_by_role("link", name="Continue Tiny Course of Clips").click()
    expect(page).to_have_url(re.compile(rf"/learning/{course.slug}/{first.id}$"))
    _watch_to_the_end(page)
    page.get_by_role("link", name=re.compile("^Next: Second clip")).click()
    _watch_to_the_end(page)
    page.get_by_role("link", name=re.compile("^Next: Reading")).click()
    page.get_by_role("button", name="Mark as done").click()
    expect(page.locator("#done-button")).to_contain_text("Done")
    expect(page.locator("#lecture-sidebar")).to_contain_text("100%")

    # The worker renders the certificate: "My learning" offers it once it is there.
    page.goto(f"{live_server}/learning")
    expect(page.locator("#certificates-title")).to_be_visible()
    pdf_link = page.locator("section[aria-labelledby=certificates-title] a", has_text="PDF")
    for _ in range(30):
        response = page.request.get(live_server + (pdf_link.get_attribute("href") or ""))
        if response.status == 200:
            break
        page.wait_for_timeout(1_000)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "Zoë Finisher" in text and "Tiny Course of Clips" in text
    code = re.search(r"CF-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    assert code is not None

    # Anyone (no login) can verify it.
    stranger = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        other = stranger.new_page()
        other.goto(f"{live_server}/certificates/{code[0]}")
        expect(other.locator("#certificate")).to_contain_text("Valid certificate")
        expect(other.locator("#certificate")).to_contain_text("Zoë Finisher")
        expect(other.locator("#certificate")).to_contain_text("Tiny Course of Clips")
    finally:
        stranger.close()
