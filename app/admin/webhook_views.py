"""Webhook inbox: events by provider, status and type, one event with its redacted payload,
and replay of one or many (confirmed first, audited, idempotent: see payments' replay)."""

from __future__ import annotations

import json

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from app.admin import bp, webhooks
from app.admin.access import actor
from app.admin.order_forms import ReasonedForm
from app.admin.web import PER_PAGE, confirm_page, confirmed, csv_response, list_args
from app.core.forms import text
from app.core.htmx import render
from app.core.unit import committing
from app.payments.models import WebhookEvent, WebhookStatus


@bp.get("/webhooks")
def webhook_list() -> ResponseReturnValue:
    args = list_args("provider", "status", "type")
    if args.export:
        rows = webhooks.event_csv_rows(args)
        return csv_response("webhooks.csv", webhooks.EVENT_CSV_HEADER, rows)
    return render(
        "admin/webhook_list.html",
        "admin/partials/webhook_rows.html",
        args=args,
        events=webhooks.list_events(args, PER_PAGE),
        providers=webhooks.PROVIDERS,
        statuses=webhooks.STATUSES,
        form=ReasonedForm(formdata=None),
    )


@bp.get("/webhooks/<int:event_id>")
def webhook_detail(event_id: int) -> ResponseReturnValue:
    row = webhooks.get_event(event_id)
    payload = json.dumps(webhooks.redact(row.event.payload), indent=2, sort_keys=True)
    return render(
        "admin/webhook_detail.html",
        "admin/partials/webhook_event.html",
        row=row,
        payload=payload,
        form=ReasonedForm(formdata=None),
    )


def _selected() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()][: webhooks.MAX_REPLAY]


def _replay(events: list[WebhookEvent], back: str) -> ResponseReturnValue:
    """Confirm (what each replay will do), then queue them all in one transaction."""
    form = ReasonedForm()
    if not events or not form.validate_on_submit():
        flash("Tick at least one event to replay." if not events else "Check the reason.", "error")
        return redirect(back, 303)
    if not confirmed():
        summary = [_effect(e) for e in events]
        action = request.path
        return confirm_page(f"Replay {len(events)} webhook event(s)", action, summary=summary)
    with committing():
        webhooks.replay(events, actor(), text(form.reason))
    flash(f"{len(events)} event(s) queued for processing.", "success")
    return redirect(back, 303)


def _effect(event: WebhookEvent) -> str:
    name = f"#{event.id} {event.provider} {event.type} ({event.status.value})"
    if event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
        return f"{name}: already handled, replaying it changes nothing."
    return f"{name}: processed now by a worker (a paid order is fulfilled)."


@bp.post("/webhooks/<int:event_id>/replay")
def webhook_replay(event_id: int) -> ResponseReturnValue:
    row = webhooks.get_event(event_id)
    return _replay([row.event], url_for("admin.webhook_detail", event_id=event_id))


@bp.post("/webhooks/replay")
def webhook_replay_many() -> ResponseReturnValue:
    return _replay(webhooks.get_events(_selected()), url_for("admin.webhook_list"))
