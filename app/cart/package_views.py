"""Adding a tutoring package to the cart: the package and the student's schedule, checked
field by field (and against the trainers free for it) before anything is charged."""

from __future__ import annotations

from flask import flash, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import request

from app.cart import bp, services
from app.cart.forms import PackageForm
from app.cart.web import current_cart
from app.catalog.models import Course
from app.core.forms import attach_error
from app.core.htmx import redirect_to, render
from app.core.models import utcnow
from app.core.unit import committing
from app.core.visitor import visitor_currency
from app.extensions import db
from app.tutoring.models import TutoringPackage
from app.tutoring.offers import tutoring_offer, visitor_zone


@bp.post("/cart/packages")
def add_package() -> ResponseReturnValue:
    form = PackageForm()
    currency = visitor_currency()
    raw_package = request.form.get("package_id", "")
    package = db.session.get(TutoringPackage, int(raw_package)) if raw_package.isdigit() else None
    if package is None:
        flash("That package could not be found.", "error")
        return redirect_to(url_for("catalog.course_list"))
    course = db.session.get(Course, package.course_id)
    assert course is not None  # the package's foreign key
    zone = visitor_zone(request.form.get("timezone"), currency)
    offer = tutoring_offer(course.id, currency, zone)
    form.fill(offer)
    if form.validate_on_submit():
        cart = current_cart(create=True)
        assert cart is not None
        with committing(catch=True, savepoint=True) as unit:
            services.add_package(cart, package.id, form.choices(), zone, utcnow().date())
        if unit.error is None:
            flash(f"{package.sessions} sessions of “{course.title}” are in your cart.", "success")
            return redirect_to(url_for("cart.cart_page"))
        attach_error(form, unit.error)
    return (
        render(
            "tutoring/choose.html",
            "tutoring/partials/package_form.html",
            course=course,
            offer=offer,
            form=form,
        ),
        422,
    )
