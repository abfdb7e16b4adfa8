"""Home page, catalog search and course pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort, current_app, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import request

from app.accounts.access import viewer
from app.accounts.models import User
from app.cart.forms import PackageForm
from app.cart.queries import SaleDisplay, purchase_state, sale_displays
from app.cart.shared import display_campaigns
from app.cart.web import current_cart
from app.catalog import bp, queries, shared, views_counter
from app.catalog.course_page import CoursePage, get_course_page
from app.catalog.models import LANGUAGES, CourseKind, CourseLevel
from app.catalog.queries import Priced
from app.catalog.rendered import course_card_html, page_curriculum
from app.catalog.search import (
    MAX_QUERY_LENGTH,
    CourseSearch,
    Sort,
    search_words,
)
from app.core.htmx import render, wants_partial
from app.core.pagination import clamp_page
from app.core.readonly import read_only
from app.core.visitor import visitor_currency
from app.learning.dashboard import LearningCard, get_course_card
from app.tutoring.offers import Offer, tutoring_offer, visitor_zone

bp.add_app_template_global(queries.price_view, "price_view")
bp.add_app_template_global(course_card_html, "course_card_html")


def _sales(courses: Sequence[Priced], currency: str) -> dict[int, SaleDisplay]:
    return sale_displays(courses, currency, display_campaigns(currency))


@bp.route("/")
@read_only
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
        categories=shared.categories(),
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
        q=args.get("q", "").strip()[:MAX_QUERY_LENGTH].strip(),
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
    if len(request.args.get("q", "").strip()) > MAX_QUERY_LENGTH:
        notices.append(
            f"Searches are limited to {MAX_QUERY_LENGTH} characters: "
            f"we searched for the first {MAX_QUERY_LENGTH} characters."
        )
    if search.q and not search_words(search.q):
        notices.append("Search for words made of letters or digits; symbols alone find nothing.")
    return notices


def _results_partial() -> tuple[str, int | None]:
    """The fragment an HTMX request swaps, and for "load more" the first page on screen."""
    if request.htmx.target == "load-more":  # appends a page: the count covers every card shown
        return "catalog/partials/load_more.html", clamp_page(request.args.get("start"))
    return "catalog/partials/results.html", None


def _filter_choices() -> dict[str, Any]:
    """What the filter sidebar offers; a fragment swap (results only) does not show it."""
    if wants_partial():
        return {}
    return {
        "categories": shared.categories(),
        "languages": {code: LANGUAGES.get(code, code) for code in shared.languages()},
        "levels": list(CourseLevel),
        "sorts": list(Sort),
    }


@bp.route("/courses")
@read_only
def course_list() -> ResponseReturnValue:
    search = _search_from_args()
    currency = search.currency or visitor_currency()
    per_page = current_app.config["CATALOG_PAGE_SIZE"]
    results = shared.search_page(search, currency, per_page)
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
        **_filter_choices(),
    )
    if request.htmx.target == "results":  # a filter change: show the clean, shareable URL
        response.headers["HX-Push-Url"] = url_for("catalog.course_list", **search.as_params())
    return response


def _learner(course: CoursePage, user: User | None) -> tuple[LearningCard | None, bool]:
    """The viewer's enrollment as a card, and whether they may open the player."""
    if user is None:
        return None, False
    card = get_course_card(user.id, course.id)
    staff = user.is_admin or user.id == course.teacher_id
    return card, staff or (card is not None and card.ended is None)


@bp.route("/courses/<slug>")
@read_only
def course_detail(slug: str) -> ResponseReturnValue:
    course = get_course_page(slug)
    if course is None or not queries.can_view(course, viewer()):
        abort(404)
    user, cart = viewer(), current_cart()
    state = purchase_state(course, user, cart, visitor_currency())
    sale = _sales([course], state.currency).get(course.id)
    price = queries.price_view(
        course, state.currency, sale.price if sale else None, sale.campaign_name if sale else None
    )
    learner, can_watch = _learner(course, user)
    offer = _offer(course, state.currency)
    response = render(
        "catalog/course_detail.html",
        "catalog/course_detail.html",
        course=course,
        price=price,
        state=state,
        currency=state.currency,
        curriculum=page_curriculum(course.id, course.curriculum_version, course.slug, can_watch),
        lecture_count=course.lecture_count,
        duration_s=course.duration_s,
        learner=learner,
        can_watch=can_watch,
        offer=offer,
        form=PackageForm(formdata=None).fill(offer) if offer else None,
    )
    if _is_public_view(course):
        views_counter.count_course_view(course.id)
    return response


def _offer(course: CoursePage, currency: str) -> Offer | None:
    """A tutoring course's packages and open times, on the visitor's clock (?tz=)."""
    if course.kind is not CourseKind.TUTORING:
        return None
    return tutoring_offer(course.id, currency, visitor_zone(request.args.get("tz"), currency))


def _is_public_view(course: CoursePage) -> bool:
    """A person opening a published course page: not HEAD, a fragment swap or a crawler."""
    return (
        request.method == "GET"
        and course.is_published
        and not wants_partial()
        and views_counter.is_browser(request.user_agent.string)
    )
