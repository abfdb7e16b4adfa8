"""Catalog answers that are the same for every visitor, cached per process (core.shared_cache):
subject lists with counts, languages, and how many courses a search matches.

Any write to courses, their prices or categories ends them (the models are watched in
models.py).
"""

from __future__ import annotations

from dataclasses import replace

from app.catalog import queries, search
from app.catalog.queries import CategorySummary, CourseCard
from app.catalog.search import CourseSearch
from app.core import shared_cache
from app.core.pagination import Page

NAMESPACE = "catalog"


def categories() -> list[CategorySummary]:
    """Every category with its number of published courses."""
    return shared_cache.cached(NAMESPACE, "categories", queries.list_categories)


def languages() -> list[str]:
    """Languages that published courses are taught in."""
    return shared_cache.cached(NAMESPACE, "languages", queries.list_languages)


def search_page(wanted: CourseSearch, currency: str, per_page: int) -> Page[CourseCard]:
    """One page of results. How many courses match is the same for every visitor and every page
    and sort of the search: a filter-only search counts once; a text search counts along with its
    first ranking (a window over every match), and later pages and visitors skip that pass."""
    key = ("count", replace(wanted, page=1, sort=search.Sort.RELEVANCE))
    if not wanted.q:
        total = shared_cache.cached(NAMESPACE, key, lambda: search.count_courses(key[1]))
        return search.search_courses(wanted, currency, per_page, total)
    known = shared_cache.peek(NAMESPACE, key)
    page = search.search_courses(wanted, currency, per_page, known)
    if known is None:
        shared_cache.keep(NAMESPACE, key, page.total)
    return page
