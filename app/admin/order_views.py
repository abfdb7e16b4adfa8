"""Orders: search and export, an order's page, and what an admin does to one — refund (the
plan is shown first), resend the receipt, reconcile its payment now — each confirmed first,
audited, and run through the same jobs the shop's other entry points use."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from wtforms import ValidationError

from app.admin import bp, order_actions, orders
from app.admin.access import actor
from app.admin.order_forms import KeyedForm, ReasonedForm, RefundForm
from app.admin.web import PER_PAGE, confirm_page, confirmed, csv_response, list_args
from app.checkout.models import Order
from app.core.errors import DomainError
from app.core.forms import attach_error, text
from app.core.htmx import render
from app.core.money import Money
from app.core.unit import committing
from app.payments import services
from app.payments.jobs import enqueue_refund


@bp.get("/orders")
def order_list() -> ResponseReturnValue:
    args = list_args("course", "status")
    if args.export:
        return csv_response("orders.csv", orders.ORDER_CSV_HEADER, orders.order_csv_rows(args))
    return render(
        "admin/order_list.html",
        "admin/partials/order_rows.html",
        args=args,
        orders=orders.list_orders(args, PER_PAGE),
        statuses=orders.STATUSES,
    )


def _order_page(token: str, status: int = 200, **forms: Any) -> ResponseReturnValue:
    info = orders.get_order_page(token)
    refund_form = forms.get("refund_form") or RefundForm(formdata=None)
    refund_form.course_ids.choices = [(i.course_id, i.title) for i in info.refundable_items]
    return render(
        "admin/order_detail.html",
        "admin/partials/order_body.html",
        status,
        info=info,
        refund_form=refund_form,
        receipt_form=forms.get("receipt_form") or KeyedForm(formdata=None),
        reconcile_form=forms.get("reconcile_form") or ReasonedForm(formdata=None),
    )


@bp.get("/orders/<token>")
def order_detail(token: str) -> ResponseReturnValue:
    return _order_page(token)


def _here(token: str) -> str:
    return url_for("admin.order_detail", token=token)


def _plan(form: RefundForm, order: Order) -> services.RefundPlan | None:
    """The refund the form asks for, or None with the reason on the form."""
    try:
        amount = form.amount_minor(order.currency)
        return services.plan_refund(order, form.course_ids.data or [], amount)
    except ValidationError as err:
        form.amount.errors = [*form.amount.errors, str(err)]
    except DomainError as err:
        attach_error(form, err)
    return None


@bp.post("/orders/<token>/refund")
def order_refund(token: str) -> ResponseReturnValue:
    order = orders.get_order(token)
    form = RefundForm()
    plan = _plan(form, order) if form.validate_on_submit() else None
    if plan is None:
        return _order_page(token, 422, refund_form=form)
    if not confirmed():
        detail = "admin/partials/order_refund_plan.html"
        action = url_for("admin.order_refund", token=token)
        return confirm_page("Refund", action, detail=detail, danger=True, plan=plan, form=form)
    with committing(form) as unit:
        refund = order_actions.refund_order(
            plan, text(form.reason), text(form.key), actor(), order.user.email
        )
    if not unit.ok:
        return _order_page(token, 422, refund_form=form)
    if not refund.status.is_final:
        enqueue_refund(refund.id)  # after the commit: the job finds the row
    flash(f"Refund of {Money(refund.amount_minor, refund.currency)} queued.", "success")
    return redirect(_here(token), 303)


@bp.post("/orders/<token>/receipt")
def order_resend_receipt(token: str) -> ResponseReturnValue:
    order = orders.get_order(token)
    form = KeyedForm()
    if not form.validate_on_submit():
        return _order_page(token, 422, receipt_form=form)
    if not confirmed():
        summary = [f"The receipt goes to {order.user.email} again (email and in-app)."]
        action = url_for("admin.order_resend_receipt", token=token)
        return confirm_page("Resend receipt", action, summary=summary)
    email = order.user.email
    with committing(form) as unit:
        order_actions.resend_receipt(order, text(form.key), actor(), email)
    if not unit.ok:
        return _order_page(token, 422, receipt_form=form)
    flash(f"Receipt queued for {email}.", "success")
    return redirect(_here(token), 303)


@bp.post("/orders/<token>/reconcile")
def order_reconcile(token: str) -> ResponseReturnValue:
    info = orders.get_order_page(token)
    form = ReasonedForm()
    if not form.validate_on_submit():
        return _order_page(token, 422, reconcile_form=form)
    if not confirmed():
        summary = ["The payment provider is asked now where the latest payment stands,",
                   "and its answer is applied (paid: the order is fulfilled)."]  # fmt: skip
        action = url_for("admin.order_reconcile", token=token)
        return confirm_page("Reconcile now", action, summary=summary)
    with committing(form) as unit:
        order_actions.reconcile_now(
            info.order, info.payments, actor(), info.buyer.email, text(form.reason)
        )
    if not unit.ok:
        return _order_page(token, 422, reconcile_form=form)
    flash("Reconciliation queued: a worker asks the provider now.", "success")
    return redirect(_here(token), 303)
