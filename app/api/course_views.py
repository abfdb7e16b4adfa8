"""Courses, chapters and lectures for apps (issue 14, seed 000 flows 2 and 3): browse, author,
upload, watch.

    GET   /api/v1/courses                         public catalog: q, category, level, page, perPage
    GET   /api/v1/courses/<id>                    published: anyone; drafts: their teacher, admins
    POST  /api/v1/courses                         teacher {title, price | priceMinor, status, ...}
    PATCH /api/v1/courses/<id>                    its teacher (or an admin)
    POST  /api/v1/courses/<id>/publish            the page's publishing rules
    POST  /api/v1/courses/<id>/chapters           {title}
    POST  /api/v1/lectures                        {courseId, title, chapterId?}
    POST  /api/v1/lectures/<id>/upload            {fileName, fileSize, contentType} → uploadUrl
    POST  /api/v1/lectures/<id>/confirm-upload    {fileId}: transcoding queued after commit
    GET   /api/v1/lectures/<id>/status            {status, progress}
    GET   /api/v1/lectures/<id>                   with videoUrl / thumbnailUrl / duration

Seed 000 sends the whole video in ONE `PUT "$UPLOAD_URL"` and declares a size (10 MiB) that is
not its file's: an upload here is a one-part upload whose declared size is the most it may
hold, and confirming records what arrived (app/media/uploads.py, whole-file uploads). On S3 the
URL is presigned; with local storage it is this module's signed receiver, `PUT /uploads/...`,
which streams the body into the part (the signature is the credential, as for the studio's).

`videoUrl` is a signed playlist URL of this API (the viewer and an expiry are signed): players
cannot send a bearer token with every playlist fetch, and S3 refuses one on segment URLs. Each
fetch checks access again, so an enrollment that ends stops playback within the signed URLs'
lifetime. Another teacher's course or lecture answers 403, an unknown id 404.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, request, url_for
from flask.wrappers import Response
from sqlalchemy import select

from app.accounts.models import Role, User
from app.api import bp
from app.api.auth import rate_key
from app.api.course_schemas import (
    ChapterCreated,
    CourseDetailReply,
    CourseFields,
    CourseListQuery,
    CourseListReply,
    CourseReply,
    CreateChapter,
    CreateCourse,
    UpdateCourse,
)
from app.api.spec import ok
from app.api.spec import operation as op
from app.catalog.curriculum import list_curriculum
from app.catalog.models import Chapter, Course, CourseLevel, CoursePrice, CourseStatus, Lecture
from app.catalog.queries import CourseCard, can_view
from app.catalog.search import CourseSearch, search_courses
from app.core.errors import DomainError, NotFound, PermissionDenied
from app.core.models import utcnow
from app.core.money import Money
from app.core.periods import AccessPeriod
from app.core.unit import committing
from app.extensions import db, limiter
from app.learning.playback import (
    get_lecture_media,
)
from app.media.models import MediaStatus
from app.teaching import curriculum, services
from app.teaching.errors import PublishRefused

COURSES, LECTURES = "courses", "lectures"
TEACHERS = (Role.TEACHER,)  # admins pass every role check
SEED = "/api/course"  # seed 000's course-service prefix (app/api/aliases.py adds it)
FIRST_CHAPTER = "Chapter 1"
NO_STORE = "private, no-store"  # answers carrying signed URLs
# The seed's status words for our media states.
STATUS_WORDS = {
    MediaStatus.UPLOADING: "waiting",
    MediaStatus.UPLOADED: "processing",
    MediaStatus.PROCESSING: "processing",
    MediaStatus.READY: "completed",
    MediaStatus.FAILED: "failed",
    MediaStatus.ABORTED: "waiting",
}


class CourseNotPublishable(DomainError):
    """Every reason the course cannot be published (yet), for the client to show at once."""

    code = "PUBLISH_REFUSED"
    status = 422

    def __init__(self, refused: PublishRefused) -> None:
        super().__init__(refused.message)
        self.reasons = refused.reasons

    def details(self) -> dict[str, object]:
        return {"reasons": self.reasons}


class LoginRequired(DomainError):
    """A lecture that only enrolled students may watch, asked for without a token."""

    code = "AUTH_001"
    status = 401


# -- helpers ----------------------------------------------------------------------------------
def _absolute(url: str | None) -> str | None:
    """Storage and app URLs are root-relative without PUBLIC_URL: clients need the host."""
    if url is None or not url.startswith("/"):
        return url
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    return f"{base}{url}"


def _iso_in(seconds: int) -> str:
    return (utcnow() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _exact_number(name: str) -> Decimal | None:
    """The body's field as the JSON text wrote it (99.99 stays 99.99, never a float)."""
    raw = json.loads(request.get_data(cache=True) or b"{}", parse_float=Decimal)
    value = raw.get(name) if isinstance(raw, dict) else None
    if value is None:
        return None
    try:
        return Decimal(str(value))  # an int, a Decimal, or a numeric string
    except InvalidOperation:
        raise DomainError(
            f"{name} must be a number.", code="VALIDATION_ERROR", field=name
        ) from None


