"""Course authoring rules: details, prices (or free), publishing and unpublishing.

Chapters and lectures are in curriculum.py, covers in covers.py, attachments in
attachments.py. Nothing here commits; a published course is never deleted or recreated, so
its students' enrollments (and progress) stay attached to the same rows whatever is edited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, exists, select

from app.accounts.models import User
from app.catalog import services as catalog
from app.catalog.models import (
    LANGUAGES,
    Category,
    Chapter,
    Course,
    CourseLevel,
    CoursePrice,
    CourseStatus,
    Lecture,
)
from app.core.errors import DomainError
from app.core.money import Money, currency_exponent
from app.core.periods import UNITS, AccessPeriod
from app.extensions import db
from app.media.models import MediaFile, MediaStatus
from app.teaching.errors import PublishRefused

MAX_PRICE_MINOR = 2_000_000_000  # fits PostgreSQL's INTEGER with room to spare
# The longest access period a price may carry; longer than this is "lifetime" in practice.
MAX_PERIOD_YEARS = 10
PER_YEAR = {"day": 366, "week": 52, "month": 12, "year": 1}


@dataclass(frozen=True)
class CourseDetails:
    """What the details form edits; `category_id` None means uncategorised."""

    title: str
    subtitle: str = ""
    description_md: str = ""
    category_id: int | None = None
    level: CourseLevel = CourseLevel.ALL
    language: str = "en"


@dataclass(frozen=True)
class PriceChoice:
    """Free (0 in every supported currency) or a price per currency; a currency left out is
    not sold in."""

    free: bool = False
    prices: Mapping[str, Money] = field(default_factory=dict)
    # How long buying at a currency's price gives access; a currency left out: for good.
    periods: Mapping[str, AccessPeriod] = field(default_factory=dict)


def parse_price(text: str, currency: str) -> Money | None:
    """A teacher's decimal input ("19.99", "1,299") in major units as minor units; blank is
    None. Refuses negatives and more decimals than the currency has (JPY none)."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    field_name = f"price_{currency.lower()}"
    try:
        value = Decimal(cleaned)
        money = Money.from_decimal(value, currency)
    except (InvalidOperation, ValueError) as exc:
        digits = currency_exponent(currency)
        raise DomainError(
            f"Write the {currency} price as a number with at most {digits} decimals.",
            code="bad_price",
            field=field_name,
        ) from exc
    if money.amount < 0 or money.amount > MAX_PRICE_MINOR:
        raise DomainError("That price is out of range.", code="bad_price", field=field_name)
    return money


def parse_period(text: str, unit: str, currency: str, *, priced: bool) -> AccessPeriod | None:
    """A teacher's access period for a currency's price ("6" and "month"); blank is None
    (lifetime). Refuses anything but a whole number from 1 up to MAX_PERIOD_YEARS years, and
    a period on a currency without a price."""
    cleaned = text.strip()
    if not cleaned:
        return None
    field_name = f"period_{currency.lower()}"
    if not priced:
        raise DomainError(
            f"Set a price in {currency} first, or leave its access period blank.",
            code="period_without_price",
            field=field_name,
        )
    if unit not in UNITS:
        raise DomainError(
            "Choose days, weeks, months or years.",
            code="bad_period",
            field=f"period_unit_{currency.lower()}",
        )
    longest = MAX_PERIOD_YEARS * PER_YEAR[unit]
    if not (cleaned.isascii() and cleaned.isdigit()) or not 1 <= int(cleaned) <= longest:
        raise DomainError(
            f"Write the access period as a whole number of {unit}s from 1 to {longest}, "
            "or leave it blank for lifetime access.",
            code="bad_period",
            field=field_name,
        )
    return AccessPeriod(int(cleaned), unit)


def _check_details(details: CourseDetails) -> None:
    if not details.title.strip():
        raise DomainError("A course needs a title.", code="title_required", field="title")
    if details.language not in LANGUAGES:
        raise DomainError("Choose a language from the list.", code="bad_language", field="language")
    if details.category_id is not None and db.session.get(Category, details.category_id) is None:
        raise DomainError("Choose a category from the list.", code="bad_category", field="category")


def create_course(teacher: User, details: CourseDetails) -> Course:
    """A new draft course owned by the teacher, with a slug no other course has."""
    _check_details(details)
    category = db.session.get(Category, details.category_id) if details.category_id else None
    draft = catalog.CourseDraft(
        title=details.title,
        subtitle=details.subtitle,
        description_md=details.description_md,
        level=details.level,
        language=details.language,
        category=category,
    )
    return catalog.create_course(teacher, draft)


