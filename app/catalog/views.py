"""Home page, catalog search and course pages."""

from __future__ import annotations

from flask import abort, current_app, flash, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import request

from app.accounts.access import viewer
from app.catalog import bp, queries
from app.catalog.forms import CurrencyForm
from app.catalog.models import LANGUAGES, CourseLevel
from app.catalog.queries import CourseSearch, Sort
from app.core.htmx import redirect_to, render
from app.core.pagination import clamp_page
from app.core.security import is_safe_redirect
from app.core.visitor import choose_currency, visitor_currency

bp.add_app_template_global(queries.price_view, "price_view")


@bp.route("/")
def home() -> ResponseReturnValue:
    categories = queries.list_categories()
    return render(
        "catalog/home.html",
        "catalog/home.html",
        featured=queries.list_featured(),
        newest=queries.list_newest(),
        categories=categories,
        by_category=queries.list_courses_by_category(),
        currency=visitor_currency(),
    )


def _search_from_args() -> CourseSearch:
    args = request.args
    sort = args.get("sort", "")
    price = args.get("price", "")
    currency = args.get("currency", "").upper()
    return CourseSearch(
        q=args.get("q", "").strip()[:200],
        category=args.get("category", "")[:80],
        level=args.get("level", "") if args.get("level") in set(CourseLevel) else "",
        language=args.get("language", "") if args.get("language") in LANGUAGES else "",
        price=price if price in {"free", "paid"} else "",
        currency=currency if currency in current_app.config["SUPPORTED_CURRENCIES"] else "",
        sort=Sort(sort) if sort in set(Sort) else Sort.RELEVANCE,
        page=clamp_page(args.get("page")),
    )


@bp.route("/courses")
def course_list() -> ResponseReturnValue:
    search = _search_from_args()
    currency = search.currency or visitor_currency()
    results = queries.search_courses(search, currency, current_app.config["CATALOG_PAGE_SIZE"])
    response = render(
        "catalog/course_list.html",
        "catalog/partials/results.html",
        search=search,
        results=results,
        currency=currency,
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
    currency = visitor_currency()
    return render(
        "catalog/course_detail.html",
        "catalog/course_detail.html",
        course=course,
        price=queries.price_view(course, currency),
        currency=currency,
        lecture_count=sum(len(ch.lectures) for ch in course.chapters),
        duration_s=sum(ch.duration_s for ch in course.chapters),
    )


@bp.route("/currency", methods=["POST"])
def set_currency() -> ResponseReturnValue:
    form = CurrencyForm()
    form.currency.choices = list(current_app.config["SUPPORTED_CURRENCIES"])
    if not form.validate_on_submit() or not choose_currency(form.currency.data or ""):
        flash("That currency is not available.", "error")
    target = form.next.data or ""
    return redirect_to(target if is_safe_redirect(target) else url_for("catalog.home"))
