"""Money as integer minor units plus an ISO currency code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Babel's CLDR data for the locales visitor_locale() answers and the currencies we sell in,
# copied out of Babel (tests/core/test_money_formats.py checks every entry against it): loading
# Babel's locale and global data to format a price costs ~4.7 MB in every web worker. Any other
# locale or currency is formatted by Babel itself.
_DIGITS = {"USD": 2, "INR": 2, "EUR": 2, "GBP": 2}
# Locale: (primary, secondary) digit grouping of "¤#,##0.00" / "¤#,##,##0.00"; all of these
# write "." for decimals, "," between groups, "-" before the symbol.
_GROUPING = {"en": (3, 3), "en_US": (3, 3), "en_GB": (3, 3), "en_IN": (3, 2), "hi_IN": (3, 2)}
_SYMBOL_OVERRIDES = {("en_GB", "USD"): "US$"}
_SYMBOLS = {"USD": "$", "INR": "₹", "EUR": "€", "GBP": "£"}


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (USD 2, JPY 0, BHD 3)."""
    digits = _DIGITS.get(currency)
    if digits is None:
        from babel.numbers import get_currency_precision

        digits = int(get_currency_precision(currency))
    return digits


def _group(digits: str, primary: int, secondary: int) -> str:
    """'1234567' -> '1,234,567' (3, 3) or '12,34,567' (3, 2)."""
    if len(digits) <= primary:
        return digits
    head, groups = digits[:-primary], [digits[-primary:]]
    while len(head) > secondary:
        head, groups = head[:-secondary], [head[-secondary:], *groups]
    return ",".join([head, *groups])


def format_money(amount: int, currency: str, locale: str) -> str:
    """A price as Babel's format_currency writes it in that locale."""
    grouping = _GROUPING.get(locale)
    if grouping is None or currency not in _DIGITS:
        from babel.numbers import format_currency

        value = Decimal(amount).scaleb(-currency_exponent(currency))
        return str(format_currency(value, currency, locale=locale))
    digits = _DIGITS[currency]
    whole, fraction = divmod(abs(amount), 10**digits)
    number = _group(str(whole), *grouping) + (f".{fraction:0{digits}d}" if digits else "")
    symbol = _SYMBOL_OVERRIDES.get((locale, currency), _SYMBOLS[currency])
    return f"{'-' if amount < 0 else ''}{symbol}{number}"


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"Money amount must be int minor units, got {self.amount!r}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str) -> Money:
        """Parse a major-unit amount ("19.99"); refuses more precision than the currency has."""
        exp = currency_exponent(currency)
        scaled = Decimal(value).scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {exp} decimal places for {currency}")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-currency_exponent(self.currency))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def format(self, locale: str = "en_US") -> str:
        return format_money(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return self.format()
