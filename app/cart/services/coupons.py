"""Coupon rules (seed 004): eligibility with a reason for every refusal, and atomic use.

A use is reserved when an order is placed, redeemed when it is paid and released when it fails
or expires. Reservation locks the coupon row, so concurrent checkouts can never exceed
`max_uses` or `max_uses_per_user`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from app.cart.models import (
    Coupon,
    CouponEvent,
    CouponEventKind,
    CouponRedemption,
    RedemptionStatus,
)
from app.cart.pricing import Breakdown, CouponKind
from app.cart.queries import get_coupon_by_code
from app.core.db import lock
from app.core.errors import DomainError
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db


class CouponInvalid(DomainError):
    """A coupon that cannot be used, with a stable reason and seed 002's numeric code.

    The API answers `"code": 2004` (the number, as seed 002 shows it) with the reason and
    seed 002's `validation_messages` beside it; pages show the message."""

    status = 422

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="coupon")
        self.reason = reason
        self.number = REASON_NUMBERS[reason]
        self.code = self.number  # type: ignore[assignment]  # seed 002's codes are numbers

    def details(self) -> dict[str, object]:
        return {"reason": self.reason, "validation_messages": [self.message]}


# Stable numeric codes in the style of seed 002 ("code": 2004, "Coupon is invalid.").
REASON_NUMBERS = {
    "coupon_unknown": 2004,
    "coupon_inactive": 2005,
    "coupon_not_yet_valid": 2006,
    "coupon_expired": 2007,
    "coupon_used_up": 2008,
    "coupon_already_used": 2009,
    "coupon_below_minimum": 2010,
    "coupon_not_applicable": 2011,
    "coupon_currency_mismatch": 2012,
}


def _money(amount: int | None, currency: str | None) -> str:
    return str(Money(amount or 0, currency)) if currency else str(amount)


def user_uses(coupon_id: int, user_id: int) -> int:
    """Reserved and redeemed uses of the coupon by the user."""
    stmt = select(func.count(CouponRedemption.id)).where(
        CouponRedemption.coupon_id == coupon_id,
        CouponRedemption.user_id == user_id,
        CouponRedemption.status != RedemptionStatus.RELEASED,
    )
    return int(db.session.scalar(stmt) or 0)


def check_window(coupon: Coupon, now: datetime) -> None:
    """Active and within its validity dates."""
    if not coupon.active:
        raise CouponInvalid("coupon_inactive", "This coupon is no longer active.")
    if coupon.valid_from and now < coupon.valid_from:
        when = coupon.valid_from.strftime("%d %b %Y")
        raise CouponInvalid("coupon_not_yet_valid", f"This coupon can be used from {when}.")
    if coupon.valid_until and now >= coupon.valid_until:
        raise CouponInvalid("coupon_expired", "This coupon has expired.")


def check_uses(coupon: Coupon, user_id: int | None) -> None:
    """Uses left overall and for this user."""
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CouponInvalid("coupon_used_up", "This coupon has been used up.")
    limit = coupon.max_uses_per_user
    if user_id is not None and limit is not None and user_uses(coupon.id, user_id) >= limit:
        raise CouponInvalid("coupon_already_used", "You have already used this coupon.")


def check_cart(coupon: Coupon, priced: Breakdown) -> None:
    """Currency, courses in scope and minimum order amount (of the cart priced without coupon)."""
    currency, lines, sale_total = priced.currency, priced.lines, priced.sale_total
    if coupon.currency and coupon.currency != currency:
        raise CouponInvalid(
            "coupon_currency_mismatch",
            f"This coupon is for carts in {coupon.currency}; your cart is in {currency}.",
        )
    scope = {c.id for c in coupon.courses}
    if scope and not any(line.course_id in scope for line in lines):
        raise CouponInvalid(
            "coupon_not_applicable", "This coupon doesn't apply to the courses in your cart."
        )
    if coupon.minimum_minor and sale_total < coupon.minimum_minor:
        raise CouponInvalid(
            "coupon_below_minimum",
            "This coupon needs an order of at least "
            f"{_money(coupon.minimum_minor, coupon.currency)}.",
        )


