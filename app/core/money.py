"""Money as integer minor units plus an ISO currency code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (USD 2, JPY 0, BHD 3)."""
    return int(get_currency_precision(currency))


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
        return str(format_currency(self.to_decimal(), self.currency, locale=locale))

    def __str__(self) -> str:
        return self.format()
