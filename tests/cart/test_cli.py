from flask import Flask
from sqlalchemy.orm import Session

from app.cart.models import Sale
from app.cart.pricing import CouponKind
from app.cart.queries import get_coupon_by_code
from tests.factories import make_course


def test_coupon_and_sale_commands(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    course = make_course("Cli course")
    result = runner.invoke(
        args=[
            "coupons",
            "create",
            "summer",
            "--percent",
            "12.5",
            "--currency",
            "USD",
            "--minimum",
            "30.00",
            "--max-discount",
            "10",
            "--max-uses",
            "5",
            "--per-user",
            "1",
            "--course",
            course.slug,
        ]
    )
    assert result.exit_code == 0, result.output
    coupon = get_coupon_by_code("SUMMER")
    assert coupon is not None
    assert (
        coupon.kind,
        coupon.percent_off_bp,
        coupon.minimum_minor,
        coupon.max_discount_minor,
    ) == (
        CouponKind.PERCENT,
        1250,
        3000,
        1000,
    )
    assert [c.id for c in coupon.courses] == [course.id]
    dup = runner.invoke(args=["coupons", "create", "SUMMER", "--percent", "5"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    both = runner.invoke(args=["coupons", "create", "X", "--percent", "5", "--amount", "1"])
    assert both.exit_code != 0
    fixed = runner.invoke(
        args=["coupons", "create", "FIVER", "--amount", "5.00", "--currency", "usd"]
    )
    assert fixed.exit_code == 0, fixed.output
    assert "FIVER" in runner.invoke(args=["coupons", "list"]).output

    sale = runner.invoke(
        args=[
            "sales",
            "create",
            "summer2024",
            "--name",
            "Summer",
            "--percent",
            "30",
            "--all",
            "--starts",
            "2026-01-01",
            "--ends",
            "2030-01-01",
        ]
    )
    assert sale.exit_code == 0, sale.output
    assert db_session.query(Sale).filter_by(slug="summer2024").one().percent_off_bp == 3000
