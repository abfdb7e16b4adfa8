"""The cart page and its HTMX actions: add, remove, coupon, currency and country."""

from __future__ import annotations

from flask import abort, current_app, flash, g, has_request_context, redirect, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import user_logged_in
from htmx_flask import request

from app.accounts.access import viewer
from app.accounts.models import User

# package_views registers its routes on the blueprint when imported.
from app.cart import bp, package_views, queries, services  # noqa: F401
from app.cart.forms import AddToCartForm, CountryForm, CouponForm, CurrencyForm, EmptyForm
from app.cart.web import anonymous_cart, current_cart, forget_new_cart, set_cart_cookie
from app.catalog.models import Course
from app.core.errors import DomainError
from app.core.htmx import redirect_to, render
from app.core.security import is_safe_redirect
from app.core.unit import committing
from app.core.visitor import choose_currency, visitor_currency

UPDATED = "cart-updated"
bp.after_app_request(set_cart_cookie)


def _count_in_cart() -> int:
    cart = current_cart()
    return queries.count_items(cart.id) if cart is not None else 0


@bp.app_context_processor
def _cart_badge() -> dict[str, object]:
    # A function: only a page that shows the badge pays for the count.
    return {"cart_count": _count_in_cart} if has_request_context() else {}


@user_logged_in.connect
def _merge_on_login(_app: object, user: User, **_: object) -> None:
    """The cart built before logging in follows the user."""
    cart = anonymous_cart()
    if cart is not None:
        with committing():
            services.merge_carts(cart, user)


def _back(default: str) -> str:
    target = request.form.get("next", "")
    return target if is_safe_redirect(target) else default


def _cart_response(status: int = 200, **context: object) -> Response:
    cart = current_cart(create=True)
    assert cart is not None
    view = services.view_cart(cart, viewer())
    return render(
        "cart/cart_page.html",
        "cart/partials/cart.html",
        status,
        view=view,
        coupon_form=context.pop("coupon_form", None) or CouponForm(),
        country_form=CountryForm(country=view.country),
        form=EmptyForm(),
        **context,
    )


@bp.get("/cart")
def cart_page() -> ResponseReturnValue:
    return _cart_response()


@bp.get("/cart/open/<signed>")
def open_link(signed: str) -> ResponseReturnValue:
    """Seed 002's cart_url: the cart it names becomes this visitor's, then the cart page.

    Anonymously the cart goes into the cart cookie; signed in, it is merged into the user's
    cart as at login. A cart that already belongs to a user opens for that user only."""
    token = services.cart_token_from_link(signed)
    if token is None:
        abort(400, "This cart link is not valid.")
    cart = queries.get_cart_by_token(token)
    if cart is None:
        abort(404, "This cart has expired.")
    user = viewer()
    if cart.user_id is None and user is not None:
        with committing():
            services.merge_carts(cart, user)
    elif cart.user_id is None:
        g.new_cart_token = cart.token  # set_cart_cookie hands it to the browser
    elif user is None:
        return redirect(url_for("accounts.login", next=request.path))
    elif user.id != cart.user_id:
        abort(404)
    return redirect(url_for("cart.cart_page"))


@bp.get("/cart/badge")
def badge() -> ResponseReturnValue:
    return render("cart/partials/cart_badge.html", "cart/partials/cart_badge.html")


def _add_button(
    course: Course, status: int, message: str | None, state: queries.PurchaseState | None = None
) -> Response:
    state = state or queries.purchase_state(course, viewer(), current_cart(), visitor_currency())
    return render(
        "cart/partials/add_button.html",
        "cart/partials/add_button.html",
        status,
        course=course,
        state=state,
        message=message,
    )


