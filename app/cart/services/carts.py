"""Cart rules: one currency, no duplicates, nothing owned for good, merge at login, cleanup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Date, cast, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from app.accounts.models import User
from app.cart.estimate_cache import cached_estimate, forget_estimate, store_estimate
from app.cart.models import Cart, CartDay, CartItem
from app.cart.pricing import Breakdown, Line
from app.cart.queries import (
    buyer_country,
    cart_lines,
    course_line,
    item_line,
    load_cart,
    load_course,
    price_lines,
)
from app.cart.services.coupons import (
    CouponInvalid,
    check_cart,
    check_uses,
    check_window,
    validate_coupon,
)
from app.catalog.models import CourseKind
from app.core.db import lock
from app.core.errors import DomainError
from app.core.models import utcnow
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.expiry import held_for_good

# Set on a Cart instance by open_cart (a plain attribute, not a column).
_OPENED_IN = "_coursefront_opened_in"


class CartError(DomainError):
    status = 422


def just_opened(cart: Cart) -> bool:
    """Whether this transaction opened the cart and nothing changed or priced it since: it is
    empty, has no cached estimate and its idle clock started just now (a new visitor's first
    add skips a query, an UPDATE, a Redis round trip and, in the view, a savepoint)."""
    opened = cart.__dict__.get(_OPENED_IN)
    return opened is not None and opened is db.session().get_transaction()


def touch(cart: Cart) -> None:
    """Mark the cart changed: its idle clock restarts and its cached estimate is void."""
    if just_opened(cart):
        cart.__dict__.pop(_OPENED_IN)
        return
    cart.touched_at = utcnow()
    forget_estimate(cart)


def lock_cart(cart_id: int) -> Cart:
    """The cart row, locked for this transaction: one checkout of a cart at a time."""
    return lock(Cart, cart_id)


def open_cart(currency: str, user: User | None = None) -> Cart:
    """A new, empty cart in the currency (the user's, if given)."""
    cart = Cart(currency=currency, user_id=user.id if user else None)
    db.session.add(cart)
    db.session.flush()
    cart.__dict__[_OPENED_IN] = db.session().get_transaction()  # not a column: see _opened_now
    return cart


def add_course(
    cart: Cart, course_id: int, user: User | None, period: AccessPeriod | None = None
) -> CartItem:
    """Put a paid, published course in the cart, priced in the cart's currency.

    `period` (seed 002's product period) is the access the line buys: a price sold for a
    fixed period offers only that one; a price for good may be bought for a chosen period."""
    course = load_course(course_id)
    if course is None or not course.is_published:
        raise CartError("This course is not for sale.", code="not_for_sale")
    if course.kind is CourseKind.TUTORING:
        raise CartError("Choose a package of sessions and your schedule.", code="choose_package")
    if course.is_free:
        raise CartError("This course is free: enroll from its page instead.", code="free_course")
    price = course.price_in(cart.currency)
    if price is None or course_line(course, cart.currency) is None:
        raise CartError(
            f"“{course.title}” has no price in {cart.currency}. Switch currency to buy it.",
            code="no_price_in_currency",
        )
    offered = price.access_period
    if period is not None and offered is not None and period != offered:
        raise CartError(
            f"“{course.title}” is sold for {offered.label} of access, not {period.label}.",
            code="period_not_offered",
            field="period",
        )
    # Time-limited or ended access may be bought again (extended or renewed); lifetime not.
    if user is not None and held_for_good(user.id, [course.id]):
        raise CartError("You already own this course.", code="already_owned")
    in_cart = select(CartItem.id).where(
        CartItem.cart_id == cart.id, CartItem.course_id == course.id
    )
    if not just_opened(cart) and db.session.scalar(in_cart) is not None:
        raise CartError("This course is already in your cart.", code="already_in_cart")
    item = CartItem(
        cart_id=cart.id,
        course_id=course.id,
        period_value=period.value if period else None,
        period_unit=period.unit if period else None,
    )
    db.session.add(item)
    touch(cart)
    db.session.flush()
    return item


def remove_course(cart: Cart, course_id: int) -> None:
    """Take a course out of the cart (nothing happens if it was not there)."""
    db.session.execute(
        delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.course_id == course_id)
    )
    touch(cart)


def set_currency(cart: Cart, currency: str) -> list[str]:
    """Switch the cart's currency; courses without a price in it leave (their titles returned).

    The coupon is kept, applied or explained by view_cart."""
    if currency == cart.currency:
        return []
    loaded = load_cart(cart.id)
    gone = [i for i in loaded.items if item_line(i, currency) is None]
    for item in gone:
        db.session.delete(item)
    dropped = [i.course.title for i in gone]
    loaded.currency = currency
    # The coupon stays: valid in the new currency it applies, otherwise the cart says why
    # next to the coupon field (view_cart), and switching back applies it again.
    touch(loaded)
    db.session.flush()
    return dropped


