"""Registration, login, logout, password reset, email verification and the account pages."""

from __future__ import annotations

import logging

from flask import current_app, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import login_required, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.accounts import bp, services, sessions, tokens
from app.accounts.access import loaded_viewer, viewer
from app.accounts.forms import (
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from app.accounts.lockout import too_many_attempts
from app.accounts.models import User
from app.accounts.queries import list_login_sessions, normalise_email
from app.core.forms import text
from app.core.htmx import redirect_to, render, wants_partial
from app.core.security import is_safe_redirect
from app.core.unit import committing
from app.extensions import db, limiter
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.notifications.jobs import send_email_verification, send_password_reset

log = logging.getLogger(__name__)

# Requests that are not the user doing something (the header bell polling every 30 s): they
# must not keep an idle login alive.
_PASSIVE_ENDPOINTS = frozenset({"notifications.badge"})


def _next_url(candidate: str | None) -> str:
    return candidate if candidate and is_safe_redirect(candidate) else url_for("catalog.home")


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))


def _user_key() -> str:
    user = viewer()
    return f"user:{user.id}" if user is not None else get_remote_address()


def _send_verification(user: User) -> None:
    enqueue_after_commit(send_email_verification, user.id, retry=NOTIFY_RETRY)


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) == 422


def _sign_in(user: User, remember: bool) -> None:
    """Open a login session for this device, commit, and give its id to Flask-Login's cookies."""
    with committing():
        sessions.start_login_session(user, remember=remember, user_agent=request.user_agent.string)
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit("5 per hour", key_func=_account_key, methods=["POST"])
def register() -> ResponseReturnValue:
    form = RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with committing(form) as unit:
            user = services.register_user(text(form.email), text(form.password), text(form.name))
            sessions.start_login_session(user, remember=False, user_agent=request.user_agent.string)
            _send_verification(user)
        if unit.ok:
            login_user(user)
            flash(f"Welcome to Coursefront, {user.first_name}!", "success")
            return redirect_to(_next_url(form.next.data))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "accounts/register.html", "accounts/partials/register_form.html", status, form=form
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with committing(form) as unit:
            user = services.authenticate(text(form.email), text(form.password))
        if unit.ok:
            _sign_in(user, remember=bool(form.remember.data))
            flash(f"Welcome back, {user.first_name}.", "success")
            return redirect_to(_next_url(form.next.data))
    status = 422 if form.errors or form.form_errors else 200
    return render("accounts/login.html", "accounts/partials/login_form.html", status, form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        user = viewer()
        if user is not None and user.login is not None:
            with committing():
                sessions.revoke_login_session(user.login.id)
        logout_user()  # also deletes the remember cookie
        flash("You have been logged out.", "info")
        return redirect_to(url_for("catalog.home"))
    return render("accounts/logout.html", "accounts/logout.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        old_email = user.email
        with committing(form) as unit:
            services.update_profile(user, text(form.name), text(form.email), text(form.country))
            if user.email != old_email:
                _send_verification(user)
        if unit.ok:
            changed = user.email != old_email
            note = f" We sent a link to {user.email} to confirm it." if changed else ""
            flash("Your profile is saved." + note, "success")
            return redirect_to(url_for("accounts.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "accounts/profile.html",
        "accounts/partials/profile_form.html",
        status,
        form=form,
        logins=list_login_sessions(user.id),
        this_login=user.login,
    )


@bp.post("/account/sessions/logout-all")
@login_required
def logout_everywhere() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    if LogoutForm().validate_on_submit():
        with committing():
            sessions.revoke_user_sessions(user.id)
        logout_user()
        flash("You have been logged out on every device.", "info")
        return redirect_to(url_for("accounts.login"))
    return redirect_to(url_for("accounts.profile"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    form = PasswordForm()
    if form.validate_on_submit():
        with committing(form) as unit:
            services.change_password(
                user,
                text(form.current_password),
                text(form.new_password),
                keep_login=user.login.id if user.login else None,
            )
        if unit.ok:
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect_to(url_for("accounts.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "accounts/password.html", "accounts/partials/password_form.html", status, form=form
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RESET_RATE_LIMIT_ACCOUNT"], key_func=_account_key, methods=["POST"]
)
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    sent = False
    if form.validate_on_submit():
        with committing(form) as unit:
            email = services.clean_email(text(form.email))
            # The same work for every address: whether an account has it is decided in the job.
            enqueue_after_commit(send_password_reset, email, retry=NOTIFY_RETRY)
        sent = unit.ok
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "accounts/forgot.html", "accounts/partials/forgot_form.html", status, form=form, sent=sent
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    form = ResetPasswordForm()
    try:
        tokens.user_for_reset(token)  # a bad link gets its own page, not a form
    except tokens.BadLink as err:
        return _bad_link(err, "reset")
    if form.validate_on_submit():
        with committing(form) as unit:
            user = services.reset_password(token, text(form.password))
            sessions.start_login_session(user, remember=False, user_agent=request.user_agent.string)
        if isinstance(unit.error, tokens.BadLink):  # used by a parallel request meanwhile
            return _bad_link(unit.error, "reset")
        if unit.ok:
            login_user(user)  # a fresh login; every older one was just revoked
            flash("Your password is changed. Every other device has been signed out.", "success")
            return redirect_to(url_for("catalog.home"))
    status = 422 if form.errors or form.form_errors else 200
    response = render("accounts/reset.html", "accounts/reset.html", status, form=form)
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the token
    return response


@bp.get("/account/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    try:
        with committing():
            user = services.verify_email(token)
    except tokens.BadLink as err:
        return _bad_link(err, "verify")
    flash(f"Thank you: {user.email} is confirmed.", "success")
    return redirect_to(url_for("catalog.home"))


@bp.post("/account/verify/resend")
@login_required
@limiter.limit(lambda: current_app.config["VERIFY_RESEND_RATE_LIMIT"], key_func=_user_key)
def resend_verification() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    next_url = _next_url(request.form.get("next"))
    if LogoutForm().validate_on_submit() and not user.email_verified:
        with committing():
            _send_verification(user)
    if wants_partial():
        partial = "accounts/partials/verify_banner.html"
        return render(partial, partial, sent=True, next_url=next_url)
    hours = current_app.config["EMAIL_VERIFY_HOURS"]
    flash(f"We sent a new link to {user.email}. It works for {hours} hours.", "info")
    return redirect_to(next_url)


def _bad_link(err: tokens.BadLink, kind: str) -> Response:
    """The page for an expired, used or invalid mailed link, with a way to get a new one."""
    page = "accounts/bad_link.html"
    return render(page, page, 400, kind=kind, problem=err.problem.value, message=err.message)


bp.register_error_handler(RateLimitExceeded, too_many_attempts)


@bp.after_app_request
def _keep_login_alive(response: Response) -> Response:
    """Note activity on this request's login every few minutes, in a transaction of its own so
    the view's uncommitted work is never committed with it."""
    if request.endpoint in _PASSIVE_ENDPOINTS:
        return response
    user = loaded_viewer()
    login = user.login if user is not None else None
    seen = user.login_seen_at if user is not None else None
    if login is not None and seen is not None and sessions.needs_touch(seen):
        try:
            with Session(db.engine) as own, own.begin():
                sessions.touch_login_session(own, login)
        except SQLAlchemyError as exc:  # a missed hint must not fail the page
            log.warning("event=login_touch_failed login_id=%s error=%r", login.id, exc)
    return response