def _price(body: CourseFields) -> Money | None:
    """The price the body sets (None: unchanged); refused beyond the currency's decimals."""
    if body.currency not in current_app.config["SUPPORTED_CURRENCIES"]:
        raise DomainError(f"{body.currency} is not a currency we sell in.", field="currency")
    if body.price is not None and body.priceMinor is not None:
        raise DomainError("Send price or priceMinor, not both.", field="price")
    if body.priceMinor is not None:
        return Money(body.priceMinor, body.currency)
    exact = _exact_number("price") if body.price is not None else None
    if exact is None:
        return None
    try:
        return services.parse_price(str(exact), body.currency)
    except DomainError as err:
        raise DomainError(err.message, code=err.code, field="price") from None


def _set_price(course: Course, price: Money) -> None:
    """Set one currency's price, keeping the others (and their access periods); 0 is free."""
    currencies = current_app.config["SUPPORTED_CURRENCIES"]
    if price.is_zero:
        services.set_prices(course, services.PriceChoice(free=True), currencies)
        return
    rows = db.session.scalars(select(CoursePrice).where(CoursePrice.course_id == course.id))
    kept = {r.currency: r for r in rows if r.amount_minor > 0 and r.currency != price.currency}
    prices = {c: Money(r.amount_minor, c) for c, r in kept.items()}
    periods = {
        c: AccessPeriod(r.access_period_value, r.access_period_unit)
        for c, r in kept.items()
        if r.access_period_value and r.access_period_unit
    }
    choice = services.PriceChoice(prices={**prices, price.currency: price}, periods=periods)
    services.set_prices(course, choice, currencies)


def _details(course: Course | None, body: CourseFields, title: str | None) -> Any:
    """The course's details with the body's changes (None fields keep their value)."""
    keep = course or Course(title="", subtitle="", description_md="", language="en")
    return services.CourseDetails(
        title=title if title is not None else keep.title,
        subtitle=body.subtitle if body.subtitle is not None else keep.subtitle,
        description_md=body.description if body.description is not None else keep.description_md,
        category_id=body.categoryId
        if body.categoryId is not None
        else (course.category_id if course else None),
        level=CourseLevel(body.level) if body.level else (keep.level or CourseLevel.ALL),
        language=body.language if body.language is not None else keep.language,
    )


def _own_course(user: User, course_id: int, *, lock: bool = False) -> Course:
    """The course for its teacher or an admin: 404 when there is none, 403 for anyone else."""
    statement = select(Course).where(Course.id == course_id)
    course = db.session.scalars(statement.with_for_update() if lock else statement).first()
    if course is None:
        raise NotFound("No course with this id.", code="COURSE_NOT_FOUND")
    if not user.is_admin and course.teacher_id != user.id:
        raise PermissionDenied("This course is another teacher's.", code="FORBIDDEN")
    return course


def _own_lecture(user: User, lecture_id: int) -> tuple[Lecture, Course]:
    found = get_lecture_media(lecture_id)
    if found is None:
        raise NotFound("No lecture with this id.", code="LECTURE_NOT_FOUND")
    if not user.is_admin and found.course.teacher_id != user.id:
        raise PermissionDenied("This lecture is in another teacher's course.", code="FORBIDDEN")
    return found.lecture, found.course


def _prices(course_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(CoursePrice).where(CoursePrice.course_id == course_id).order_by(CoursePrice.currency)
    )
    return [_money(Money(r.amount_minor, r.currency)) for r in rows]


def _money(money: Money) -> dict[str, Any]:
    return {
        "currency": money.currency,
        "amountMinor": money.amount,
        "amount": float(money.to_decimal()),
    }


