"""Registration, login, logout and the account pages."""

from __future__ import annotations

import logging

from flask import current_app, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_limiter.errors import RateLimitExceeded
from flask_login import login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.accounts import bp, services, sessions
from app.accounts.access import loaded_viewer, viewer
from app.accounts.forms import LoginForm, LogoutForm, PasswordForm, ProfileForm, RegisterForm
from app.accounts.lockout import too_many_attempts
from app.accounts.models import User
from app.accounts.queries import list_login_sessions, normalise_email
from app.core.errors import DomainError
from app.core.forms import attach_error, text
from app.core.htmx import redirect_to, render
from app.core.security import is_safe_redirect
from app.extensions import db, limiter

log = logging.getLogger(__name__)


def _next_url(candidate: str | None) -> str:
    return candidate if candidate and is_safe_redirect(candidate) else url_for("catalog.home")


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) == 422


def _sign_in(user: User, remember: bool) -> None:
    """Open a login session for this device, commit, and give its id to Flask-Login's cookies."""
    sessions.start_login_session(user, remember=remember, user_agent=request.user_agent.string)
    db.session.commit()
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit("5 per hour", key_func=_account_key, methods=["POST"])
def register() -> ResponseReturnValue:
    form = RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.register_user(text(form.email), text(form.password), text(form.name))
            sessions.start_login_session(user, remember=False, user_agent=request.user_agent.string)
            db.session.commit()
        except DomainError as err:
            attach_error(form, err)
        except IntegrityError:  # a concurrent sign-up took the email between check and insert
            db.session.rollback()
            form.email.errors = ["An account with this email already exists."]
        else:
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
        try:
            user = services.authenticate(text(form.email), text(form.password))
        except DomainError as err:
            attach_error(form, err)
        else:
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
            sessions.revoke_login_session(user.login.id)
            db.session.commit()
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
        try:
            services.update_profile(user, text(form.name), text(form.email), text(form.country))
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            attach_error(form, err)
        else:
            flash("Your profile is saved.", "success")
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
        sessions.revoke_user_sessions(user.id)
        db.session.commit()
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
        try:
            services.change_password(
                user,
                text(form.current_password),
                text(form.new_password),
                keep_login=user.login.id if user.login else None,
            )
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            attach_error(form, err)
        else:
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect_to(url_for("accounts.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "accounts/password.html", "accounts/partials/password_form.html", status, form=form
    )


bp.register_error_handler(RateLimitExceeded, too_many_attempts)


@bp.after_app_request
def _keep_login_alive(response: Response) -> Response:
    """Note activity on this request's login every few minutes, in a transaction of its own so
    the view's uncommitted work is never committed with it."""
    user = loaded_viewer()
    login = user.login if user is not None else None
    if login is not None and sessions.needs_touch(login):
        try:
            with Session(db.engine) as own, own.begin():
                sessions.touch_login_session(own, login)
        except SQLAlchemyError as exc:  # a missed hint must not fail the page
            log.warning("event=login_touch_failed login_id=%s error=%r", login.id, exc)
    return response
