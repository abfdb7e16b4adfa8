"""Checkout, free enrollment and the order pages."""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import current_user, login_required

from app.accounts.access import viewer
from app.cart.forms import EmptyForm
from app.cart.services import view_cart
from app.cart.web import current_cart
from app.catalog.queries import get_course_with_prices
from app.checkout import bp, invoices, queries, receipt_pdf, services
from app.checkout.forms import CheckoutForm
from app.checkout.history import order_history
from app.checkout.idempotency import IdempotencyConflict, request_hash
from app.checkout.models import LineKind, Order
from app.core.htmx import redirect_to, render
from app.core.unit import committing
from app.core.visitor import visitor_currency, visitor_locale
from app.extensions import limiter
from app.payments.providers import providers_for, sandbox_enabled
from app.payments.queries import list_payments, list_refunds
from app.payments.services import checkout_cart
from app.tutoring.offers import package_status

FORM_PARTIAL = "checkout/partials/checkout_form.html"


def _checkout_page(
    form: CheckoutForm, status: int = 200, problem: str | None = None, partial: str = ""
) -> ResponseReturnValue:
    user, cart = viewer(), current_cart()
    if cart is None or user is None:
        return redirect_to(url_for("cart.cart_page"))
    view = view_cart(cart, user)
    if not view.breakdown.lines:
        flash("Your cart is empty.", "info")
        return redirect_to(url_for("cart.cart_page"))
    return render(
        "checkout/checkout.html",
        partial or "checkout/checkout.html",  # GET answers the page; a POST its form
        status,
        view=view,
        form=form,
        problem=problem,
    )


def _form(currency: str) -> CheckoutForm:
    form = CheckoutForm()
    form.provider.choices = [(p.name, p.label) for p in providers_for(currency)]
    if not form.provider.data and form.provider.choices:
        form.provider.data = form.provider.choices[0][0]
    form.offers_state = currency == "INR"  # the Indian state decides CGST + SGST or IGST
    user = viewer()
    if not form.is_submitted() and user is not None:
        form.billing_name.data = user.name
    return form


@bp.get("/checkout")
@login_required
def checkout_page() -> ResponseReturnValue:
    cart = current_cart()
    return _checkout_page(_form(cart.currency if cart else visitor_currency()))


@bp.post("/checkout")
@login_required
@limiter.limit("60 per minute", key_func=lambda: f"checkout:{current_user.id}")
def place_order() -> ResponseReturnValue:
    user, cart = viewer(), current_cart()
    if cart is None or user is None:
        return redirect_to(url_for("cart.cart_page"))
    form = _form(cart.currency)
    if not form.validate_on_submit():
        return _checkout_page(form, 422, partial=FORM_PARTIAL)
    fingerprint = request_hash(form.fingerprint())
    with committing(catch=True) as unit:
        result = checkout_cart(
            user, cart, form.provider.data or "", form.idempotency_key.data or "", fingerprint
        )
        if not result.replayed:  # a replay answers as the first request did, which set them
            order = queries.get_order_by_token(result.order_token)
            invoices.set_buyer_details(order, form.buyer_details(user.name))
    if isinstance(unit.error, IdempotencyConflict):
        raise unit.error  # the error page says why; the first order stands
    if unit.error is not None:
        status = 422 if unit.error.status < 500 else unit.error.status
        return _checkout_page(form, status, unit.error.message, FORM_PARTIAL)
    if result.existing:
        flash("This cart is already an order waiting for payment: here it is.", "info")
    return redirect_to(result.redirect)


@bp.get("/orders")
@login_required
def my_orders() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    return render(
        "checkout/orders.html", "checkout/orders.html", orders=queries.list_orders(user.id)
    )


@bp.get("/orders/<token>")
@login_required
def order_page(token: str) -> ResponseReturnValue:
    order = queries.get_order_for(token, viewer())
    if order is None:
        abort(404)
    order = queries.load_order(order.id)
    payments, refunds = list_payments(order.id), list_refunds(order.id)
    user = viewer()
    packages = package_status([i.id for i in order.items if i.kind is LineKind.TUTORING])
    # A paid package's trainer is chosen by a job within seconds: wait for it on the page.
    choosing = order.is_paid and any(p.allocation is None for p in packages.values())
    return render(
        "checkout/order.html",
        "checkout/partials/order_body.html",  # the element that polls is the one swapped
        order=order,
        payments=payments,
        refunds=refunds,
        history=order_history(order, payments, refunds, queries.refund_titles(order.id)),
        show_internal=bool(user and user.is_admin),
        retry_choices=providers_for(order.currency),
        credit_notes=invoices.list_credit_notes(order.id),
        canceled=request.args.get("canceled"),
        # The page polls while something is on its way: the payment, or a refund being made.
        waiting=order.is_awaiting_payment or any(r.is_pending for r in refunds) or choosing,
        packages=packages,
        form=EmptyForm(),
    )


def _pdf(data: bytes, filename: str) -> Response:
    response = make_response(data)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # Refunds add credit notes to a receipt: never serve a stale copy.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _invoiced_order(token: str) -> Order | ResponseReturnValue:
    """The viewer's (or, for an admin, anyone's) fulfilled order; else 404, or 409 unpaid."""
    order = queries.get_order_for(token, viewer())
    if order is None:
        abort(404)
    if not order.is_paid:
        page = "checkout/receipt_unavailable.html"
        return render(page, page, 409, order=order)
    return invoices.load_invoice_order(order.id)


@bp.get("/orders/<token>/receipt.pdf")
@login_required
def order_receipt(token: str) -> ResponseReturnValue:
    order = _invoiced_order(token)
    if not isinstance(order, Order):
        return order
    seller = receipt_pdf.seller_from(current_app.config)
    notes = invoices.list_credit_notes(order.id)
    data = receipt_pdf.render_receipt(order, notes, seller, visitor_locale())
    return _pdf(data, f"{order.invoice_number or 'receipt-' + order.token[:8]}.pdf")


@bp.get("/orders/<token>/credit-notes/<number>.pdf")
@login_required
def credit_note_pdf(token: str, number: str) -> ResponseReturnValue:
    order = _invoiced_order(token)
    if not isinstance(order, Order):
        return order
    note = invoices.get_credit_note(order.id, number)
    if note is None:
        abort(404)
    seller = receipt_pdf.seller_from(current_app.config)
    data = receipt_pdf.render_credit_note(order, note, seller, visitor_locale())
    return _pdf(data, f"{note.number}.pdf")


@bp.post("/courses/<slug>/enroll")
def enroll_free(slug: str) -> ResponseReturnValue:
    course = get_course_with_prices(slug)
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
    with committing(catch=True) as unit:
        services.enroll_free(user, course, cart.currency if cart else visitor_currency())
    if unit.error is not None:
        flash(unit.error.message, "error")
        return redirect_to(url_for("catalog.course_detail", slug=slug))
    flash(f"You're enrolled in “{course.title}”. Enjoy the course!", "success")
    return redirect_to(url_for("learning.my_learning"))


@bp.app_context_processor
def _test_mode() -> dict[str, bool]:
    return {"test_mode": sandbox_enabled()}
