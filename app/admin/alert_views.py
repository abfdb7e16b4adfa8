"""Alerts: every rule's value now against its threshold, and the open and past episodes."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin.alert_rules import RULES_BY_KEY
from app.admin.alerts import recent_episodes, rule_states
from app.core.htmx import render


@bp.get("/alerts")
def alert_list() -> ResponseReturnValue:
    return render(
        "admin/alert_list.html",
        "admin/partials/alert_state.html",
        states=rule_states(),
        episodes=recent_episodes(),
        rules=RULES_BY_KEY,
    )
