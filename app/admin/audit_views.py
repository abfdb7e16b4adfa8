"""The audit log page: every admin action and CLI role change, newest first."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin.audit import AUDIT_CSV_HEADER, SOURCES, audit_csv_rows, list_actions, list_audit
from app.admin.web import PER_PAGE, csv_response, list_args
from app.core.htmx import render


@bp.get("/audit")
def audit_list() -> ResponseReturnValue:
    args = list_args("action", "source")
    if args.export:
        return csv_response("audit-log.csv", AUDIT_CSV_HEADER, audit_csv_rows(args))
    return render(
        "admin/audit_list.html",
        "admin/partials/audit_rows.html",
        args=args,
        entries=list_audit(args, PER_PAGE),
        actions=list_actions(),
        sources=SOURCES,
    )
