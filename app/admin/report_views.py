"""Reports: the daily report rows, tax per country and earnings per course and teacher over
a date range, on one page (the same route answers HTMX with the rows) and each as CSV."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import bp, reports
from app.admin.web import csv_response, list_args
from app.core.htmx import render


def _export(view: str, period: reports.Period) -> ResponseReturnValue:
    stamp = f"{period.first.isoformat()}_{period.last.isoformat()}"
    if view == "tax":
        rows = reports.tax_csv_rows(period)
        return csv_response(f"tax-{stamp}.csv", reports.TAX_CSV_HEADER, rows)
    if view in ("courses", "teachers"):
        find = reports.course_earnings if view == "courses" else reports.teacher_earnings
        rows = reports.earnings_csv_rows(find(period))
        return csv_response(f"earnings-{view}-{stamp}.csv", reports.EARNINGS_CSV_HEADER, rows)
    rows = reports.daily_csv_rows(reports.list_daily_rows(period))
    return csv_response(f"daily-{stamp}.csv", reports.DAILY_CSV_HEADER, rows)


@bp.get("/reports")
def report_list() -> ResponseReturnValue:
    args = list_args("view")
    period = reports.report_period(args)
    if args.export:
        return _export(args.get("view"), period)
    return render(
        "admin/report_list.html",
        "admin/partials/report_rows.html",
        args=args,
        period=period,
        daily=reports.list_daily_rows(period),
        tax=reports.tax_by_country(period),
        courses=reports.course_earnings(period),
        teachers=reports.teacher_earnings(period),
    )
