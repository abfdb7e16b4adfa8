"""Webhooks, provider returns, the pay page (whatever the provider says), retries, refunds."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_required

from app.accounts.access import viewer
from app.accounts.models import User
from app.checkout.queries import get_order_for
from app.core.errors import json_error
from app.core.htmx import redirect_to, render
from app.core.unit import committing
from app.extensions import csrf, limiter, limits_storage_down
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.payments import bp, queries, services
from app.payments.forms import RefundForm, RetryForm
from app.payments.jobs import (
    enqueue_webhook_processing,
    execute_refund,
)
from app.payments.models import Refund, RefundSource
from app.payments.providers import get_provider, providers_for
from app.payments.providers.base import InvalidSignature, MalformedWebhook, PayPage, ProviderError

# The sandbox's hosted page routes live in its package and join this blueprint on import.
from app.payments.providers.sandbox import views as sandbox_views  # noqa: F401

log = logging.getLogger(__name__)


@bp.post("/webhooks/<provider>")
@csrf.exempt
# Fails open: while Redis is down the limit is dropped, so storing a webhook needs PostgreSQL only.
@limiter.limit("1200 per minute", exempt_when=limits_storage_down)
def webhook(provider: str) -> ResponseReturnValue:
    raw = request.get_data(cache=False)  # the exact bytes the signature covers
    try:
        with committing():
            ingested = services.ingest_webhook(provider, raw, dict(request.headers))
    except InvalidSignature as exc:
        log.warning("event=webhook_rejected provider=%s reason=%s", provider, exc)
        if isinstance(exc, MalformedWebhook):
            return json_error("malformed_webhook", f"The event cannot be read: {exc}", 400)
        return json_error("invalid_signature", "The signature does not verify.", 400)
    except ProviderError:
        return json_error("unknown_provider", "No such payment provider here.", 404)
    if ingested.created:
        enqueue_webhook_processing(ingested.event_id)  # if Redis is down, the sweeper will
    return jsonify({"received": True, "duplicate": not ingested.created})


@bp.route("/checkout/return/<provider>", methods=["GET", "POST"])
@csrf.exempt  # Razorpay's checkout posts here; what it brings is verified by signature
def provider_return(provider: str) -> ResponseReturnValue:
    params = {**request.args.to_dict(), **request.form.to_dict()}
    try:
        facts = get_provider(provider).verify_return(params)
    except ProviderError:
        abort(404)
    with committing():
        payment = services.apply_payment_facts(provider, facts) if facts else None
    token = queries.order_token_for_return(provider, params, payment)
    if token is None:
        flash("We couldn't match that payment to an order. Check “My orders”.", "warning")
        return redirect_to(url_for("checkout.my_orders"))
    return redirect_to(url_for("checkout.order_page", token=token))


@bp.get("/pay/<token>")
@login_required
def pay_page(token: str) -> ResponseReturnValue:
    """Where the buyer pays: the provider says (its page, or one of ours with its own CSP)."""
    payment = queries.get_payment_for(token, viewer())
    if payment is None:
        abort(404)
    try:
        page = get_provider(payment.provider).pay_page(payment)
    except ProviderError:  # the provider is no longer configured here
        abort(404)
    if page is None:  # no session was opened at the provider
        abort(404)
    return _pay_response(page)


def _pay_response(page: PayPage) -> Response:
    if page.redirect is not None:
        return redirect_to(page.redirect)
    template = page.template or ""
    response = render(template, template, **page.context)
    if page.csp:  # this page's policy replaces the site's (see app/core/web.py)
        response.headers["Content-Security-Policy"] = page.csp
    return response


@bp.post("/orders/<token>/retry")
@login_required
def retry(token: str) -> ResponseReturnValue:
    order = get_order_for(token, viewer())
    form = RetryForm()
    form.provider.choices = (
        [(p.name, p.label) for p in providers_for(order.currency)] if order else []
    )
    if order is None or not form.validate_on_submit():
        abort(404)
    with committing(catch=True) as unit:
        payment = services.retry_payment(order, form.provider.data or "")
    if unit.error is not None:
        flash(unit.error.message, "error")
        return redirect_to(url_for("checkout.order_page", token=token))
    return redirect_to(payment.checkout_url or url_for("checkout.order_page", token=token))


@bp.route("/orders/<token>/refund", methods=["GET", "POST"])
@login_required
def request_refund(token: str) -> ResponseReturnValue:
    user = viewer()
    order = get_order_for(token, user)
    if order is None or order.user_id != user.id:  # type: ignore[union-attr]
        abort(404)
    form = RefundForm() if request.method == "POST" else RefundForm(formdata=request.args or None)
    form.courses.choices = queries.refundable_choices(order)
    plan, problem = queries.preview_refund(order, form.courses.data or [])
    if request.method == "POST" and form.validate_on_submit():
        # The same form again (a double click, ten at once) finds the first refund.
        with committing(catch=True) as unit:
            refund, first = _student_refund(token, plan, form, user)  # type: ignore[arg-type]
        if unit.error is not None:
            problem = problem or unit.error.message  # the preview's reason, when it had one
        else:  # the order page shows the refund pending, then made (or refused)
            flash(*_refund_message(refund, first))
            return redirect_to(url_for("checkout.order_page", token=token))
    posted = request.method == "POST"
    return render(
        "payments/refund.html",
        "payments/partials/refund_form.html",
        422 if posted and (problem or form.errors) else 200,
        order=order,
        form=form,
        plan=plan,
        problem=problem,
        window=current_app.config["REFUND_WINDOW_DAYS"],
        limit=current_app.config["REFUND_MAX_PROGRESS"],
    )


def _student_refund(
    token: str, plan: services.RefundPlan | None, form: RefundForm, user: User
) -> tuple[Refund, bool]:
    """The refund this form asked for, and whether this request made it."""
    key = f"student:{token}:{form.request_key.data}"
    # Looked up after the preview: a preview spoiled by this form's own earlier refund
    # (committed before its effects) still finds that refund here.
    earlier = services.find_refund(key)
    if earlier is not None:
        return earlier, False
    if plan is None:
        raise services.RefundError("Choose the courses to refund.")
    services.check_refund_policy(plan)
    reason = form.reason.data or ""
    refund, first = services.claim_refund(plan, RefundSource.STUDENT, reason, key, user)
    if first:  # the job makes it once the row is committed, as for every refund
        enqueue_after_commit(
            execute_refund, refund.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
        )
    return refund, first


def _refund_message(refund: Refund, first: bool) -> tuple[str, str]:
    """The flash (text, category) for a refund form that was sent."""
    if first:
        return "Your refund is on its way: we are making it now.", "success"
    if refund.failed:
        return (
            "You already asked for this refund, but it could not be made. Please contact us.",
            "error",
        )
    if refund.is_pending:
        return "You already asked for this refund; it is being made.", "info"
    return "You already asked for this refund, and it has been made.", "info"