def validate_coupon(
    code: str, user_id: int | None, priced: Breakdown, now: datetime | None = None
) -> Coupon:
    """The coupon for this code if this user may use it on this cart (priced without a coupon),
    else CouponInvalid."""
    coupon = get_coupon_by_code(code) if code.strip() else None
    if coupon is None:
        raise CouponInvalid("coupon_unknown", "Coupon is invalid.")
    check_window(coupon, now or utcnow())
    check_cart(coupon, priced)
    check_uses(coupon, user_id)
    return coupon


@dataclass(frozen=True)
class CouponSpec:
    code: str
    kind: CouponKind
    percent_off_bp: int = 0
    amount_off: Money | None = None
    currency: str | None = None
    minimum: int | None = None
    max_discount: int | None = None
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    course_ids: tuple[int, ...] = ()
    description: str = ""


def create_coupon(spec: CouponSpec) -> Coupon:
    """A new coupon; codes are unique case-insensitively."""
    code = spec.code.strip().upper()
    if not code.replace("-", "").replace("_", "").isalnum() or len(code) > 40:
        raise DomainError("Codes use letters, digits, - and _ (at most 40).", code="bad_code")
    if get_coupon_by_code(code) is not None:
        raise DomainError(f"A coupon {code} already exists.", code="coupon_exists")
    if spec.kind is CouponKind.PERCENT and not 0 < spec.percent_off_bp <= 10_000:
        raise DomainError("A percentage must be above 0 and at most 100.", code="bad_percent")
    if spec.kind is CouponKind.FIXED and (spec.amount_off is None or spec.amount_off.amount <= 0):
        raise DomainError("A fixed coupon needs a positive amount.", code="bad_amount")
    currency = spec.amount_off.currency if spec.amount_off else spec.currency
    if (spec.minimum or spec.max_discount) and not currency:
        raise DomainError("A minimum or a cap needs a currency.", code="needs_currency")
    coupon = Coupon(
        code=code,
        kind=spec.kind,
        description=spec.description,
        percent_off_bp=spec.percent_off_bp,
        amount_off_minor=spec.amount_off.amount if spec.amount_off else 0,
        currency=currency,
        minimum_minor=spec.minimum,
        max_discount_minor=spec.max_discount,
        max_uses=spec.max_uses,
        max_uses_per_user=spec.max_uses_per_user,
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
    )
    if spec.course_ids:
        from app.catalog.models import Course

        coupon.courses = list(
            db.session.scalars(select(Course).where(Course.id.in_(spec.course_ids)))
        )
    db.session.add(coupon)
    db.session.flush()
    return coupon


def lock_coupon(coupon_id: int) -> Coupon:
    """Lock the coupon row before anything references it (an FK insert takes a share lock,
    and two checkouts upgrading their share locks would deadlock)."""
    return lock(Coupon, coupon_id)


def reserve_coupon(
    coupon_id: int, user_id: int, order_id: int, discount: Money, now: datetime | None = None
) -> CouponRedemption:
    """Take one use of the coupon for the order, or CouponInvalid when none is left.

    The coupon row is locked (SELECT ... FOR UPDATE) for the rest of the transaction, so the
    total and per-user limits hold under any number of concurrent checkouts.
    """
    coupon = lock_coupon(coupon_id)
    check_window(coupon, now or utcnow())
    check_uses(coupon, user_id)
    coupon.uses += 1
    redemption = CouponRedemption(
        coupon_id=coupon.id,
        user_id=user_id,
        order_id=order_id,
        discount_minor=discount.amount,
        currency=discount.currency,
    )
    db.session.add(redemption)
    db.session.flush()
    return redemption


def _order_redemption(order_id: int) -> CouponRedemption | None:
    stmt = select(CouponRedemption).where(CouponRedemption.order_id == order_id).with_for_update()
    return db.session.scalars(stmt).first()


@dataclass(frozen=True)
class Redeemed:
    """An order's coupon use made final, and the limits honouring it went past (if any)."""

    redemption: CouponRedemption
    overages: tuple[CouponEvent, ...] = ()


