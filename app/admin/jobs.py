"""The console's RQ jobs: evaluating the alert rules (cron, every minute)."""

from __future__ import annotations

import logging

from app.admin import alerts
from app.core.unit import committing

log = logging.getLogger(__name__)


def evaluate_alerts() -> int:
    """Measure every rule, open/resolve episodes (one commit), then send the emails owed.

    Each episode's emails are their own commit: a failing mail server makes the job fail and
    RQ retry it; what was already sent is not sent again (notify dedupes per admin and key).
    Returns the number of rules over their line."""
    with committing():
        states = alerts.evaluate()
    for episode_id, notice in alerts.pending_notices():
        with committing():
            sent = alerts.notify_admins(episode_id, notice)
        log.info("event=alert_notice episode=%s notice=%s emails=%d", episode_id, notice, sent)
    over = [state.rule.key for state in states if state.breached]
    if over:
        log.warning("event=alerts_over rules=%s", ",".join(over))
    return len(over)
