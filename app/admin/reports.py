"""The console's reports over a date range (UTC days): the daily report rows with tax per
country and conversion, tax per country, and earnings per course and per teacher (net of
refunds and tax), each also as CSV. Reads only; a bounded number of aggregate queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, literal, select, union_all

from app.accounts.models import User
from app.admin.web import ListArgs
from app.catalog.models import Course, CourseViewDay
from app.checkout.models import CreditNote, Order, OrderItem
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db
from app.payments.models import DailyReport, Refund, RefundLine, RefundStatus

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 3  # a range longer than this is cut: bounded rows per page and export
VIEWS = ("daily", "tax", "courses", "teachers")
NO_COUNTRY = "—"  # orders without a tax country (tax not applied)


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, UTC)


def report_period(args: ListArgs, today: date | None = None) -> Period:
    """The range asked for; by default the last DEFAULT_DAYS days up to today."""
    today = today or utcnow().date()
    last = args.date_to or today
    first = args.date_from or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    return Period(max(first, last - timedelta(days=MAX_DAYS)), last)


def _utc_day(column: Any) -> Any:
    return cast(func.timezone("UTC", column), Date)


@dataclass(frozen=True)
class TaxLine:
    country: str
    currency: str
    collected: int
    refunded: int

    @property
    def net(self) -> int:
        return self.collected - self.refunded


@dataclass(frozen=True)
class DailyRow:
    report: DailyReport
    views: int
    tax: list[TaxLine] = field(default_factory=list)

    @property
    def currencies(self) -> list[str]:
        return sorted({*self.report.revenue, *self.report.refunds})

    def net(self, currency: str) -> int:
        return self.report.revenue.get(currency, 0) - self.report.refunds.get(currency, 0)

    @property
    def conversion(self) -> float | None:
        """Paid orders per course view, in percent."""
        paid = self.report.orders_paid
        return round(100.0 * paid / self.views, 2) if self.views else None


def _tax_rows(period: Period) -> list[tuple[date, str, str, int, int]]:
    """(day, country, currency, tax collected, tax refunded): tax on orders paid that day
    and tax given back by credit notes issued that day (one query)."""
    collected = select(
        _utc_day(Order.paid_at).label("day"),
        func.coalesce(Order.tax_country, NO_COUNTRY).label("country"),
        Order.currency.label("currency"),
        Order.tax_minor.label("collected"),
        literal(0).label("refunded"),
    ).where(Order.paid_at >= period.start, Order.paid_at < period.end, Order.total_minor > 0)
    refunded = (
        select(
            _utc_day(CreditNote.issued_at),
            func.coalesce(Order.tax_country, NO_COUNTRY),
            CreditNote.currency,
            literal(0),
            CreditNote.tax_minor,
        )
        .join(Order, Order.id == CreditNote.order_id)
        .where(CreditNote.issued_at >= period.start, CreditNote.issued_at < period.end)
    )
    both = union_all(collected, refunded).subquery()
    keys = (both.c.day, both.c.country, both.c.currency)
    stmt = (
        select(*keys, func.sum(both.c.collected), func.sum(both.c.refunded))
        .group_by(*keys)
        .order_by(*keys)
    )
    return [(d, c, cur, int(a), int(b)) for d, c, cur, a, b in db.session.execute(stmt)]


def list_daily_rows(period: Period) -> list[DailyRow]:
    """The daily report rows of the period, newest first, with views and tax per country
    (three queries)."""
    reports = db.session.scalars(
        select(DailyReport)
        .where(DailyReport.day >= period.first, DailyReport.day <= period.last)
        .order_by(DailyReport.day.desc())
    ).all()
    views_stmt = (
        select(CourseViewDay.day, func.sum(CourseViewDay.views))
        .where(CourseViewDay.day >= period.first, CourseViewDay.day <= period.last)
        .group_by(CourseViewDay.day)
    )
    views = {day: int(count) for day, count in db.session.execute(views_stmt)}
    tax: dict[date, list[TaxLine]] = defaultdict(list)
    for day, country, currency, collected, refunded in _tax_rows(period):
        tax[day].append(TaxLine(country, currency, collected, refunded))
    return [DailyRow(r, views.get(r.day, 0), tax.get(r.day, [])) for r in reports]


def tax_by_country(period: Period) -> list[TaxLine]:
    """Tax collected and refunded per country and currency over the period."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for _, country, currency, collected, refunded in _tax_rows(period):
        totals[(country, currency)][0] += collected
        totals[(country, currency)][1] += refunded
    return [TaxLine(c, cur, a, b) for (c, cur), (a, b) in sorted(totals.items())]


