"""Checkout and order pages."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask.typing import ResponseReturnValue

from app.accounts.access import viewer
from app.cart.forms import EmptyForm
from app.cart.web import current_cart
from app.catalog.queries import get_course_page
from app.checkout import bp, services
from app.core.errors import DomainError
from app.core.htmx import redirect_to
from app.core.visitor import visitor_currency
from app.extensions import db


@bp.post("/courses/<slug>/enroll")
def enroll_free(slug: str) -> ResponseReturnValue:
    course = get_course_page(slug)
    if course is None:
        abort(404)
    user = viewer()
    if user is None:
        flash("Log in or create an account to enroll.", "info")
        return redirect_to(
            url_for("accounts.login", next=url_for("catalog.course_detail", slug=slug))
        )
    if not EmptyForm().validate_on_submit():
        abort(400)
    cart = current_cart()
    try:
        services.enroll_free(user, course, cart.currency if cart else visitor_currency())
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect_to(url_for("catalog.course_detail", slug=slug))
    flash(f"You're enrolled in “{course.title}”. Enjoy the course!", "success")
    return redirect_to(url_for("learning.my_learning"))
