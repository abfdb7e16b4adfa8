"""What every console list and action shares: filters from the query string, pagination,
CSV export and the confirmation step before a sensitive POST."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request
from werkzeug.datastructures import MultiDict

from app.core.pagination import clamp_page

PER_PAGE = 50
CSV_LIMIT = 50_000  # rows per export: bounded memory; narrow the filters for more


@dataclass(frozen=True)
class ListArgs:
    """A list's query string, parsed once: text search, page, date range and named filters."""

    q: str
    page: int
    date_from: date | None
    date_to: date | None
    filters: Mapping[str, str]
    export: bool

    @property
    def start(self) -> datetime | None:
        """date_from as the first instant of that day, UTC."""
        return datetime.combine(self.date_from, time.min, UTC) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """date_to as the instant the next day begins, UTC (the range includes date_to)."""
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time.min, UTC)

    def get(self, name: str) -> str:
        return self.filters.get(name, "")

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The current query string as url_for arguments, with `changes` applied (a pager link
        keeps the filters; a CSV link adds format=csv)."""
        args: dict[str, Any] = {k: v for k, v in self.filters.items() if v}
        if self.q:
            args["q"] = self.q
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        if self.page > 1:
            args["page"] = self.page
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None  # junk in a filter is ignored, as an empty field would be


def list_args(*names: str, args: MultiDict[str, str] | None = None) -> ListArgs:
    """Parse the request's query string for a list with the named filters."""
    source = request.args if args is None else args
    return ListArgs(
        q=source.get("q", "").strip()[:200],
        page=clamp_page(source.get("page")),
        date_from=_date(source.get("from")),
        date_to=_date(source.get("to")),
        filters={n: source.get(n, "").strip()[:100] for n in names},
        export=source.get("format") == "csv",
    )


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """The rows as a CSV download (at most CSV_LIMIT of them, written in memory while the
    request's session is open); cells a spreadsheet would run as a formula get an apostrophe
    in front (CSV injection)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows):
        if count >= CSV_LIMIT:
            break
        writer.writerow([_cell(value) for value in row])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if _NUMBER.fullmatch(text):
        return text  # a plain number (a refund-heavy day's net is negative) runs nothing
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def confirmed() -> bool:
    """A sensitive POST runs only once its confirmation page has been seen and submitted."""
    return request.form.get("confirmed") == "yes"


def confirm_page(
    title: str,
    action: str,
    *,
    summary: Sequence[str] = (),
    detail: str | None = None,
    danger: bool = False,
    **context: Any,
) -> Response:
    """The confirmation step: what will happen (`summary` lines, or a `detail` template), and a
    form that posts the same fields again with confirmed=yes."""
    fields = [
        (k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")
    ]
    body = render_template(
        "admin/confirm.html",
        title=title,
        action=action,
        summary=summary,
        detail=detail,
        danger=danger,
        fields=fields,
        **context,
    )
    return Response(body, 200)


def placeholder(title: str) -> Response:
    """A console page not built yet (removed once every area has its pages)."""
    return Response(render_template("admin/placeholder.html", title=title), 200)
