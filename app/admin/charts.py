"""Bar charts drawn on the server as inline SVG: the geometry here, the markup in
templates/admin/partials/dashboard_body.html (no JavaScript, no library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 160
PAD_TOP = 8
PAD_BOTTOM = 20  # room for the first and last day under the bars
GAP = 2


@dataclass(frozen=True)
class Bar:
    day: date
    amount: int
    x: float
    y: float
    width: float
    height: float

    @property
    def negative(self) -> bool:
        return self.amount < 0


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float  # y of the zero line
    bars: list[Bar]
    peak: int  # the largest absolute amount (the scale)

    @property
    def empty(self) -> bool:
        return self.peak == 0


def bar_chart(days: Sequence[date], amounts: Sequence[int]) -> BarChart:
    """One bar per day; a day with more refunded than sold goes below the zero line."""
    top = max([0, *amounts])
    bottom = min([0, *amounts])
    span = (top - bottom) or 1
    plot = HEIGHT - PAD_TOP - PAD_BOTTOM
    baseline = PAD_TOP + plot * top / span
    step = WIDTH / max(len(days), 1)
    bars = []
    for i, (day, amount) in enumerate(zip(days, amounts, strict=True)):
        size = plot * abs(amount) / span
        y = baseline - size if amount >= 0 else baseline
        bars.append(Bar(day, amount, round(i * step + GAP / 2, 2), round(y, 2),
                        round(step - GAP, 2), round(size, 2)))  # fmt: skip
    return BarChart(WIDTH, HEIGHT, round(baseline, 2), bars, max(top, -bottom))
