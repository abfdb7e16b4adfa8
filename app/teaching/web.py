"""What the studio's views share: the context of each page and how an action answers (the
fragment for HTMX, a 303 back to the page without JavaScript)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, url_for
from flask.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3

from app.catalog.models import Course, Lecture
from app.core.errors import DomainError
from app.core.htmx import render, wants_partial
from app.core.money import Money
from app.teaching import queries
from app.teaching.errors import PublishRefused
from app.teaching.forms import CourseForm, course_form_class
from app.teaching.services import publish_problems

CURRICULUM_PAGE = "teaching/course_curriculum.html"
CURRICULUM_PARTIAL = "teaching/partials/curriculum.html"


def currencies() -> tuple[str, ...]:
    return tuple(current_app.config["SUPPORTED_CURRENCIES"])


def answer(
    page: str, partial: str, back: str, error: DomainError | None = None, **context: Any
) -> Response:
    """An action's answer: HTMX gets the fragment (422 with the error in it), a plain form
    post goes back to the page (the error flashed)."""
    if wants_partial():
        return render(page, partial, 422 if error else 200, error=error, **context)
    if error is not None:
        flash(error.message, "error")
    return redirect(back, 303)  # type: ignore[return-value]


def publish_context(course: Course, error: DomainError | None = None) -> dict[str, Any]:
    problems = error.reasons if isinstance(error, PublishRefused) else publish_problems(course)
    return {"course": course, "problems": problems, "publish_error": error}


def course_form(course: Course) -> CourseForm:
    """The details form filled from the course (a POST fills it from the request instead)."""
    prices = queries.get_prices(course.id)
    form = course_form_class(currencies())(
        title=course.title,
        subtitle=course.subtitle,
        description=course.description_md,
        category=str(course.category_id or ""),
        level=course.level.value,
        language=course.language,
        free=bool(prices) and not any(prices.values()),
    )
    periods = queries.get_price_periods(course.id)
    for currency in currencies():
        amount, period = prices.get(currency), periods.get(currency)
        if amount and not form.is_submitted():
            form[f"price_{currency.lower()}"].data = str(Money(amount, currency).to_decimal())
        if period is not None and not form.is_submitted():
            form[f"period_{currency.lower()}"].data = str(period.value)
            form[f"period_unit_{currency.lower()}"].data = period.unit
    form.category.choices = [SelectChoice("", "— None —")] + [
        SelectChoice(str(i), name) for i, name in queries.list_category_choices()
    ]
    return form


def details_context(course: Course, form: CourseForm, **extra: Any) -> dict[str, Any]:
    return {"course": course, "form": form, **publish_context(course), **extra}


def curriculum_context(course: Course) -> dict[str, Any]:
    curriculum = queries.get_curriculum(course.id)
    return {
        "course": course,
        "curriculum": curriculum,
        "videos": queries.curriculum_videos(curriculum),
        **publish_context(course),
    }


def curriculum_answer(course: Course, error: DomainError | None = None) -> Response:
    """The curriculum, and out of band the publish panel (a change may add or settle a reason)."""
    back = url_for("teaching.curriculum_page", course_id=course.id)
    context = curriculum_context(course)
    return answer(CURRICULUM_PAGE, CURRICULUM_PARTIAL, back, error, oob=True, **context)


def lecture_back(lecture: Lecture) -> str:
    return url_for("teaching.edit_lecture", lecture_id=lecture.id)
