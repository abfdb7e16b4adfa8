"""Rendered course cards, kept per process. A card's HTML is a function of what it shows, so
the key is exactly that (the CourseCard's values, the sale, currency and locale): a change
anywhere makes a new key, and nothing needs invalidating."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from flask import current_app
from markupsafe import Markup

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
