"""Rendered catalog pieces, kept per process: course cards and course page curricula.

A piece's HTML is a function of what it shows, so the key is exactly that: for a card the
CourseCard's values, the sale, currency and locale; for a curriculum the course's
curriculum_version (a new one on every change to its chapters and lectures), its slug (in the
lecture links) and whether the visitor may open the lectures. A change anywhere makes a new
key, and nothing needs invalidating."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup

from app.catalog.curriculum import LectureView, first_preview, list_curriculum
from app.catalog.queries import CourseCard
from app.core.visitor import visitor_locale

MAX_CARDS = 1000
_cards: dict[Hashable, Markup] = {}


def course_card_html(card: CourseCard, currency: str, sales: Mapping[int, Hashable]) -> Markup:
    """The card's HTML (templates/_macros/ui.html course_card_body), rendered once per key."""
    sale = sales.get(card.id)
    key = (card, currency, sale, visitor_locale())
    html = _cards.get(key)
    if html is None:
        macros = current_app.jinja_env.get_template("_macros/ui.html").module
        html = macros.course_card_body(card, currency, sale)  # type: ignore[attr-defined]
        if len(_cards) >= MAX_CARDS:
            _cards.pop(next(iter(_cards)))
        _cards[key] = html
    return html


MAX_CURRICULA = 2048
# Indentation is a third of a rendered chapter list; a kept one goes without it.
_INDENT = re.compile(r"\n\s+")


@dataclass(frozen=True, slots=True)
class PageCurriculum:
    """The course page's curriculum as it shows it."""

    html: Markup  # the chapter list (templates/_macros/catalog.html curriculum_chapters)
    chapter_count: int
    preview: LectureView | None  # the first preview lecture with a video: the page plays it


_curricula: dict[tuple[int, int, str, bool], PageCurriculum] = {}


def page_curriculum(course_id: int, version: int, slug: str, can_watch: bool) -> PageCurriculum:
    """The curriculum of the course at `version` (read by the same request, before this)."""
    key = (course_id, version, slug, can_watch)
    kept = _curricula.get(key)
    if kept is None:
        # Read after the version, so never older than it; a newer read is as good, since the
        # change that made it gives the course a new version and so a new key.
        chapters = list_curriculum(course_id)
        macros = current_app.jinja_env.get_template("_macros/catalog.html").module
        html = macros.curriculum_chapters(chapters, slug, can_watch)  # type: ignore[attr-defined]
        bare = Markup(_INDENT.sub("\n", html))  # noqa: S704 - the macro's escaped HTML
        kept = PageCurriculum(bare, len(chapters), first_preview(chapters))
        if len(_curricula) >= MAX_CURRICULA:
            _curricula.pop(next(iter(_curricula)))
        _curricula[key] = kept
    return kept