@dataclass(frozen=True)
class Earnings:
    """Sales of one course or teacher in one currency: gross, less tax, less refunds (net
    of the tax they gave back)."""

    key: int
    name: str
    detail: str  # the course's teacher, or the teacher's email
    currency: str
    lines: int
    gross: int
    tax: int
    refunded: int  # gross refunded, tax included
    refunded_tax: int

    @property
    def refunded_net(self) -> int:
        return self.refunded - self.refunded_tax

    @property
    def earnings(self) -> int:
        return self.gross - self.tax - self.refunded_net

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


def _earnings(period: Period, group: Sequence[Any]) -> list[Earnings]:
    """Order lines paid in the period, summed per `group` (key, name, detail) and currency,
    with what succeeded refunds gave back on them (one query)."""
    refunds = (
        select(
            RefundLine.order_item_id.label("item_id"),
            func.sum(RefundLine.amount_minor).label("amount"),
            func.sum(RefundLine.tax_minor).label("tax"),
        )
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(Refund.status == RefundStatus.SUCCEEDED)
        .group_by(RefundLine.order_item_id)
        .subquery()
    )
    stmt = (
        select(
            *group,
            Order.currency,
            func.count(OrderItem.id),
            func.sum(OrderItem.total_minor),
            func.sum(OrderItem.tax_minor),
            func.coalesce(func.sum(refunds.c.amount), 0),
            func.coalesce(func.sum(refunds.c.tax), 0),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .join(Course, Course.id == OrderItem.course_id)
        .join(User, User.id == Course.teacher_id)
        .outerjoin(refunds, refunds.c.item_id == OrderItem.id)
        .where(Order.paid_at >= period.start, Order.paid_at < period.end, Order.total_minor > 0)
        .group_by(*group, Order.currency)
        .order_by(func.sum(OrderItem.total_minor).desc(), group[0], Order.currency)
    )
    return [Earnings(*row[:5], *(int(v) for v in row[5:])) for row in db.session.execute(stmt)]


def course_earnings(period: Period) -> list[Earnings]:
    return _earnings(period, (Course.id, Course.title, User.name))


def teacher_earnings(period: Period) -> list[Earnings]:
    return _earnings(period, (User.id, User.name, User.email))


# --- CSV ----------------------------------------------------------------------------------------


def _amount(amount: int, currency: str) -> str:
    return str(Money(amount, currency).to_decimal())


DAILY_CSV_HEADER = (
    "day", "currency", "revenue", "refunds", "net", "orders_paid", "orders_free",
    "payments_started", "payments_succeeded", "success_rate", "views", "conversion_pct",
)  # fmt: skip


def daily_csv_rows(rows: Sequence[DailyRow]) -> Iterator[tuple[Any, ...]]:
    """One line per day and currency (a day that sold nothing still gets one line)."""
    for row in rows:
        r = row.report
        counts = (r.orders_paid, r.orders_free, r.payments_started, r.payments_succeeded,
                  "" if r.success_rate is None else r.success_rate, row.views,
                  "" if row.conversion is None else row.conversion)  # fmt: skip
        for currency in row.currencies or [""]:
            if not currency:
                yield (r.day.isoformat(), "", "", "", "", *counts)
                continue
            revenue, refunds = r.revenue.get(currency, 0), r.refunds.get(currency, 0)
            money = (_amount(v, currency) for v in (revenue, refunds, revenue - refunds))
            yield (r.day.isoformat(), currency, *money, *counts)


TAX_CSV_HEADER = ("day", "country", "currency", "tax_collected", "tax_refunded", "tax_net")


def tax_csv_rows(period: Period) -> Iterator[tuple[Any, ...]]:
    """Tax per day, country and currency (credit notes count on the day they were issued)."""
    for day, country, currency, collected, refunded in _tax_rows(period):
        amounts = (_amount(v, currency) for v in (collected, refunded, collected - refunded))
        yield (day.isoformat(), country, currency, *amounts)


EARNINGS_CSV_HEADER = (
    "id", "name", "detail", "currency", "lines", "gross", "tax", "refunded",
    "refunded_tax", "earnings",
)  # fmt: skip


def earnings_csv_rows(rows: Sequence[Earnings]) -> Iterator[tuple[Any, ...]]:
    for e in rows:
        amounts = (e.gross, e.tax, e.refunded, e.refunded_tax, e.earnings)
        yield (e.key, e.name, e.detail, e.currency, e.lines,
               *(_amount(v, e.currency) for v in amounts))  # fmt: skip
