"""Dashboard: the shop at a glance (revenue, orders, funnel, latency, queues, attention),
refreshed by an HTMX poll of the same route."""

from __future__ import annotations

from flask import current_app, request
from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin import dashboard as kpis
from app.admin.charts import bar_chart
from app.core.htmx import render


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    currencies = tuple(current_app.config["SUPPORTED_CURRENCIES"])
    board = kpis.get_dashboard(currencies, fresh=request.args.get("fresh") == "1")
    charts = {r.currency: bar_chart(board.days, r.daily) for r in board.revenue}
    return render(
        "admin/dashboard.html",
        "admin/partials/dashboard_body.html",
        board=board,
        charts=charts,
    )
