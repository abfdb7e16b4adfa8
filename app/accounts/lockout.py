"""The answer to a refused login or sign-up: the form again, saying how long to wait."""

from __future__ import annotations

import math
import time

from flask import request
from flask.wrappers import Response
from flask_limiter.errors import RateLimitExceeded
from flask_wtf import FlaskForm

from app.accounts.forms import ForgotPasswordForm, LoginForm, RegisterForm
from app.core.htmx import render, wants_partial
from app.core.web import error_response, wants_json
from app.extensions import limiter

# The rate-limited form pages: a refused attempt shows the form again with the wait in it.
_LIMITED_FORMS: dict[str, tuple[type[FlaskForm], str, str]] = {
    "accounts.login": (LoginForm, "accounts/login.html", "accounts/partials/login_form.html"),
    "accounts.register": (
        RegisterForm,
        "accounts/register.html",
        "accounts/partials/register_form.html",
    ),
    "accounts.forgot_password": (
        ForgotPasswordForm,
        "accounts/forgot.html",
        "accounts/partials/forgot_form.html",
    ),
}
# Rate-limited buttons inside a fragment: an HTMX refusal swaps the fragment, saying the wait.
_LIMITED_FRAGMENTS = {"accounts.resend_verification": "accounts/partials/verify_banner.html"}


def retry_after() -> int:
    """Seconds until the breached limit resets, by the limiter's own arithmetic (Retry-After)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    try:
        return max(1, int(breached.reset_at - time.time()))
    except Exception:  # the limit store went away since the check: say the window's length
        return max(1, int(breached.limit.get_expiry()))


def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return f"Too many attempts. Try again in {seconds} second{'s' if seconds != 1 else ''}."
    return f"Too many attempts. Try again in {math.ceil(seconds / 60)} minutes."


def too_many_attempts(_err: RateLimitExceeded) -> Response:
    """429 saying "Try again in N seconds" (page, fragment or JSON), with Retry-After: N."""
    seconds = retry_after()
    message = _wait_message(seconds)
    page = _LIMITED_FORMS.get(request.endpoint or "")
    fragment = _LIMITED_FRAGMENTS.get(request.endpoint or "")
    if fragment is not None and wants_partial() and not wants_json():
        response = render(fragment, fragment, 429, error=message)
    elif page is None or wants_json():
        response = error_response(429, message, "rate_limited")
    else:
        form_class, template, partial = page
        form = form_class()
        form.form_errors.append(message)
        response = render(template, partial, 429, form=form)
    response.headers["Retry-After"] = str(seconds)
    return response
