"""Access periods (seed 002's product `period`: {"value": 3, "unit": "month"}): how long a
purchase gives access, and the calendar arithmetic that ends it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

UNITS = ("day", "week", "month", "year")


class PeriodError(ValueError):
    """Not a period: a positive whole number of days, weeks, months or years."""


@dataclass(frozen=True)
class AccessPeriod:
    value: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise PeriodError(f"The unit of an access period is one of {', '.join(UNITS)}.")
        if not isinstance(self.value, int) or isinstance(self.value, bool) or self.value <= 0:
            raise PeriodError("An access period is a positive whole number.")

    @classmethod
    def of(cls, value: int | None, unit: str | None) -> AccessPeriod | None:
        """The period two columns hold, or None when they hold none (access for good)."""
        if value is None or unit is None:
            return None
        return cls(value, unit)

    @classmethod
    def from_json(cls, data: Any) -> AccessPeriod | None:
        """Seed 002's `{"value": 3, "unit": "month"}` (a plural unit is accepted); None for null."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise PeriodError('An access period looks like {"value": 3, "unit": "month"}.')
        unit = str(data.get("unit", "")).strip().lower().removesuffix("s")
        return cls(data.get("value"), unit)  # type: ignore[arg-type]

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit}

    @property
    def label(self) -> str:
        """ "3 months", "1 year"."""
        return f"{self.value} {self.unit}{'' if self.value == 1 else 's'}"

    def after(self, start: datetime) -> datetime:
        """The moment the period that starts at `start` ends. Months and years follow the
        calendar (31 January + 1 month = 28 or 29 February), keeping the time of day."""
        if self.unit == "day":
            return start + timedelta(days=self.value)
        if self.unit == "week":
            return start + timedelta(weeks=self.value)
        months = self.value * (12 if self.unit == "year" else 1)
        index = start.month - 1 + months
        year, month = start.year + index // 12, index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)
