"""Catalog answers that are the same for every visitor, cached per process (core.shared_cache):
subject lists with counts, languages, and how many courses a filter-only search matches.

Any write to courses, their prices or categories ends them (the models are watched in
models.py); a text search's count is not cached here, it comes with its ranking.
"""

from __future__ import annotations

from dataclasses import replace

from app.catalog import queries, search
from app.catalog.queries import CategorySummary
from app.catalog.search import CourseSearch
from app.core import shared_cache

NAMESPACE = "catalog"


def categories() -> list[CategorySummary]:
    """Every category with its number of published courses."""
    return shared_cache.cached(NAMESPACE, "categories", queries.list_categories)


def languages() -> list[str]:
    """Languages that published courses are taught in."""
    return shared_cache.cached(NAMESPACE, "languages", queries.list_languages)


def filter_count(wanted: CourseSearch) -> int | None:
    """The number of matches of a search without text (None for a text search: its ranking
    counts them in the same pass). Page and sort do not change it."""
    if wanted.q:
        return None
    key = replace(wanted, page=1, sort=search.Sort.RELEVANCE)
    return shared_cache.cached(NAMESPACE, ("count", key), lambda: search.count_courses(key))
