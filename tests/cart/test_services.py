from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cart import estimate_cache, queries, services
from app.cart.jobs import LAST_RUN_KEY, clean_up_carts
from app.cart.models import Cart, CartDay
from app.catalog.models import CourseStatus
from app.core.models import utcnow
from app.extensions import get_redis
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from tests.cart.conftest import make_coupon
from tests.factories import make_course, make_user


def test_add_refusals_each_have_a_reason(db_session: Session) -> None:
    cart = services.open_cart("USD")
    paid = make_course("Paid", prices={"USD": 1000})
    services.add_course(cart, paid.id, None)
    cases = {
        "already_in_cart": paid.id,
        "free_course": make_course("Free", prices={"USD": 0, "INR": 0}).id,
        "no_price_in_currency": make_course("Rupees", prices={"INR": 49900}).id,
        "not_for_sale": make_course("Draft", status=CourseStatus.DRAFT).id,
    }
    for code, course_id in cases.items():
        with pytest.raises(services.CartError) as err:
            services.add_course(cart, course_id, None)
        assert err.value.code == code
    assert queries.count_items(cart.id) == 1


def test_currency_switch_drops_courses_without_a_price_and_explains_a_foreign_coupon(
    db_session: Session,
) -> None:
    cart = services.open_cart("USD")
    both = make_course("Both", prices={"USD": 1000, "INR": 80000})
    dollars = make_course("Dollars only", prices={"USD": 2000})
    services.add_course(cart, both.id, None)
    services.add_course(cart, dollars.id, None)
    make_coupon("USDONLY", currency="USD")
    services.apply_coupon(cart, "USDONLY", None)
    assert services.set_currency(cart, "INR") == ["Dollars only"]
    view = services.view_cart(cart, None)
    assert [line.title for line in view.breakdown.lines] == ["Both"]
    assert view.breakdown.currency == "INR" and view.breakdown.coupon_code is None
    # Kept on the cart, not applied, with the reason shown next to the coupon field.
    assert view.cart.coupon_id is not None and "carts in USD" in (view.coupon_error or "")


def test_tax_follows_the_buyer_country(db_session: Session) -> None:
    user = make_user()
    cart = services.open_cart("INR", user)
    services.add_course(cart, make_course(prices={"INR": 16776}).id, user)
    india = services.view_cart(cart, user)
    assert (india.country, india.breakdown.tax_total, india.breakdown.total) == ("IN", 3020, 19796)
    services.set_country(cart, "de")
    germany = services.view_cart(cart, user).breakdown
    assert (
        germany.tax.inclusive and germany.total == 16776 and germany.tax_total == 2679
    )  # 16776 * 19 / 119 = 2678.52
    services.set_country(cart, "US")
    assert services.view_cart(cart, user).breakdown.tax_total == 0


def test_estimate_is_cached_and_invalidated_on_change(db_session: Session) -> None:
    cart = services.open_cart("USD")
    services.add_course(cart, make_course(prices={"USD": 1000}).id, None)
    first = services.estimate(cart, None)
    assert first["total"] == 1000
    assert estimate_cache.cached_estimate(cart, "US") == first
    services.add_course(cart, make_course(prices={"USD": 500}).id, None)
    assert estimate_cache.cached_estimate(cart, "US") is None  # the change voided it
    assert services.estimate(cart, None)["total"] == 1500


def test_anonymous_cart_merges_into_the_users_cart(db_session: Session) -> None:
    user = make_user()
    older = services.open_cart("USD", user)
    kept = make_course("Kept", prices={"USD": 1000})
    owned = make_course("Owned", prices={"USD": 1000})
    services.add_course(older, kept.id, user)
    anon = services.open_cart("USD")
    shared = make_course("Shared", prices={"USD": 700})
    services.add_course(anon, shared.id, None)
    services.add_course(anon, owned.id, None)
    services.add_course(anon, kept.id, None)
    make_coupon("HELLO")
    services.apply_coupon(anon, "HELLO", None)
    grant_enrollment(user.id, owned.id, EnrollmentSource.ADMIN)
    merged = services.merge_carts(anon, user)
    assert merged.id == anon.id and merged.user_id == user.id
    assert queries.cart_course_ids(merged.id) == {shared.id, kept.id}
    assert merged.coupon_id is not None
    assert db_session.get(Cart, older.id) is None
    assert queries.get_user_cart(user.id).id == anon.id  # type: ignore[union-attr]


def test_empty_anonymous_cart_keeps_the_users_cart(db_session: Session) -> None:
    user = make_user()
    mine = services.open_cart("USD", user)
    services.add_course(mine, make_course(prices={"USD": 1}).id, user)
    anon = services.open_cart("INR")
    assert services.merge_carts(anon, user).id == mine.id


def test_cleanup_job_deletes_idle_carts_and_records_its_run(
    app: Flask, db_session: Session
) -> None:
    idle, fresh = services.open_cart("USD"), services.open_cart("USD")
    idle.touched_at = utcnow() - timedelta(hours=24, minutes=1)
    db_session.flush()
    idle_id, fresh_id = idle.id, fresh.id
    assert clean_up_carts() == 1
    remaining = set(db_session.scalars(select(Cart.id)))
    assert fresh_id in remaining and idle_id not in remaining
    assert get_redis().get(LAST_RUN_KEY) is not None


def test_cleanup_counts_the_deleted_carts_by_the_day_they_were_created(
    app: Flask, db_session: Session
) -> None:
    now = utcnow()
    carts = [services.open_cart("USD") for _ in range(4)]
    for cart, days_old in zip(carts, (3, 3, 2, 0), strict=True):
        cart.created_at = now - timedelta(days=days_old)
        cart.touched_at = now - timedelta(days=days_old, hours=1)
    db_session.flush()
    assert clean_up_carts() == 3
    counted = {d.day: d.deleted for d in db_session.scalars(select(CartDay))}
    assert counted == {(now - timedelta(days=3)).date(): 2, (now - timedelta(days=2)).date(): 1}

    again = services.open_cart("USD")
    again.created_at = now - timedelta(days=3)
    again.touched_at = now - timedelta(days=2)
    db_session.flush()
    assert clean_up_carts() == 1
    db_session.expire_all()
    assert db_session.get(CartDay, (now - timedelta(days=3)).date()).deleted == 3  # type: ignore[union-attr]
    assert clean_up_carts() == 0
