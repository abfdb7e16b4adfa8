"""Catalog tables: categories, courses with per-currency prices, chapters and lectures."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core import shared_cache
from app.core.models import TimestampMixin, str_enum
from app.core.periods import AccessPeriod
from app.extensions import db


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class CourseLevel(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"
    ALL = "all"

    @property
    def label(self) -> str:
        return "All levels" if self is CourseLevel.ALL else self.value.capitalize()


class CourseKind(StrEnum):
    VIDEO = "video"
    TUTORING = "tutoring"


LANGUAGES = {"en": "English", "hi": "Hindi", "es": "Spanish", "fr": "French", "de": "German"}


# An IMMUTABLE wrapper of unaccent() (or a translate() fallback) defined by migration
# c7a1e5d00003; search_query() folds the query with the same function.
UNACCENT_FUNCTION = "public.cf_unaccent"


def _weighted(column: str, weight: str) -> str:
    # english gives stemmed lexemes, simple keeps whole words so prefixes like "programm" match
    text = f"{UNACCENT_FUNCTION}(coalesce({column}, ''))"
    return (
        f"setweight(to_tsvector('english'::regconfig, {text}) || "
        f"to_tsvector('simple'::regconfig, {text}), '{weight}')"
    )


# What a search matches: lexemes only (strip() drops positions and weights, a third of the
# size). The GIN index finds the matches and an exact bitmap never reads it again.
SEARCH_VECTOR_SQL = (
    "strip("
    + " || ".join(
        [_weighted("title", "A"), _weighted("subtitle", "B"), _weighted("description_md", "C")]
    )
    + ")"
)
# What relevance is ranked on: title (A) and subtitle (B), a few hundred bytes.
TITLE_VECTOR_SQL = " || ".join([_weighted("title", "A"), _weighted("subtitle", "B")])


class Category(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    icon: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class Course(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    subtitle: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    description_md: Mapped[str] = mapped_column(Text, default="", nullable=False)
    description_html: Mapped[str] = mapped_column(Text, default="", nullable=False)
    level: Mapped[CourseLevel] = mapped_column(
        str_enum(CourseLevel, "course_level"), default=CourseLevel.ALL
    )
    language: Mapped[str] = mapped_column(String(8), default="en", nullable=False)
    status: Mapped[CourseStatus] = mapped_column(
        str_enum(CourseStatus, "course_status"), default=CourseStatus.DRAFT, index=True
    )
    kind: Mapped[CourseKind] = mapped_column(
        str_enum(CourseKind, "course_kind"), default=CourseKind.VIDEO
    )
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    cover_image: Mapped[str | None] = mapped_column(String(255))
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Kept by triggers on chapters and lectures (migration c7a1e5d00005), whatever writes them;
    # a card shows them without touching the curriculum.
    lecture_count: Mapped[int] = mapped_column(
        Integer, server_default="0", nullable=False, default=0
    )
    duration_s: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False, default=0)
    # A new number from one sequence, set by the database when the course is inserted and by
    # the same triggers on every change to its chapters or lectures (migration c7a1e5d00007):
    # with the id, the key of the course page's in-memory curriculum (catalog.queries).
    curriculum_version: Mapped[int] = mapped_column(
        BigInteger, server_default=text("nextval('course_curriculum_versions')"), nullable=False
    )

    teacher: Mapped[User] = relationship(lazy="raise")
    category: Mapped[Category | None] = relationship(lazy="raise")
    prices: Mapped[list[CoursePrice]] = relationship(
        back_populates="course", cascade="all, delete-orphan", lazy="raise"
    )
    chapters: Mapped[list[Chapter]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        order_by="Chapter.position",
        lazy="raise",
    )

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def language_name(self) -> str:
        return LANGUAGES.get(self.language, self.language)

    def price_in(self, currency: str) -> CoursePrice | None:
        return next((p for p in self.prices if p.currency == currency), None)

    @property
    def is_free(self) -> bool:
        return bool(self.prices) and all(p.amount_minor == 0 for p in self.prices)


# The catalog's default order, newest first, over published courses only.
Index(
    "ix_courses_published_listing",
    Course.published_at.desc(),
    Course.id,
    postgresql_where=Course.status == CourseStatus.PUBLISHED,
)


class CoursePrice(db.Model):  # type: ignore[name-defined,misc]
    """A course price in one currency, in minor units; list_amount is a higher "was" price."""

    __tablename__ = "course_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), nullable=False
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    list_amount_minor: Mapped[int | None] = mapped_column(Integer)
    # Seed 002's product `period` ({"value": 3, "unit": "month"}): buying this price gives
    # access for that long from the payment (None: for good). Both set or neither.
    access_period_value: Mapped[int | None] = mapped_column(Integer)
    access_period_unit: Mapped[str | None] = mapped_column(String(5))

    course: Mapped[Course] = relationship(back_populates="prices", lazy="raise")

    @property
    def access_period(self) -> AccessPeriod | None:
        """How long buying at this price gives access (None: for good)."""
        return AccessPeriod.of(self.access_period_value, self.access_period_unit)

    __table_args__ = (
        UniqueConstraint("course_id", "currency"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint(
            "list_amount_minor IS NULL OR list_amount_minor >= amount_minor",
            name="list_not_below_amount",
        ),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint(
            "(access_period_value IS NULL AND access_period_unit IS NULL) OR "
            "(access_period_value > 0 AND access_period_unit IN ('day', 'week', 'month', 'year'))",
            name="access_period_whole",
        ),
    )


class Chapter(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)

    course: Mapped[Course] = relationship(back_populates="chapters", lazy="raise")
    lectures: Mapped[list[Lecture]] = relationship(
        back_populates="chapter",
        cascade="all, delete-orphan",
        order_by="Lecture.position",
        lazy="raise",
    )

    @property
    def duration_s(self) -> int:
        return sum(lecture.duration_s for lecture in self.lectures)


class Lecture(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "lectures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chapter_id: Mapped[int] = mapped_column(
        ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    is_preview: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    duration_s: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Markdown and its sanitised HTML, written together by the studio (migration e20b1c0d0001).
    description_md: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)
    description_html: Mapped[str] = mapped_column(
        Text, default="", server_default="", nullable=False
    )
    # The video that plays (app/media). use_alter: media_files refers back to lectures.
    media_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_files.id", ondelete="SET NULL", use_alter=True), index=True
    )

    chapter: Mapped[Chapter] = relationship(back_populates="lectures", lazy="raise")

    __table_args__ = (CheckConstraint("duration_s >= 0", name="duration_not_negative"),)


# Writes to these end the catalog's cached lists and counts (app/catalog/shared.py).
shared_cache.watch("catalog", Course, CoursePrice, Category)


class CourseSearchRow(db.Model):  # type: ignore[name-defined,misc]
    """A published course as a text search reads it: only what matching, filtering and ranking
    need, about half a course row. Written only by the trigger on courses (migration
    c7a1e5d00006), which computes the vectors with SEARCH_VECTOR_SQL and TITLE_VECTOR_SQL; a
    course that is not published has no row. Every match of a common word is visited (22,000
    for "python" at 100,000 courses), so the fewer pages they sit on, the faster the search."""

    __tablename__ = "course_search"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    category_id: Mapped[int | None] = mapped_column(Integer, index=True)
    level: Mapped[str] = mapped_column(String(24), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    title_vector: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    search_vector: Mapped[str] = mapped_column(TSVECTOR, nullable=False)

    __table_args__ = (
        Index("ix_course_search_search_vector", "search_vector", postgresql_using="gin"),
    )


class CourseViewDay(db.Model):  # type: ignore[name-defined,misc]
    """How often a course page was opened on a day (UTC): the top of the console's funnel.
    Page views count in Redis and a job adds them here, so a page view writes no row."""

    __tablename__ = "course_view_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    views: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    __table_args__ = (CheckConstraint("views >= 0", name="views_not_negative"),)
