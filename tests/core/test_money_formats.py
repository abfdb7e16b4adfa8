"""app/core/money.py's copy of Babel's CLDR data formats exactly as Babel does."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_precision

from app.core import money
from app.core.money import Money, currency_exponent, format_money

AMOUNTS = (0, 1, 5, 99, 100, 1999, 123456, 1234567, 99999999, 1234567890123, -1, -550, -1234567)
PAIRS = [(loc, cur) for loc in money._GROUPING for cur in money._DIGITS]


@pytest.mark.parametrize(("locale", "currency"), PAIRS)
def test_the_copied_formats_match_babel(locale: str, currency: str) -> None:
    exp = int(get_currency_precision(currency))
    for amount in AMOUNTS:
        babel = format_currency(Decimal(amount).scaleb(-exp), currency, locale=locale)
        assert format_money(amount, currency, locale) == babel, (amount, locale, currency)


def test_the_copied_exponents_match_babel() -> None:
    for currency, digits in money._DIGITS.items():
        assert int(get_currency_precision(currency)) == digits


def test_every_locale_the_visitor_can_get_is_copied() -> None:
    import inspect

    from app.core import visitor

    source = inspect.getsource(visitor.visitor_locale)
    for locale in ("en_US", "en_IN", "en_GB", "hi_IN", "en"):
        assert f'"{locale}"' in source
        assert locale in money._GROUPING


def test_other_locales_and_currencies_go_to_babel() -> None:
    assert currency_exponent("JPY") == 0
    assert currency_exponent("BHD") == 3
    assert Money(123456, "JPY").format("en_US") == "¥123,456"
    assert Money(123456, "EUR").format("de_DE") == format_currency(
        Decimal("1234.56"), "EUR", locale="de_DE"
    )
    assert Money(-550, "CHF").format("en_US") == format_currency(
        Decimal("-5.50"), "CHF", locale="en_US"
    )
