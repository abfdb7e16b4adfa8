from decimal import Decimal

import pytest

from app.core.money import Money, currency_exponent


def test_exponent_comes_from_the_currency() -> None:
    assert currency_exponent("USD") == 2
    assert currency_exponent("INR") == 2
    assert currency_exponent("JPY") == 0


def test_from_decimal_is_exact_and_refuses_extra_precision() -> None:
    assert Money.from_decimal("19.99", "USD") == Money(1999, "USD")
    assert Money.from_decimal("500", "JPY") == Money(500, "JPY")
    with pytest.raises(ValueError, match="decimal places"):
        Money.from_decimal("19.999", "USD")
    with pytest.raises(ValueError):
        Money.from_decimal("1.5", "JPY")


def test_amount_must_be_int_minor_units() -> None:
    with pytest.raises(TypeError):
        Money(19.99, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")
    with pytest.raises(ValueError):
        Money(1, "usd")


def test_arithmetic_needs_one_currency() -> None:
    assert Money(100, "USD") + Money(250, "USD") == Money(350, "USD")
    assert Money(100, "USD") - Money(250, "USD") == Money(-150, "USD")
    with pytest.raises(ValueError, match="cannot combine"):
        Money(100, "USD") + Money(100, "INR")


def test_formatting_uses_babel_and_the_exponent() -> None:
    assert Money(1999, "USD").format("en_US") == "$19.99"
    assert Money(49900, "INR").format("en_IN") == "₹499.00"
    assert Money(1500, "JPY").format("en_US") == "¥1,500"
    assert Money(1999, "USD").to_decimal() == Decimal("19.99")