def redeem_coupon(order_id: int) -> Redeemed | None:
    """Make the order's use final (idempotent; None when the order used no coupon).

    A use released because the order expired is taken again: the buyer paid after all, and
    what was paid for is honoured even if that puts the coupon over its limit. Going over a
    limit is never silent: each limit passed is a coupon event the admin console lists.
    """
    redemption = _order_redemption(order_id)
    if redemption is None:
        return None
    if redemption.status == RedemptionStatus.REDEEMED:
        return Redeemed(redemption)
    overages: tuple[CouponEvent, ...] = ()
    if redemption.status == RedemptionStatus.RELEASED:
        overages = _take_use_again(redemption, order_id)
    redemption.status = RedemptionStatus.REDEEMED
    return Redeemed(redemption, overages)


def _take_use_again(redemption: CouponRedemption, order_id: int) -> tuple[CouponEvent, ...]:
    mine_before = user_uses(redemption.coupon_id, redemption.user_id)  # this one is released
    coupon = lock_coupon(redemption.coupon_id)
    uses_before = coupon.uses
    coupon.uses += 1
    events = []
    if coupon.max_uses is not None and uses_before >= coupon.max_uses:
        note = (
            f"Coupon {coupon.code} used past its limit: use {uses_before + 1} of "
            f"{coupon.max_uses}, honoured for a payment that came after the use was released."
        )
        events.append((CouponEventKind.OVERAGE, uses_before, coupon.max_uses, note))
    per_user = coupon.max_uses_per_user
    if per_user is not None and mine_before >= per_user:
        note = (
            f"Coupon {coupon.code} used past its per-buyer limit: use {mine_before + 1} of "
            f"{per_user} by this buyer, honoured for a payment that came after it was released."
        )
        events.append((CouponEventKind.USER_OVERAGE, mine_before, per_user, note))
    rows = tuple(
        CouponEvent(
            coupon_id=coupon.id,
            order_id=order_id,
            user_id=redemption.user_id,
            kind=kind,
            uses_before=before,
            use_limit=limit,
            note=note,
        )
        for kind, before, limit, note in events
    )
    db.session.add_all(rows)
    db.session.flush()
    return rows


def release_coupon(order_id: int) -> CouponRedemption | None:
    """Give the order's reserved use back (idempotent; a redeemed use stays used)."""
    redemption = _order_redemption(order_id)
    if redemption is None or redemption.status != RedemptionStatus.RESERVED:
        return redemption
    redemption.status = RedemptionStatus.RELEASED
    db.session.execute(
        update(Coupon).where(Coupon.id == redemption.coupon_id).values(uses=Coupon.uses - 1)
    )
    return redemption


@dataclass(frozen=True)
class CouponLimits:
    """What may change on an existing coupon: its text, limits and window (not its discount,
    which orders already placed have frozen)."""

    description: str = ""
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def update_coupon(coupon: Coupon, limits: CouponLimits) -> Coupon:
    """Change a coupon's limits and window; a limit below the uses already taken is refused."""
    if limits.max_uses is not None and limits.max_uses < coupon.uses:
        raise DomainError(
            f"{coupon.uses} uses are already taken; the limit cannot be lower.", code="bad_limit"
        )
    if limits.valid_from and limits.valid_until and limits.valid_until <= limits.valid_from:
        raise DomainError("The coupon must end after it starts.", code="bad_window")
    coupon.description = limits.description
    coupon.max_uses = limits.max_uses
    coupon.max_uses_per_user = limits.max_uses_per_user
    coupon.valid_from = limits.valid_from
    coupon.valid_until = limits.valid_until
    return coupon


def set_coupon_active(coupon: Coupon, active: bool) -> Coupon:
    """Stop (or restart) the coupon being accepted; uses already reserved stay valid."""
    coupon.active = active
    return coupon


def list_active_coupons(now: datetime | None = None, limit: int = 200) -> list[Coupon]:
    """Coupons that can be used now (active, in their dates, uses left), newest first."""
    now = now or utcnow()
    stmt = (
        select(Coupon)
        .where(
            Coupon.active.is_(True),
            or_(Coupon.valid_from.is_(None), Coupon.valid_from <= now),
            or_(Coupon.valid_until.is_(None), Coupon.valid_until > now),
            or_(Coupon.max_uses.is_(None), Coupon.uses < Coupon.max_uses),
        )
        .options(selectinload(Coupon.courses))
        .order_by(Coupon.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