def set_country(cart: Cart, country: str | None) -> None:
    """Choose the buyer country used for tax."""
    cart.country = country.upper() if country else None
    touch(cart)


def apply_coupon(
    cart: Cart, code: str, user: User | None, now: datetime | None = None
) -> Breakdown:
    """Attach a coupon after checking every rule; the new breakdown is returned."""
    loaded = load_cart(cart.id)
    lines = cart_lines(loaded)
    if not lines:
        raise CartError("Add a course before applying a coupon.", code="cart_empty")
    plain = price_lines(loaded.currency, lines, None, "", now)
    coupon = validate_coupon(code, user.id if user else None, plain, now)
    loaded.coupon_id = coupon.id
    touch(loaded)
    db.session.flush()
    return price_lines(loaded.currency, lines, coupon, buyer_country(loaded, user), now)


@dataclass(frozen=True)
class CouponQuote:
    """A coupon applied: the new breakdown and the total the cart came to without it."""

    breakdown: Breakdown
    total_before: int

    @property
    def saving(self) -> int:
        """How much less the buyer pays, tax included (seed 002's coupon `discount_amount`):
        the coupon comes off the price before tax, so the tax on it goes too."""
        return self.total_before - self.breakdown.total


def quote_coupon(
    cart: Cart, code: str, user: User | None, now: datetime | None = None
) -> CouponQuote:
    """Apply the coupon (apply_coupon) and say what it saves against the cart without one."""
    now = now or utcnow()
    applied = apply_coupon(cart, code, user, now)
    loaded = load_cart(cart.id)
    before = price_lines(
        loaded.currency, cart_lines(loaded), None, buyer_country(loaded, user), now
    )
    return CouponQuote(breakdown=applied, total_before=before.total)


def set_analytics(cart: Cart, data: list[dict[str, str]] | None) -> None:
    """Keep seed 002's analytics_data with the cart (the order placed from it copies it)."""
    cart.analytics_data = data or None


# Seed 002's cart_url: a signed link to the cart, with a salt of its own (a cart cookie value
# or any other signed token cannot be replayed as one).
LINK_SALT = "cart-link"


def _link_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=LINK_SALT)  # type: ignore[arg-type]


def sign_cart_link(cart: Cart) -> str:
    """The signed part of the cart's link (app/cart/views.py open_link claims it)."""
    return str(_link_serializer().dumps(cart.token))


def cart_token_from_link(signed: str) -> str | None:
    """The cart token a link names, or None when it was not signed by us."""
    try:
        token = _link_serializer().loads(signed)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def remove_coupon(cart: Cart) -> None:
    """Detach the coupon: prices go back to what they were."""
    cart.coupon_id = None
    touch(cart)


@dataclass(frozen=True)
class CartView:
    """A loaded cart with its breakdown and why its coupon (if any) is not applied."""

    cart: Cart
    breakdown: Breakdown
    coupon_error: str | None
    country: str

    def access_period(self, course_id: int) -> AccessPeriod | None:
        """How long buying the course in this cart gives access (None: for good); read from
        the prices the cart was loaded with, no query."""
        item = next((i for i in self.cart.items if i.course_id == course_id), None)
        price = item.course.price_in(self.cart.currency) if item is not None else None
        offered = price.access_period if price is not None else None
        chosen = item.period if item is not None else None
        # The line's chosen period, unless the price sells another fixed one (the currency
        # changed since): a fixed period is never swapped for a longer one at the same price.
        if chosen is not None and (offered is None or offered == chosen):
            return chosen
        return offered


def coupon_problem(cart: Cart, user: User | None, lines: list[Line], now: datetime) -> str | None:
    """Why the cart's coupon cannot be used now, or None when it can (or there is none)."""
    if cart.coupon is None:
        return None
    plain = price_lines(cart.currency, lines, None, "", now)
    try:
        check_window(cart.coupon, now)
        check_cart(cart.coupon, plain)
        check_uses(cart.coupon, user.id if user else None)
    except CouponInvalid as err:
        return err.message
    return None


def view_cart(cart: Cart, user: User | None, now: datetime | None = None) -> CartView:
    """Price the cart as it stands; a coupon that stopped being valid is left out, with a reason."""
    now = now or utcnow()
    loaded = load_cart(cart.id)
    lines = cart_lines(loaded)
    problem = coupon_problem(loaded, user, lines, now)
    coupon = loaded.coupon if problem is None else None
    country = buyer_country(loaded, user)
    breakdown = price_lines(loaded.currency, lines, coupon, country, now)
    return CartView(cart=loaded, breakdown=breakdown, coupon_error=problem, country=country)


