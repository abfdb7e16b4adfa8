"""Request and response models of the course-content endpoints (app/api/course_views.py).

Field names are seed 000's (camelCase); ids are integers, and a numeric string is accepted
where the seed's curl quotes one (`"courseId":"$COURSE_ID"`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import Field

from app.api.spec import Body, Reply
from app.teaching.services import MAX_PRICE_MINOR

MAX_ID = 2**31 - 1
Level = Literal["beginner", "intermediate", "advanced", "all"]


# -- requests ---------------------------------------------------------------------------------
class CourseListQuery(Body):
    q: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=80)  # a category's slug
    level: Level | Literal[""] = ""
    language: str = Field(default="", max_length=8)
    currency: str = Field(default="", pattern=r"^([A-Z]{3})?$")  # the prices shown first
    page: int = Field(default=1, ge=1, le=10_000)
    perPage: int = Field(default=20, ge=1, le=100)


class CourseFields(Body):
    """What a teacher sets on a course. `price` is in major units (99.99), read exactly from
    the JSON text; `priceMinor` in minor units (9999); 0 makes the course free."""

    subtitle: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)  # Markdown
    price: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    priceMinor: int | None = Field(default=None, ge=0, le=MAX_PRICE_MINOR)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    level: Level | None = None
    language: str | None = Field(default=None, max_length=8)
    categoryId: int | None = Field(default=None, ge=1, le=MAX_ID)


class CreateCourse(CourseFields):
    title: str = Field(min_length=1, max_length=200)
    status: Literal["draft", "published"] = "draft"


class UpdateCourse(CourseFields):
    title: str | None = Field(default=None, min_length=1, max_length=200)


class CreateChapter(Body):
    title: str = Field(min_length=1, max_length=200)


class CreateLecture(Body):
    courseId: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=200)
    chapterId: int | None = Field(default=None, ge=1, le=MAX_ID)
    description: str = Field(default="", max_length=20_000)
    isPreview: bool = False


class StartUpload(Body):
    fileName: str = Field(min_length=1, max_length=1000)
    fileSize: int = Field(ge=1, le=2**62)  # the most bytes the PUT may carry
    contentType: str = Field(default="", max_length=100)


class ConfirmUpload(Body):
    fileId: uuid.UUID


class PutQuery(Body):
    max: int = Field(ge=1)
    exp: str = Field(max_length=20)
    sig: str = Field(max_length=128)


class PlaylistQuery(Body):
    u: int = Field(ge=0, le=MAX_ID)  # the viewer the URL was made for (0: anyone, a preview)
    exp: str = Field(max_length=20)
    sig: str = Field(max_length=128)


# -- responses --------------------------------------------------------------------------------
class PriceReply(Reply):
    currency: str
    amountMinor: int
    amount: float


class LectureRef(Reply):
    id: int
    title: str
    position: int
    isPreview: bool
    duration: int
    hasVideo: bool


class ChapterReply(Reply):
    id: int
    title: str
    position: int
    lectures: list[LectureRef]


class CourseReply(Reply):
    id: int
    slug: str
    title: str
    subtitle: str
    description: str
    status: str
    level: str
    language: str
    teacherId: int
    categoryId: int | None
    price: float | None
    priceMinor: int | None
    currency: str | None
    prices: list[PriceReply]
    lectureCount: int
    duration: int
    publishedAt: str | None
    url: str


class CourseDetailReply(CourseReply):
    chapters: list[ChapterReply]


class CourseCardReply(Reply):
    id: int
    slug: str
    title: str
    level: str
    language: str
    teacherName: str
    categoryName: str | None
    lectureCount: int
    duration: int
    price: float | None
    priceMinor: int | None
    currency: str | None
    prices: list[PriceReply]


class CourseListReply(Reply):
    courses: list[CourseCardReply]
    page: int
    perPage: int
    total: int
    pages: int


class ChapterCreated(Reply):
    id: int
    courseId: int
    title: str
    position: int


class LectureReply(Reply):
    id: int
    courseId: int
    chapterId: int
    title: str
    description: str
    position: int
    isPreview: bool
    duration: int
    status: str
    videoUrl: str | None
    thumbnailUrl: str | None


class UploadReply(Reply):
    fileId: str
    uploadUrl: str
    expiresAt: str
    method: str
    maxSize: int


class ConfirmReply(Reply):
    fileId: str
    status: str
    progress: int
    error: str | None


class StatusReply(Reply):
    status: Literal["processing", "completed", "failed", "waiting"]
    progress: int
    mediaStatus: str
    fileId: str | None
    error: str | None
    duration: int | None
