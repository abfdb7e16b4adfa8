"""Coupon and sale changes made in the console: the cart's services do the change, and each
writes its audit row in the same transaction."""

from __future__ import annotations

from typing import Any

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.cart.models import Coupon, Sale
from app.cart.services import coupons, sales
from app.extensions import db


def coupon_fields(coupon: Coupon) -> dict[str, Any]:
    """What the audit log records of a coupon."""
    return {
        "code": coupon.code,
        "kind": coupon.kind,
        "percent_off_bp": coupon.percent_off_bp,
        "amount_off_minor": coupon.amount_off_minor,
        "currency": coupon.currency,
        "max_uses": coupon.max_uses,
        "max_uses_per_user": coupon.max_uses_per_user,
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "description": coupon.description,
        "active": coupon.active,
    }


def _coupon_target(coupon: Coupon) -> Target:
    return Target("coupon", coupon.id, coupon.code)


def create_coupon(spec: coupons.CouponSpec, who: Actor) -> Coupon:
    """A new coupon, logged."""
    coupon = coupons.create_coupon(spec)
    record_audit(who, "coupon.create", _coupon_target(coupon), Diff(None, coupon_fields(coupon)))
    return coupon


def edit_coupon(coupon: Coupon, limits: coupons.CouponLimits, who: Actor) -> Coupon:
    """New limits and window, logged with what they were."""
    before = coupon_fields(coupon)
    coupons.update_coupon(coupon, limits)
    db.session.flush()
    diff = _changed(before, coupon_fields(coupon))
    record_audit(who, "coupon.edit", _coupon_target(coupon), diff)
    return coupon


def set_coupon_active(coupon: Coupon, active: bool, who: Actor, reason: str) -> Coupon:
    """Deactivate (or reactivate) a coupon, logged."""
    before = coupon.active
    coupons.set_coupon_active(coupon, active)
    action = "coupon.activate" if active else "coupon.deactivate"
    diff = Diff({"active": before}, {"active": active})
    record_audit(who, action, _coupon_target(coupon), diff, reason)
    return coupon


def sale_fields(sale: Sale) -> dict[str, Any]:
    return {
        "slug": sale.slug,
        "name": sale.name,
        "percent_off_bp": sale.percent_off_bp,
        "all_courses": sale.all_courses,
        "starts_at": sale.starts_at,
        "ends_at": sale.ends_at,
        "active": sale.active,
    }


def create_sale(spec: sales.SaleSpec, who: Actor) -> Sale:
    sale = sales.create_sale(spec)
    record_audit(
        who, "sale.create", Target("sale", sale.id, sale.name), Diff(None, sale_fields(sale))
    )
    return sale


def edit_sale(sale: Sale, window: tuple[str, Any, Any], who: Actor) -> Sale:
    """Rename or move the campaign's window (`window` = name, starts, ends), logged."""
    before = sale_fields(sale)
    sales.update_sale(sale, *window)
    diff = _changed(before, sale_fields(sale))
    record_audit(who, "sale.edit", Target("sale", sale.id, sale.name), diff)
    return sale


def set_sale_active(sale: Sale, active: bool, who: Actor, reason: str) -> Sale:
    before = sale.active
    sales.set_sale_active(sale, active)
    action = "sale.activate" if active else "sale.deactivate"
    diff = Diff({"active": before}, {"active": active})
    record_audit(who, action, Target("sale", sale.id, sale.name), diff, reason)
    return sale


def _changed(before: dict[str, Any], after: dict[str, Any]) -> Diff:
    keys = [k for k in after if before.get(k) != after[k]]
    return Diff({k: before.get(k) for k in keys}, {k: after[k] for k in keys})