def estimate(cart: Cart, user: User | None) -> dict[str, object]:
    """Seed 002's estimate payload, from the Redis cache when this cart version has one."""
    country = buyer_country(cart, user)
    cached = cached_estimate(cart, country)
    if cached is not None:
        return cached
    view = view_cart(cart, user)
    payload = view.breakdown.as_dict()
    payload["coupon_error"] = view.coupon_error
    cart.__dict__.pop(_OPENED_IN, None)  # cached from now on: the next change must forget it
    store_estimate(cart, country, payload)
    return payload


def merge_carts(anonymous: Cart, user: User) -> Cart:
    """At login: the cart built anonymously becomes the user's, keeping their older courses."""
    existing = db.session.scalars(select(Cart).where(Cart.user_id == user.id)).first()
    if existing is not None and existing.id != anonymous.id:
        if not load_cart(anonymous.id).items:
            db.session.delete(anonymous)
            db.session.flush()
            return existing
        older = load_cart(existing.id)
        carried = [
            (i.course_id, i.package_id, i.details, i.period_value, i.period_unit)
            for i in older.items
            if item_line(i, anonymous.currency) is not None
        ]
        anonymous.coupon_id = anonymous.coupon_id or older.coupon_id
        anonymous.analytics_data = anonymous.analytics_data or older.analytics_data
        db.session.delete(older)  # before the user id moves: one cart per user
        db.session.flush()
        present = {i.course_id for i in load_cart(anonymous.id).items}
        for course_id, package_id, details, period_value, period_unit in carried:
            if course_id not in present:
                db.session.add(
                    CartItem(
                        cart_id=anonymous.id,
                        course_id=course_id,
                        package_id=package_id,
                        details=details,
                        period_value=period_value,
                        period_unit=period_unit,
                    )
                )
    anonymous.user_id = user.id
    _drop_owned(anonymous, user)
    touch(anonymous)
    db.session.flush()
    return anonymous


def _drop_owned(cart: Cart, user: User) -> None:
    owned = held_for_good(user.id)
    if owned:
        db.session.execute(
            delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.course_id.in_(owned))
        )


def delete_idle_carts(idle: timedelta, now: datetime | None = None) -> int:
    """Delete carts nobody touched for longer than `idle`, adding them to cart_days by the day
    they were created (one statement); returns how many went."""
    cutoff = (now or utcnow()) - idle
    gone = delete(Cart).where(Cart.touched_at < cutoff).returning(Cart.created_at).cte("gone")
    day = cast(func.timezone("UTC", gone.c.created_at), Date)
    per_day = select(day, func.count()).select_from(gone).group_by(day)
    upsert = insert(CartDay).from_select([CartDay.day, CartDay.deleted], per_day)
    upsert = upsert.on_conflict_do_update(
        index_elements=[CartDay.day], set_={"deleted": CartDay.deleted + upsert.excluded.deleted}
    )
    counted = upsert.returning(CartDay.day).cte("counted")
    # Postgres runs both data-modifying CTEs once; reading each keeps SQLAlchemy rendering them.
    stmt = select(
        select(func.count()).select_from(gone).scalar_subquery(),
        select(func.count()).select_from(counted).scalar_subquery(),
    )
    deleted, _ = db.session.execute(stmt).one()
    return int(deleted)


def empty_cart(cart: Cart) -> None:
    """Remove every course and the coupon (after an order took them over)."""
    db.session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
    cart.coupon_id = None
    touch(cart)


def quote_course_coupon(
    code: str, course_id: int, currency: str, user: User | None, now: datetime | None = None
) -> tuple[Breakdown, Breakdown]:
    """Seed 004's coupon check for one course: the course priced in the currency without and
    with the coupon, as a cart holding only it would be, if this user may use the coupon there
    (CouponInvalid otherwise). Nothing is reserved or stored."""
    now = now or utcnow()
    course = load_course(course_id)
    line = course_line(course, currency) if course is not None and course.is_published else None
    if line is None:
        raise CartError(f"This course is not for sale in {currency}.", code="not_for_sale")
    # An unsaved cart: the buyer's country comes from the profile, else from the currency.
    country = buyer_country(Cart(currency=currency), user)
    plain = price_lines(currency, [line], None, country, now)
    coupon = validate_coupon(code, user.id if user else None, plain, now)
    return plain, price_lines(currency, [line], coupon, country, now)
