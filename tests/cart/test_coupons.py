"""Every coupon rule of seed 004, each refusal with its stable reason."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart import services
from app.cart.models import (
    Cart,
    CouponEvent,
    CouponEventKind,
    CouponRedemption,
    RedemptionStatus,
)
from app.cart.pricing import NO_TAX, Breakdown, CouponKind
from app.cart.services import CouponInvalid
from app.core.models import utcnow
from app.core.money import Money
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from tests.cart.conftest import make_coupon
from tests.factories import make_course, make_user

EMPTY_USD = Breakdown("USD", (), NO_TAX, None)  # a cart priced without a coupon: no lines


@pytest.fixture
def user(db_session: Session) -> User:
    return make_user()


@pytest.fixture
def cart(db_session: Session, user: User) -> Cart:
    cart = services.open_cart("USD", user)
    services.add_course(cart, make_course("Rust", prices={"USD": 4000, "INR": 300000}).id, user)
    services.add_course(cart, make_course("Go", prices={"USD": 2000, "INR": 150000}).id, user)
    return cart


def _reason(cart: Cart, code: str, user: User | None) -> str:
    with pytest.raises(CouponInvalid) as err:
        services.apply_coupon(cart, code, user)
    assert err.value.message  # every refusal says why, in words
    return err.value.reason


def test_unknown(cart: Cart, user: User) -> None:
    assert _reason(cart, "NOPE", user) == "coupon_unknown"
    assert _reason(cart, "", user) == "coupon_unknown"


def test_inactive(cart: Cart, user: User) -> None:
    make_coupon("OFF").active = False
    assert _reason(cart, "off", user) == "coupon_inactive"


def test_not_yet_valid_and_expired(cart: Cart, user: User) -> None:
    make_coupon("SOON", valid_from=utcnow() + timedelta(days=2))
    make_coupon("OLD", valid_until=utcnow() - timedelta(seconds=1))
    assert _reason(cart, "SOON", user) == "coupon_not_yet_valid"
    assert _reason(cart, "OLD", user) == "coupon_expired"


def test_used_up_and_already_used_by_you(cart: Cart, user: User, db_session: Session) -> None:
    make_coupon("ONCE", max_uses=1)
    mine = make_coupon("MINE", max_uses_per_user=1)
    other = make_user()
    services.reserve_coupon(
        services.validate_coupon("ONCE", other.id, EMPTY_USD).id,
        other.id,
        _order(other),
        Money(1, "USD"),
    )
    assert _reason(cart, "ONCE", user) == "coupon_used_up"
    services.reserve_coupon(mine.id, user.id, _order(user), Money(1, "USD"))
    assert _reason(cart, "MINE", user) == "coupon_already_used"
    # someone else may still use it
    services.validate_coupon("MINE", other.id, EMPTY_USD)


def test_below_minimum(cart: Cart, user: User) -> None:
    make_coupon("BIG", currency="USD", minimum=6001)
    assert _reason(cart, "BIG", user) == "coupon_below_minimum"
    make_coupon("EXACT", currency="USD", minimum=6000)
    assert services.apply_coupon(cart, "exact", user).coupon_code == "EXACT"


def test_not_applicable_to_these_courses(cart: Cart, user: User) -> None:
    elsewhere = make_course("Elsewhere")
    make_coupon("ONLY", course_ids=[elsewhere.id])
    assert _reason(cart, "ONLY", user) == "coupon_not_applicable"


def test_currency_mismatch(cart: Cart, user: User) -> None:
    make_coupon("RUPEES", kind=CouponKind.FIXED, amount_off=Money(50000, "INR"))
    assert _reason(cart, "RUPEES", user) == "coupon_currency_mismatch"


def test_codes_are_case_insensitive_and_removal_restores_prices(cart: Cart, user: User) -> None:
    make_coupon("Spring-Sale", percent_off_bp=2500)
    before = services.view_cart(cart, user).breakdown.total
    after = services.apply_coupon(cart, "  spring-SALE ", user)
    assert after.total == before - 1500 and after.coupon_code == "SPRING-SALE"
    services.remove_coupon(cart)
    assert services.view_cart(cart, user).breakdown.total == before


def test_fixed_coupon_applies_only_to_its_lines_and_never_goes_negative(
    cart: Cart, user: User
) -> None:
    rust_id = services.view_cart(cart, user).breakdown.lines[0].course_id
    make_coupon("HUGE", kind=CouponKind.FIXED, amount_off=Money(99900, "USD"), course_ids=[rust_id])
    b = services.apply_coupon(cart, "HUGE", user)
    assert [line.total for line in b.lines] == [0, 2000]
    assert b.total == 2000


def test_a_coupon_that_expires_after_being_applied_drops_out_with_a_reason(
    cart: Cart, user: User
) -> None:
    coupon = make_coupon("BRIEF", valid_until=utcnow() + timedelta(hours=1))
    services.apply_coupon(cart, "BRIEF", user)
    later = services.view_cart(cart, user, now=coupon.valid_until + timedelta(seconds=1))
    assert later.breakdown.coupon_discount == 0
    assert later.coupon_error == "This coupon has expired."


def _order(user: User) -> int:
    from app.checkout.models import Order
    from app.extensions import db

    order = Order(user_id=user.id, currency="USD", subtotal_minor=100, total_minor=100)
    db.session.add(order)
    db.session.flush()
    return order.id


def test_reserve_redeem_release(db_session: Session, user: User) -> None:
    coupon = make_coupon("LIFE", max_uses=2)
    first, second = _order(user), _order(user)
    services.reserve_coupon(coupon.id, user.id, first, Money(500, "USD"))
    services.reserve_coupon(coupon.id, user.id, second, Money(500, "USD"))
    assert coupon.uses == 2
    with pytest.raises(CouponInvalid, match="used up"):
        services.reserve_coupon(coupon.id, user.id, _order(user), Money(500, "USD"))
    services.redeem_coupon(first)
    services.release_coupon(second)
    services.release_coupon(second)  # idempotent
    services.release_coupon(first)  # a redeemed use stays used
    db_session.refresh(coupon)
    assert coupon.uses == 1
    statuses = {r.order_id: r.status for r in db_session.query(CouponRedemption)}
    assert statuses == {first: RedemptionStatus.REDEEMED, second: RedemptionStatus.RELEASED}
    assert services.redeem_coupon(_order(user)) is None  # an order without a coupon


def test_owned_courses_cannot_be_added(db_session: Session, user: User) -> None:
    course = make_course("Owned")
    grant_enrollment(user.id, course.id, EnrollmentSource.ADMIN)
    cart = services.open_cart("USD", user)
    with pytest.raises(services.CartError, match="already own"):
        services.add_course(cart, course.id, user)


def test_window_uses_aware_datetimes() -> None:
    assert utcnow().tzinfo is not None
    assert datetime(2025, 1, 1, tzinfo=UTC) < utcnow()


def test_a_released_use_taken_again_within_the_limits_is_quiet(
    db_session: Session, user: User
) -> None:
    coupon = make_coupon("ROOMY", max_uses=5, max_uses_per_user=2)
    order = _order(user)
    services.reserve_coupon(coupon.id, user.id, order, Money(500, "USD"))
    services.release_coupon(order)  # the order expired
    redeemed = services.redeem_coupon(order)  # ... and was paid late
    assert redeemed is not None and redeemed.overages == ()
    db_session.refresh(coupon)
    assert coupon.uses == 1
    assert db_session.query(CouponEvent).count() == 0


def test_a_late_use_past_the_per_buyer_limit_is_recorded(db_session: Session, user: User) -> None:
    coupon = make_coupon("ONEEACH", max_uses_per_user=1)
    late, later = _order(user), _order(user)
    services.reserve_coupon(coupon.id, user.id, late, Money(500, "USD"))
    services.release_coupon(late)  # expired: the buyer may use the coupon again ...
    services.reserve_coupon(coupon.id, user.id, later, Money(500, "USD"))  # ... and does
    redeemed = services.redeem_coupon(late)  # then the first order's payment arrives
    assert redeemed is not None
    [event] = redeemed.overages
    assert (event.kind, event.uses_before, event.use_limit, event.order_id) == (
        CouponEventKind.USER_OVERAGE,
        1,
        1,
        late,
    )
    assert "per-buyer limit" in event.note
    assert services.redeem_coupon(late).overages == ()  # type: ignore[union-attr]  # once
    assert db_session.query(CouponEvent).count() == 1