@bp.post("/cart/items")
def add_item() -> ResponseReturnValue:
    form = AddToCartForm()
    course = queries.load_course(form.course_id.data) if form.validate_on_submit() else None
    if course is None:
        return _add_button_missing()
    cart = current_cart(create=True)
    assert cart is not None
    # A refusal undoes the add only, so a cart that was there (on `g`) still renders the answer;
    # a cart opened for this add goes with it (no savepoint: two round trips fewer).
    title, in_cart = course.title, queries.PurchaseState("in_cart", cart.currency)
    fresh = services.just_opened(cart)
    with committing(catch=True, savepoint=not fresh) as unit:
        services.add_course(cart, course.id, viewer())
    if unit.error is not None:
        if fresh:
            forget_new_cart()
        return _refused(queries.load_course(course.id) or course, unit.error)
    if not request.htmx:
        flash(f"“{title}” is in your cart.", "success")
        return redirect_to(_back(url_for("cart.cart_page")))
    # Added, so the button says so: no need to load the course and cart the commit expired.
    response = _add_button(course, 200, None, state=in_cart)
    response.headers["HX-Trigger"] = UPDATED
    return response


def _add_button_missing() -> Response:
    flash("That course could not be found.", "error")
    return redirect_to(url_for("catalog.course_list"))


def _refused(course: Course, err: DomainError) -> Response:
    if request.htmx:
        return _add_button(course, 422, err.message)
    flash(err.message, "error")
    return redirect_to(_back(url_for("catalog.course_detail", slug=course.slug)))


@bp.post("/cart/items/<int:course_id>/delete")
def remove_item(course_id: int) -> ResponseReturnValue:
    cart = current_cart()
    if cart is not None and EmptyForm().validate_on_submit():
        with committing():
            services.remove_course(cart, course_id)
    if not request.htmx:
        return redirect_to(url_for("cart.cart_page"))
    response = _cart_response()
    response.headers["HX-Trigger"] = UPDATED
    return response


@bp.post("/cart/coupon")
def apply_coupon() -> ResponseReturnValue:
    form = CouponForm()
    cart = current_cart()
    if cart is None or not queries.count_items(cart.id):
        # An empty cart shows no coupon field to hold the error: say it on the cart page.
        flash("Add a course before applying a coupon.", "error")
        return redirect_to(url_for("cart.cart_page"))
    if not form.validate_on_submit():
        return _cart_response(422, coupon_form=form)
    code = form.code.data or ""
    with committing(catch=True, savepoint=True) as unit:  # a refused coupon changes nothing
        services.apply_coupon(cart, code, viewer())
    if unit.error is not None:
        form.code.errors = [unit.error.message]
        return _cart_response(422, coupon_form=form)
    return _after_change(f"Coupon {code.strip().upper()} applied.")


@bp.post("/cart/coupon/delete")
def remove_coupon() -> ResponseReturnValue:
    cart = current_cart()
    if cart is not None and EmptyForm().validate_on_submit():
        with committing():
            services.remove_coupon(cart)
    return _after_change("Coupon removed.")


def _after_change(message: str) -> Response:
    if request.htmx:
        return _cart_response(notice=message, coupon_form=CouponForm(formdata=None))
    flash(message, "success")
    return redirect_to(url_for("cart.cart_page"))


@bp.post("/cart/country")
def set_country() -> ResponseReturnValue:
    form = CountryForm()
    cart = current_cart(create=True)
    if form.validate_on_submit() and cart is not None:
        with committing():
            services.set_country(cart, form.country.data or None)
    return _after_change("Tax updated for your country.")


@bp.post("/currency")
def set_currency() -> ResponseReturnValue:
    form = CurrencyForm()
    form.currency.choices = list(current_app.config["SUPPORTED_CURRENCIES"])
    code = form.currency.data or ""
    if not form.validate_on_submit() or not choose_currency(code):
        flash("That currency is not available.", "error")
        return redirect_to(_back(url_for("catalog.home")))
    cart = current_cart()
    with committing():
        dropped = services.set_currency(cart, code) if cart is not None else []
    for title in dropped:
        flash(f"“{title}” has no price in {code} and left your cart.", "warning")
    return redirect_to(_back(url_for("catalog.home")))
