"""`flask seed-demo`: demo users, categories and courses for development. Safe to run twice."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from app.accounts.models import User
from app.accounts.queries import get_user_by_email
from app.accounts.services import ensure_user
from app.catalog.models import Category, Course
from app.catalog.queries import get_course_by_slug
from app.catalog.services import (
    CourseDraft,
    add_chapter,
    add_lecture,
    create_course,
    ensure_category,
    publish_course,
    set_price,
    slugify,
)
from app.core.errors import DomainError
from app.core.models import utcnow
from app.core.money import Money
from app.core.unit import committing
from app.demo.content import (
    ACCESS_PERIODS,
    CATEGORIES,
    COPY,
    COURSES,
    LANGUAGE_NOTES,
    LIST_PRICE_STEP,
    MAX_LECTURE_S,
    MIN_LECTURE_S,
    USERS,
    Copy,
    CourseSpec,
    Curriculum,
)
from app.demo.history import seed_history
from app.demo.learning import seed_learning
from app.demo.orders import seed_orders
from app.demo.shop import seed_shop
from app.demo.tutoring import seed_tutoring
from app.demo.videos import DEMO_VIDEOS, queue_demo_videos
from app.extensions import db

DEMO_CLIPS = {slugify(title): (count, seconds) for title, count, seconds in DEMO_VIDEOS}
DEMO_PASSWORD = "demo12345"  # noqa: S105 - documented demo password, refused in production


@dataclass
class SeedSummary:
    """What one run of seed_demo added (or found already there)."""

    users_created: int = 0
    categories: int = 0
    courses_created: int = 0
    courses_skipped: int = 0
    chapters_created: int = 0
    lectures_created: int = 0
    coupons_created: int = 0
    sales_created: int = 0
    videos_queued: int = 0
    learning_seeded: int = 0
    orders_placed: int = 0
    tutoring_courses: int = 0
    history_orders: int = 0  # the demo buyers' 30 days of past orders (seed_history)


def seed_demo() -> SeedSummary:
    """Add whatever demo users, categories and courses are missing; the caller commits."""
    summary = SeedSummary()
    users = _seed_users(summary)
    for cat_index, (slug, name, icon, description) in enumerate(CATEGORIES):
        category = ensure_category(slug, name, description, icon, position=cat_index + 1)
        summary.categories += 1
        for position, spec in enumerate(COURSES[slug]):
            # Interleave categories so the newest courses are not all from one category.
            order = position * len(CATEGORIES) + cat_index
            teacher = users[f"teacher{spec.teacher}@example.com"]
            _seed_course(spec, category, teacher, order, summary)
    db.session.flush()
    summary.coupons_created, summary.sales_created = seed_shop()
    summary.videos_queued = queue_demo_videos()
    summary.learning_seeded = seed_learning()
    summary.orders_placed = seed_orders()
    summary.tutoring_courses = seed_tutoring()
    # Last: the history prices orders with the shop's sales and needs the courses above.
    summary.history_orders = seed_history()
    return summary


def _seed_users(summary: SeedSummary) -> dict[str, User]:
    """Ensure every demo account exists with its role; return them by email."""
    users: dict[str, User] = {}
    for email, name, role in USERS:
        if get_user_by_email(email) is None:
            summary.users_created += 1
        user = ensure_user(email, DEMO_PASSWORD, name, role)
        # Demo addresses receive no mail; treat them as verified so no banner asks for it.
        user.email_verified_at = user.email_verified_at or utcnow()
        users[email] = user
    return users


def _seed_course(
    spec: CourseSpec, category: Category, teacher: User, order: int, summary: SeedSummary
) -> None:
    """Create one course with curriculum and prices, unless its slug is already taken."""
    slug = slugify(spec.title)
    if get_course_by_slug(slug) is not None:
        summary.courses_skipped += 1
        return
    plan = _plan_curriculum(slug, spec.chapters)
    draft = CourseDraft(
        title=spec.title,
        subtitle=spec.subtitle,
        description_md=_describe(spec, plan, order),
        level=spec.level,
        language=spec.language,
        category=category,
        cover_image=f"img/covers/{category.slug}.svg",
        slug=slug,
    )
    course = create_course(teacher, draft)
    course.is_featured = spec.featured
    summary.lectures_created += _add_curriculum(course, plan)
    summary.chapters_created += len(plan)
    _set_prices(course, spec)
    if not spec.draft:
        publish_course(course)
        course.published_at = utcnow() - _age(order)
    summary.courses_created += 1


def _age(order: int) -> timedelta:
    """How long ago the course with this order was published: distinct, within 200 days."""
    return timedelta(days=2 + 5 * order, hours=(7 * order) % 24)


def _plan_curriculum(slug: str, chapters: tuple[str, ...]) -> Curriculum:
    """Chapter and lecture titles with durations drawn from a generator seeded by the slug."""
    rng = random.Random(slug)  # noqa: S311 - deterministic demo data, not security
    # A lecture that gets a demo clip lasts as long as the clip, as it will once processed, so
    # the description's running time is the course's.
    clips, clip_s = DEMO_CLIPS.get(slug, (0, 0))
    plan: Curriculum = []
    for line in chapters:
        title, _, lectures = line.partition(" | ")
        timed = []
        for name in lectures.split("; "):
            drawn = rng.randint(MIN_LECTURE_S, MAX_LECTURE_S)
            timed.append((name, clip_s if clips > 0 else drawn))
            clips -= 1
        plan.append((title, timed))
    return plan


def _add_curriculum(course: Course, plan: Curriculum) -> int:
    """Create the planned chapters and lectures (the first lecture is a preview); count lectures."""
    count = 0
    for title, lectures in plan:
        chapter = add_chapter(course, title)
        for name, duration_s in lectures:
            add_lecture(chapter, name, duration_s, is_preview=count == 0)
            count += 1
    return count


def _set_prices(course: Course, spec: CourseSpec) -> None:
    """Set the spec's USD and INR prices, with a higher list price where it asks for one and
    the access period ACCESS_PERIODS gives it (else access for good)."""
    for currency, amount in (("USD", spec.usd), ("INR", spec.inr)):
        if amount is None:
            continue
        price = Money(amount, currency)
        row = set_price(course, price, _list_price(price) if spec.was and amount > 0 else None)
        period = ACCESS_PERIODS.get(spec.title, {}).get(currency)
        if period is not None:
            row.access_period_value, row.access_period_unit = period.value, period.unit


def _list_price(price: Money) -> Money:
    """A 'was' price about twice the price, with the same ending (19.99 -> 39.99)."""
    step = LIST_PRICE_STEP[price.currency]
    return Money((price.amount + step) * 2 - step, price.currency)


def _is_free(spec: CourseSpec) -> bool:
    """True when every price the course has is zero."""
    return not spec.usd and not spec.inr


def _describe(spec: CourseSpec, plan: Curriculum, variant: int) -> str:
    """Markdown: the hand-written paragraphs, a paragraph of facts, then what you'll learn."""
    copy = COPY["es" if spec.language == "es" else "en"]
    lectures = sum(len(timed) for _, timed in plan)
    seconds = sum(duration for _, timed in plan for _, duration in timed)
    facts = copy.facts[variant % len(copy.facts)].format(
        ch=len(plan),
        lec=lectures,
        dur=_duration_words(seconds, copy),
        lang=LANGUAGE_NOTES.get(spec.language, ""),
    )
    closing = copy.free if _is_free(spec) else copy.preview
    bullets = "\n".join(f"- {item}" for item in spec.learn)
    summary = f"{copy.audience[spec.level]} {facts} {closing}"
    return f"{spec.about}\n\n{summary}\n\n{copy.heading}\n\n{bullets}\n"


def _duration_words(seconds: int, copy: Copy) -> str:
    """A running time in words, to the minute: "2 hours and 5 minutes"."""
    hours, minutes = divmod(round(seconds / 60), 60)
    hour, hours_word, minute, minutes_word = copy.units
    parts = []
    if hours:
        parts.append(f"{hours} {hour if hours == 1 else hours_word}")
    if minutes or not hours:
        parts.append(f"{minutes} {minute if minutes == 1 else minutes_word}")
    return copy.joiner.join(parts)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Add demo users, categories and courses (password demo12345); never in production."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Refusing to add demo data in production.")
    try:
        with committing():
            summary = seed_demo()
    except DomainError as err:
        raise click.ClickException(err.message) from err
    click.echo(
        f"Demo data ready: {summary.users_created} new users, {summary.categories} categories, "
        f"{summary.courses_created} new courses ({summary.courses_skipped} already there), "
        f"{summary.chapters_created} chapters and {summary.lectures_created} lectures added; "
        f"{summary.videos_queued} demo videos queued for the worker; "
        f"{summary.history_orders} past orders of the demo buyers written."
    )
    click.echo(f"Log in as admin@example.com (or any demo account) with password {DEMO_PASSWORD}.")
