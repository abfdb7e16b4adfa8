"""Home page, catalog search and course pages."""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort, current_app, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import request

from app.accounts.access import viewer
from app.cart.forms import AddToCartForm
from app.cart.queries import SaleDisplay, list_active_campaigns, purchase_state, sale_displays
from app.cart.web import current_cart
from app.catalog import bp, queries
from app.catalog.models import LANGUAGES, CourseLevel
from app.catalog.queries import CourseCard, CourseSearch, Sort
from app.core.htmx import render
from app.core.pagination import clamp_page
from app.core.visitor import visitor_currency

bp.add_app_template_global(queries.price_view, "price_view")


def _sales(cards: Iterable[CourseCard], currency: str) -> dict[int, SaleDisplay]:
    courses = [card.course for card in cards]
    return sale_displays(courses, currency, list_active_campaigns(currency))


@bp.route("/")
def home() -> ResponseReturnValue:
    currency = visitor_currency()
    featured, newest = queries.list_featured(), queries.list_newest()
    by_category = queries.list_courses_by_category()
    shown = [*featured, *newest, *(c for cards in by_category.values() for c in cards)]
    return render(
        "catalog/home.html",
        "catalog/home.html",
        featured=featured,
        newest=newest,
        categories=queries.list_categories(),
        by_category=by_category,
        currency=currency,
        sales=_sales(shown, currency),
    )


def _search_from_args() -> CourseSearch:
    args = request.args
    sort = args.get("sort", "")
    price = args.get("price", "")
    currency = args.get("currency", "").upper()
    return CourseSearch(
        q=args.get("q", "").strip()[: queries.MAX_QUERY_LENGTH].strip(),
        category=args.get("category", "")[:80],
        level=args.get("level", "") if args.get("level") in set(CourseLevel) else "",
        language=args.get("language", "") if args.get("language") in LANGUAGES else "",
        price=price if price in {"free", "paid"} else "",
        currency=currency if currency in current_app.config["SUPPORTED_CURRENCIES"] else "",
        sort=Sort(sort) if sort in set(Sort) else Sort.RELEVANCE,
        page=clamp_page(args.get("page")),
    )


def _search_notices(search: CourseSearch) -> list[str]:
    """What the search did with the text that the visitor may not expect."""
    notices = []
    if len(request.args.get("q", "").strip()) > queries.MAX_QUERY_LENGTH:
        notices.append(
            f"Searches are limited to {queries.MAX_QUERY_LENGTH} characters: "
            f"we searched for the first {queries.MAX_QUERY_LENGTH} characters."
        )
    if search.q and not queries.search_words(search.q):
        notices.append("Search for words made of letters or digits; symbols alone find nothing.")
    return notices


def _results_partial() -> tuple[str, int | None]:
    """The fragment an HTMX request swaps, and for "load more" the first page on screen."""
    if request.htmx.target == "load-more":  # appends a page: the count covers every card shown
        return "catalog/partials/load_more.html", clamp_page(request.args.get("start"))
    return "catalog/partials/results.html", None


@bp.route("/courses")
def course_list() -> ResponseReturnValue:
    search = _search_from_args()
    currency = search.currency or visitor_currency()
    results = queries.search_courses(search, currency, current_app.config["CATALOG_PAGE_SIZE"])
    if results.page > results.pages:
        abort(404)  # a page past the end, e.g. an old link after courses were unpublished
    partial, start = _results_partial()
    response = render(
        "catalog/course_list.html",
        partial,
        search=search,
        results=results,
        start=min(start or results.page, results.page),
        notices=_search_notices(search),
        currency=currency,
        sales=_sales(results.items, currency),
        categories=queries.list_categories(),
        languages={code: LANGUAGES.get(code, code) for code in queries.list_languages()},
        levels=list(CourseLevel),
        sorts=list(Sort),
    )
    if request.htmx.target == "results":  # a filter change: show the clean, shareable URL
        response.headers["HX-Push-Url"] = url_for("catalog.course_list", **search.as_params())
    return response


@bp.route("/courses/<slug>")
def course_detail(slug: str) -> ResponseReturnValue:
    course = queries.get_course_page(slug)
    if course is None or not queries.can_view(course, viewer()):
        abort(404)
    user, cart = viewer(), current_cart()
    state = purchase_state(course, user, cart, visitor_currency())
    sale = _sales([CourseCard(course, 0, 0)], state.currency).get(course.id)
    price = queries.price_view(
        course, state.currency, sale.price if sale else None, sale.campaign_name if sale else None
    )
    return render(
        "catalog/course_detail.html",
        "catalog/course_detail.html",
        course=course,
        price=price,
        state=state,
        form=AddToCartForm(),
        currency=state.currency,
        lecture_count=sum(len(ch.lectures) for ch in course.chapters),
        duration_s=sum(ch.duration_s for ch in course.chapters),
    )
