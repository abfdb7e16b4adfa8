"""Webhooks, provider returns, the pay page (sandbox and Razorpay), retries and refunds."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_required

from app.accounts.access import viewer
from app.accounts.models import User
from app.checkout.queries import get_order_for
from app.core.errors import DomainError, json_error
from app.core.htmx import redirect_to, render
from app.extensions import csrf, db, limiter, limits_storage_down
from app.jobs.queues import QueueName, enqueue_after_commit
from app.payments import bp, queries, services
from app.payments.forms import RefundForm, RetryForm, SandboxForm
from app.payments.jobs import (
    CRITICAL_RETRY,
    enqueue_webhook_processing,
    process_webhook_event,
    store_sandbox_event,
)
from app.payments.models import Payment, Refund, RefundSource, SandboxSession, SandboxStatus
from app.payments.providers import get_provider, providers_for
from app.payments.providers.base import InvalidSignature, MalformedWebhook, ProviderError
from app.payments.providers.sandbox import (
    TEST_CARDS,
    CardOutcome,
    CardRefused,
    SandboxCard,
    find_card,
    record_outcome,
)

log = logging.getLogger(__name__)


@bp.post("/webhooks/<provider>")
@csrf.exempt
# Fails open: while Redis is down the limit is dropped, so storing a webhook needs PostgreSQL only.
@limiter.limit("1200 per minute", exempt_when=limits_storage_down)
def webhook(provider: str) -> ResponseReturnValue:
    raw = request.get_data(cache=False)  # the exact bytes the signature covers
    try:
        ingested = services.ingest_webhook(provider, raw, dict(request.headers))
        db.session.commit()
    except InvalidSignature as exc:
        db.session.rollback()
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
    payment = services.apply_payment_facts(provider, facts) if facts else None
    db.session.commit()
    token = queries.order_token_for_return(provider, params, payment)
    if token is None:
        flash("We couldn't match that payment to an order. Check “My orders”.", "warning")
        return redirect_to(url_for("checkout.my_orders"))
    return redirect_to(url_for("checkout.order_page", token=token))


@bp.get("/pay/<token>")
@login_required
def pay_page(token: str) -> ResponseReturnValue:
    payment = queries.get_payment_for(token, viewer())
    if payment is None:
        abort(404)
    if payment.provider == "stripe" and payment.checkout_url:
        return redirect_to(payment.checkout_url)
    if payment.provider == "razorpay":
        return _razorpay_page(payment)
    session = queries.get_sandbox_session(payment.provider_session_id)
    if session is None:
        abort(404)
    return _sandbox_page(session, payment, SandboxForm(card=TEST_CARDS[0].spaced))


def _sandbox_page(
    session: SandboxSession,
    payment: Payment,
    form: SandboxForm,
    status: int = 200,
    challenge: SandboxCard | None = None,
) -> Response:
    template = "payments/sandbox_authenticate.html" if challenge else "payments/sandbox.html"
    return render(
        template,
        template,
        status,
        session=session,
        payment=payment,
        form=form,
        cards=TEST_CARDS,
        challenge=challenge,
    )


def _razorpay_page(payment: Payment) -> Response:
    response = render("payments/razorpay.html", "payments/razorpay.html", payment=payment)
    script = str((payment.client_data or {}).get("script", ""))
    origin = "/".join(script.split("/")[:3]) if script.startswith("http") else ""
    # Only this page lets Razorpay's checkout.js in (and the frames and styles it needs).
    response.headers["Content-Security-Policy"] = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {origin}",
            f"frame-src 'self' https://api.razorpay.com {origin}",
            "img-src 'self' data: https:",
            "connect-src 'self' https:",
            "style-src 'self' 'unsafe-inline'",
            "form-action 'self' https://api.razorpay.com",
            "base-uri 'self'",
        ]
    )
    return response


def _sandbox_session(token: str) -> tuple[Payment, SandboxSession]:
    payment = queries.get_payment_for(token, viewer())
    session = queries.get_sandbox_session(payment.provider_session_id) if payment else None
    if payment is None or session is None:
        abort(404)
    return payment, session


@bp.get("/pay/<token>/authenticate")
@login_required
def sandbox_authenticate(token: str) -> ResponseReturnValue:
    """The 3-D Secure-like step of the "requires action" test card."""
    payment, session = _sandbox_session(token)
    card = next(c for c in TEST_CARDS if c.outcome is CardOutcome.REQUIRES_ACTION)
    return _sandbox_page(session, payment, SandboxForm(card=card.number), challenge=card)


@bp.post("/pay/<token>/sandbox")
@login_required
def sandbox_submit(token: str) -> ResponseReturnValue:
    payment, session = _sandbox_session(token)
    form = SandboxForm()
    if not form.validate_on_submit():
        abort(404)
    action, card = form.action.data or "", None
    if action in ("pay", "authenticate"):
        try:
            card = find_card(form.card.data or "")
        except CardRefused as err:  # nothing is recorded: the buyer fixes the number
            form.card.errors = [str(err)]
            return _sandbox_page(session, payment, form, 422)
        if card.outcome is CardOutcome.REQUIRES_ACTION and action == "pay":
            return redirect_to(url_for("payments.sandbox_authenticate", token=token))
    outcome = record_outcome(session, action, card)
    if outcome is None:
        flash("This test payment was already finished.", "info")
    else:  # the event is stored with the outcome: if Redis is down, the sweeper queues it
        ingested = store_sandbox_event(session, outcome)
        enqueue_after_commit(
            process_webhook_event, ingested.event_id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
        )
    db.session.commit()
    target = session.success_url if session.status is SandboxStatus.PAID else session.cancel_url
    return redirect_to(target + ("?session_id=" + session.id if "?" not in target else ""))


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
    try:
        payment = services.retry_payment(order, form.provider.data or "")
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
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
        try:  # the same form again (a double click, ten at once) finds the first refund
            refund, first = _student_refund(token, plan, form, user)  # type: ignore[arg-type]
        except DomainError as err:
            db.session.rollback()
            problem = problem or err.message  # the preview's reason, when it had one
        else:
            failed = refund.status.value == "failed"
            flash(_refund_message(refund.status.value, first), "error" if failed else "success")
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
    db.session.commit()  # the refund row exists before the provider is asked (see refunds.py)
    if first:
        refund = services.execute_refund(refund)
        db.session.commit()
    return refund, first


def _refund_message(status: str, first: bool = True) -> str:
    if not first:
        return {
            "failed": "You already asked for this refund, but it could not be made. "
            "Please contact us.",
            "pending": "You already asked for this refund; it is being made.",
        }.get(status, "You already asked for this refund, and it has been made.")
    if status == "failed":
        return "The refund could not be made. Please contact us."
    return "Your refund is on its way. Access to the refunded courses has ended."
