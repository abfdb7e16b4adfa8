"""Coupons and sales: lists with usage (reserved vs redeemed, remaining uses), create and edit
(audited), deactivate and reactivate (confirmed first, audited)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin import promotion_actions as actions
from app.admin import promotions as promos
from app.admin.access import actor
from app.admin.catalog_admin import course_choices
from app.admin.forms import CouponForm, CouponLimitsForm, ReasonForm, SaleEditForm, SaleForm
from app.admin.user_views import run_sensitive
from app.admin.web import PER_PAGE, csv_response, list_args
from app.cart.models import Sale
from app.core.forms import text
from app.core.htmx import render
from app.core.unit import committing
from app.extensions import db


@bp.get("/coupons")
def coupon_list() -> ResponseReturnValue:
    args = list_args("state")
    if args.export:
        return csv_response("coupons.csv", promos.COUPON_CSV_HEADER, promos.coupon_csv_rows(args))
    return render(
        "admin/coupon_list.html",
        "admin/partials/coupon_rows.html",
        args=args,
        coupons=promos.list_coupons(args, PER_PAGE),
        states=promos.COUPON_STATES,
    )


@bp.route("/coupons/new", methods=["GET", "POST"])
def coupon_new() -> ResponseReturnValue:
    form = CouponForm()
    if form.validate_on_submit():
        with committing(form) as unit:
            coupon = actions.create_coupon(form.spec(), actor())
        if unit.ok:
            flash(f"Coupon {coupon.code} created.", "success")
            return redirect(url_for("admin.coupon_edit", coupon_id=coupon.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/coupon_form.html", form=form), status


def _usage(coupon_id: int) -> promos.CouponUsage:
    usage = promos.get_coupon_usage(coupon_id)
    if usage is None:
        abort(404)
    return usage


@bp.route("/coupons/<int:coupon_id>", methods=["GET", "POST"])
def coupon_edit(coupon_id: int) -> ResponseReturnValue:
    usage = _usage(coupon_id)
    form = CouponLimitsForm(obj=usage.coupon)
    if form.validate_on_submit():
        with committing(form) as unit:
            actions.edit_coupon(usage.coupon, form.limits(), actor())
        if unit.ok:
            flash(f"Coupon {usage.coupon.code} saved.", "success")
            return redirect(url_for("admin.coupon_edit", coupon_id=coupon_id), 303)
        usage = _usage(coupon_id)
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "admin/coupon_edit.html", usage=usage, form=form, active_form=ReasonForm(formdata=None)
    )
    return page, status


@bp.post("/coupons/<int:coupon_id>/active")
def coupon_set_active(coupon_id: int) -> ResponseReturnValue:
    usage = _usage(coupon_id)
    coupon, form = usage.coupon, ReasonForm()
    active = not coupon.active
    verb = "Reactivate" if active else "Deactivate"
    effect = (
        "It is accepted again." if active else "Carts stop accepting it; placed orders keep it."
    )
    here = url_for("admin.coupon_edit", coupon_id=coupon_id)

    def again() -> ResponseReturnValue:
        limits = CouponLimitsForm(formdata=None, obj=coupon)
        return render_template(
            "admin/coupon_edit.html", usage=_usage(coupon_id), form=limits, active_form=form
        ), 422

    return run_sensitive(
        form,
        again,
        (
            f"{verb} {coupon.code}",
            url_for("admin.coupon_set_active", coupon_id=coupon_id),
            [effect],
        ),
        lambda: actions.set_coupon_active(coupon, active, actor(), text(form.reason)),
        (f"Coupon {coupon.code} {'reactivated' if active else 'deactivated'}.", here),
    )


@bp.get("/sales")
def sale_list() -> ResponseReturnValue:
    args = list_args("state")
    if args.export:
        return csv_response("sales.csv", promos.SALE_CSV_HEADER, promos.sale_csv_rows(args))
    return render(
        "admin/sale_list.html",
        "admin/partials/sale_rows.html",
        args=args,
        sales=(sales := promos.list_sales(args, PER_PAGE)),
        usage=promos.usage_by_sale(sales.items),
        states=promos.SALE_STATES,
        sale_state=promos.sale_state,
    )


@bp.route("/sales/new", methods=["GET", "POST"])
def sale_new() -> ResponseReturnValue:
    form = SaleForm()
    form.course_ids.choices = course_choices()
    if form.validate_on_submit():
        with committing(form) as unit:
            sale = actions.create_sale(form.spec(), actor())
        if unit.ok:
            flash(f"Sale {sale.name} created.", "success")
            return redirect(url_for("admin.sale_list"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/sale_form.html", form=form), status


def _sale(sale_id: int) -> Sale:
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        abort(404)
    return sale


@bp.route("/sales/<int:sale_id>", methods=["GET", "POST"])
def sale_edit(sale_id: int) -> ResponseReturnValue:
    sale = _sale(sale_id)
    form = SaleEditForm(obj=sale)
    if form.validate_on_submit():
        with committing(form) as unit:
            actions.edit_sale(sale, (text(form.name), *form.window()), actor())
        if unit.ok:
            flash(f"Sale {form.name.data} saved.", "success")
            return redirect(url_for("admin.sale_list"), 303)
        sale = _sale(sale_id)
    status = 422 if form.is_submitted() else 200
    active_form = ReasonForm(formdata=None)
    usage = promos.usage_by_sale([sale]).get(sale.slug, promos.SaleUsage())
    page = render_template(
        "admin/sale_edit.html", sale=sale, form=form, active_form=active_form, usage=usage
    )
    return page, status


@bp.post("/sales/<int:sale_id>/active")
def sale_set_active(sale_id: int) -> ResponseReturnValue:
    sale, form = _sale(sale_id), ReasonForm()
    active = not sale.active
    verb = "Reactivate" if active else "Deactivate"
    effect = "Its prices apply again in its window." if active else "Prices return to normal now."

    def again() -> ResponseReturnValue:
        edit = SaleEditForm(formdata=None, obj=sale)
        page = render_template("admin/sale_edit.html", sale=sale, form=edit, active_form=form)
        return page, 422

    return run_sensitive(
        form,
        again,
        (f"{verb} {sale.name}", url_for("admin.sale_set_active", sale_id=sale_id), [effect]),
        lambda: actions.set_sale_active(sale, active, actor(), text(form.reason)),
        (
            f"Sale {sale.name} {'reactivated' if active else 'deactivated'}.",
            url_for("admin.sale_list"),
        ),
    )
