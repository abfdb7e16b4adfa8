"""Alerts: every rule's value now against its threshold, and the open and past episodes
(by rule and state, paged, or as CSV)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import alerts, bp
from app.admin.alert_rules import RULES_BY_KEY
from app.admin.web import PER_PAGE, csv_response, list_args
from app.core.htmx import render


@bp.get("/alerts")
def alert_list() -> ResponseReturnValue:
    args = list_args("rule", "state")
    if args.export:
        rows = alerts.episode_csv_rows(args)
        return csv_response("alert-episodes.csv", alerts.EPISODE_CSV_HEADER, rows)
    return render(
        "admin/alert_list.html",
        "admin/partials/alert_state.html",
        args=args,
        states=alerts.rule_states(),
        episodes=alerts.list_episodes(args, PER_PAGE),
        rules=RULES_BY_KEY,
        rule_choices=alerts.RULE_CHOICES,
        episode_states=alerts.EPISODE_STATES,
    )