def update_course(course: Course, details: CourseDetails) -> Course:
    """Edit the details. The slug stays (links and bookmarks keep working); a published course
    must still meet the publishing rules afterwards."""
    _check_details(details)
    course.title = details.title.strip()
    course.subtitle = details.subtitle.strip()
    course.category_id = details.category_id
    course.level, course.language = details.level, details.language
    if details.description_md != course.description_md:
        catalog.set_description(course, details.description_md)
    db.session.flush()
    keep_publishable(course)
    return course


def set_prices(course: Course, choice: PriceChoice, currencies: Sequence[str]) -> None:
    """Replace the course's prices: 0 in every supported currency when free (access for
    good), else exactly the currencies given, each with its access period (a list price is
    kept while it is still above the new price). Orders placed before keep the period they
    were sold with (frozen on their lines)."""
    wanted = {c: Money.zero(c) for c in currencies} if choice.free else dict(choice.prices)
    unknown = set(wanted) - set(currencies)
    if unknown:
        raise DomainError(f"{', '.join(sorted(unknown))} is not a currency we sell in.")
    if not choice.free and any(m.is_zero for m in wanted.values()):
        raise DomainError(
            "A price of 0 makes the course free: tick “Free course” instead.", code="zero_price"
        )
    rows = {
        p.currency: p
        for p in db.session.scalars(select(CoursePrice).where(CoursePrice.course_id == course.id))
    }
    for currency, price in wanted.items():
        row = rows.get(currency)
        keep = (
            row.list_amount_minor if row and (row.list_amount_minor or 0) > price.amount else None
        )
        saved = catalog.set_price(course, price, Money(keep, currency) if keep else None)
        period = None if choice.free else choice.periods.get(currency)
        saved.access_period_value = period.value if period else None
        saved.access_period_unit = period.unit if period else None
    gone = set(rows) - set(wanted)
    if gone:
        db.session.execute(
            delete(CoursePrice).where(
                CoursePrice.course_id == course.id, CoursePrice.currency.in_(gone)
            )
        )
    db.session.expire(course, ["prices"])
    db.session.flush()
    keep_publishable(course)


def has_ready_lecture(course_id: int) -> bool:
    """At least one lecture whose current video is ready to play."""
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(Chapter.course_id == course_id)
                .where(Lecture.chapter_id == Chapter.id)
                .where(MediaFile.id == Lecture.media_file_id)
                .where(MediaFile.status == MediaStatus.READY)
            )
        )
    )


def _has_price(course_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(CoursePrice.course_id == course_id))))


def publish_problems(course: Course, *, needs_video: bool = True) -> list[str]:
    """Everything that stops the course being published, in the order the page shows it."""
    problems = []
    if not course.title.strip():
        problems.append("Give the course a title.")
    if not course.description_md.strip():
        problems.append("Write a description.")
    if not _has_price(course.id):
        problems.append("Set a price in at least one currency, or make the course free.")
    if needs_video and not has_ready_lecture(course.id):
        problems.append("Add at least one lecture whose video has finished processing.")
    return problems


def keep_publishable(course: Course) -> None:
    """An edit of a published course that would break the publishing rules is refused (the
    teacher unpublishes first); a draft may be incomplete."""
    if course.status is not CourseStatus.PUBLISHED:
        return
    problems = publish_problems(course)
    if problems:
        raise PublishRefused(problems, "A published course must stay complete: " + problems[0])


def publish_course(course: Course) -> Course:
    """Publish, or refuse with every reason it cannot be published yet."""
    problems = publish_problems(course)
    if problems:
        raise PublishRefused(problems)
    return catalog.publish_course(course)


def unpublish_course(course: Course, status: CourseStatus = CourseStatus.DRAFT) -> Course:
    """Take the course out of the catalog (back to draft, or archived). Enrollments are not
    touched: students keep their access and progress, and nobody new can buy it."""
    if status is CourseStatus.PUBLISHED:
        raise DomainError("Use publish to publish.", code="bad_status")
    course.status = status
    db.session.flush()
    return course


def publish_at_creation(course: Course) -> Course:
    """Publish a course as it is created through the API with `"status": "published"` (seed
    000's purchase flow sells it before any lecture exists): it needs a title and a price;
    the description and a ready video, which `publish_course` asks for, are not required yet.
    The later edits of such a course follow `keep_publishable` as every published course's do."""
    problems = []
    if not course.title.strip():
        problems.append("Give the course a title.")
    if not _has_price(course.id):
        problems.append("Set a price in at least one currency, or make the course free.")
    if problems:
        raise PublishRefused(problems)
    return catalog.publish_course(course)
