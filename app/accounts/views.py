"""Registration, login, logout and the account pages."""

from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from app.accounts import bp, services
from app.accounts.access import viewer
from app.accounts.forms import LoginForm, LogoutForm, PasswordForm, ProfileForm, RegisterForm
from app.accounts.queries import normalise_email
from app.core.errors import DomainError
from app.core.forms import attach_error, text
from app.core.htmx import redirect_to, render
from app.core.security import is_safe_redirect
from app.extensions import db, limiter


def _next_url(candidate: str | None) -> str:
    return candidate if candidate and is_safe_redirect(candidate) else url_for("catalog.home")


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) == 422


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit("5 per hour", key_func=_account_key, methods=["POST"])
def register() -> ResponseReturnValue:
    form = RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.register_user(text(form.email), text(form.password), text(form.name))
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
            db.session.commit()
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.first_name}.", "success")
            return redirect_to(_next_url(form.next.data))
    status = 422 if form.errors or form.form_errors else 200
    return render("accounts/login.html", "accounts/partials/login_form.html", status, form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        logout_user()
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
    return render("accounts/profile.html", "accounts/partials/profile_form.html", status, form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(user, text(form.current_password), text(form.new_password))
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            attach_error(form, err)
        else:
            login_user(user)  # re-issue this session with the new session version
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect_to(url_for("accounts.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "accounts/password.html", "accounts/partials/password_form.html", status, form=form
    )