def _headline(prices: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """The seed's single `price` (in the asked or default currency, else the first one)."""
    wanted = currency or current_app.config["DEFAULT_CURRENCY"]
    first = next((p for p in prices if p["currency"] == wanted), prices[0] if prices else None)
    if first is None:
        return {"price": None, "priceMinor": None, "currency": None}
    return {
        "price": first["amount"],
        "priceMinor": first["amountMinor"],
        "currency": first["currency"],
    }


def course_json(course: Course, currency: str = "") -> dict[str, Any]:
    prices = _prices(course.id)
    return {
        "id": course.id,
        "slug": course.slug,
        "title": course.title,
        "subtitle": course.subtitle,
        "description": course.description_md,
        "status": course.status.value,
        "level": course.level.value,
        "language": course.language,
        "teacherId": course.teacher_id,
        "categoryId": course.category_id,
        **_headline(prices, currency),
        "prices": prices,
        "lectureCount": course.lecture_count,
        "duration": course.duration_s,
        "publishedAt": course.published_at.isoformat() if course.published_at else None,
        "url": url_for("catalog.course_detail", slug=course.slug, _external=True),
    }


def _card_json(card: CourseCard, currency: str) -> dict[str, Any]:
    prices = [_money(Money(p.amount_minor, p.currency)) for p in card.prices]
    return {
        "id": card.id,
        "slug": card.slug,
        "title": card.title,
        "level": card.level.value,
        "language": card.language,
        "teacherName": card.teacher_name,
        "categoryName": card.category_name,
        "lectureCount": card.lecture_count,
        "duration": card.duration_s,
        **_headline(prices, currency),
        "prices": prices,
    }


def _chapters_json(course_id: int) -> list[dict[str, Any]]:
    chapter_ids = db.session.scalars(
        select(Chapter.id).where(Chapter.course_id == course_id).order_by(Chapter.position)
    ).all()
    views = list_curriculum(course_id)
    return [
        {
            "id": chapter_id,
            "title": view.title,
            "position": view.position,
            "lectures": [
                {
                    "id": lecture.id,
                    "title": lecture.title,
                    "position": n,
                    "isPreview": lecture.is_preview,
                    "duration": lecture.duration_s,
                    "hasVideo": lecture.has_video,
                }
                for n, lecture in enumerate(view.lectures, start=1)
            ],
        }
        for chapter_id, view in zip(chapter_ids, views, strict=True)
    ]


# -- courses ----------------------------------------------------------------------------------
@op(bp, "GET", "/courses", summary="Search the catalog", tag=COURSES, auth="none",
    query=CourseListQuery, response=CourseListReply, errors=(422,),
    decorators=(limiter.limit("120 per minute", override_defaults=False),))  # fmt: skip
def api_list_courses(query: CourseListQuery) -> Response:
    search = CourseSearch(
        q=query.q, category=query.category, level=query.level, language=query.language,
        page=query.page,
    )  # fmt: skip
    currency = query.currency or current_app.config["DEFAULT_CURRENCY"]
    found = search_courses(search, currency, query.perPage)
    return ok(
        {
            "courses": [_card_json(card, query.currency) for card in found.items],
            "page": found.page,
            "perPage": found.per_page,
            "total": found.total,
            "pages": found.pages,
        }
    )


@op(bp, "GET", "/courses/<int:course_id>", summary="A course with its curriculum", tag=COURSES,
    auth="optional", response=CourseDetailReply, errors=(404,))  # fmt: skip
def api_get_course(user: User | None, course_id: int) -> Response:
    course = db.session.get(Course, course_id)
    if course is None or not can_view(course, user):
        raise NotFound("No course with this id.", code="COURSE_NOT_FOUND")
    return ok({**course_json(course), "chapters": _chapters_json(course.id)})


@op(bp, "POST", "/courses", summary="Create a course", tag=COURSES, roles=TEACHERS,
    body=CreateCourse, response=CourseReply, status=201, errors=(401, 403, 422),
    decorators=(
        limiter.limit("30 per minute", key_func=rate_key, override_defaults=False),
    ))  # fmt: skip
def api_create_course(user: User, body: CreateCourse) -> Response:
    price = _price(body)
    with committing():
        course = services.create_course(user, _details(None, body, body.title))
        if price is not None:
            _set_price(course, price)
        if body.status == "published":
            try:
                services.publish_at_creation(course)
            except PublishRefused as refused:
                raise CourseNotPublishable(refused) from None
        course_id = course.id
    return ok(course_json(_own_course(user, course_id)), 201)


@op(bp, "PATCH", "/courses/<int:course_id>", summary="Edit a course", tag=COURSES,
    roles=TEACHERS, body=UpdateCourse, response=CourseReply,
    errors=(401, 403, 404, 422))  # fmt: skip
def api_update_course(user: User, course_id: int, body: UpdateCourse) -> Response:
    price = _price(body)
    with committing():
        course = _own_course(user, course_id, lock=True)
        try:
            services.update_course(course, _details(course, body, body.title))
            if price is not None:
                _set_price(course, price)
        except PublishRefused as refused:
            raise CourseNotPublishable(refused) from None
    return ok(course_json(_own_course(user, course_id)))


@op(bp, "POST", "/courses/<int:course_id>/publish", summary="Publish a course", tag=COURSES,
    roles=TEACHERS, response=CourseReply, errors=(401, 403, 404, 422))  # fmt: skip
def api_publish_course(user: User, course_id: int) -> Response:
    with committing():
        course = _own_course(user, course_id, lock=True)
        if course.status is not CourseStatus.PUBLISHED:
            try:
                services.publish_course(course)
            except PublishRefused as refused:
                raise CourseNotPublishable(refused) from None
    return ok(course_json(_own_course(user, course_id)))


# -- chapters and lectures --------------------------------------------------------------------
@op(bp, "POST", "/courses/<int:course_id>/chapters", summary="Add a chapter", tag=LECTURES,
    roles=TEACHERS, body=CreateChapter, response=ChapterCreated, status=201,
    errors=(401, 403, 404, 422))  # fmt: skip
def api_create_chapter(user: User, course_id: int, body: CreateChapter) -> Response:
    with committing():
        course = _own_course(user, course_id, lock=True)
        chapter = curriculum.add_chapter(course, body.title)
        answer = {
            "id": chapter.id,
            "courseId": course.id,
            "title": chapter.title,
            "position": chapter.position,
        }
    return ok(answer, 201)
