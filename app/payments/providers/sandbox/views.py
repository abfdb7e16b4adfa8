"""The sandbox's hosted page routes: the card form's answer and the 3-D Secure-like step.

They join the payments blueprint (endpoints `payments.sandbox_*`) when app/payments/views.py
imports this module; the page itself is shown by the one pay view, from
`SandboxProvider.pay_page`.
"""

from __future__ import annotations

from flask import abort, flash, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_required

from app.accounts.access import viewer
from app.core.htmx import redirect_to, render
from app.core.unit import committing
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.payments import bp, queries
from app.payments.forms import SandboxForm
from app.payments.jobs import process_webhook_event
from app.payments.models import Payment
from app.payments.providers.base import PayPage
from app.payments.providers.sandbox import CHALLENGE_CARD, CardRefused, hosted_page
from app.payments.providers.sandbox.hosted import checked_card, finish, needs_challenge, return_url
from app.payments.providers.sandbox.models import SandboxSession, get_session

CHALLENGE_PAGE = "payments/sandbox/authenticate.html"


def _session_for(token: str) -> tuple[Payment, SandboxSession]:
    payment = queries.get_payment_for(token, viewer())
    session = get_session(payment.provider_session_id) if payment else None
    if payment is None or session is None:
        abort(404)
    return payment, session


def _show(page: PayPage, status: int = 200) -> Response:
    template = page.template or ""
    return render(template, template, status, **page.context)


@bp.get("/pay/<token>/authenticate")
@login_required
def sandbox_authenticate(token: str) -> ResponseReturnValue:
    """The 3-D Secure-like step of the "requires action" test card."""
    payment, session = _session_for(token)
    page = PayPage.page(CHALLENGE_PAGE, session=session, payment=payment, challenge=CHALLENGE_CARD)
    return _show(page)


@bp.post("/pay/<token>/sandbox")
@login_required
def sandbox_submit(token: str) -> ResponseReturnValue:
    payment, session = _session_for(token)
    form = SandboxForm()
    if not form.validate_on_submit():
        abort(404)
    action, number = form.action.data or "", form.card.data or ""
    try:
        card = checked_card(action, number)
    except CardRefused as err:  # nothing is recorded: the buyer fixes the number
        return _show(hosted_page(session, payment, number, [str(err)]), 422)
    if needs_challenge(action, card):
        return redirect_to(url_for("payments.sandbox_authenticate", token=token))
    with committing():
        event_id = finish(session, action, card)
        if event_id is not None:  # stored with the outcome: if Redis is down, the sweeper queues it
            enqueue_after_commit(
                process_webhook_event, event_id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
            )
    if event_id is None:
        flash("This test payment was already finished.", "info")
    return redirect_to(return_url(session))
