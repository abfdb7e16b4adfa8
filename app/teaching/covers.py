"""Course cover images: checked by their content (Pillow), resized to the sizes the catalog
shows, stored as WebP under a random prefix, and one URL helper for every template.

`courses.cover_image` holds either a static path ("img/covers/x.svg", the demo covers) or
the prefix of an uploaded cover ("covers/<hex>"), under which `<width>.webp` exists for each
of COVER_SIZES. Covers are public: they are served by a public route with a long cache
lifetime (a new upload gets a new random prefix, so a URL never changes meaning).
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from typing import TYPE_CHECKING, BinaryIO, Protocol

from flask import url_for

from app.catalog.models import Course
from app.core.errors import DomainError
from app.jobs.queues import QueueName, enqueue_after_commit
from app.media.processing import CLEANUP_JOB
from app.media.storage import Storage

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

MAX_COVER_BYTES = 10 * 1024 * 1024
# Refused before decoding: a small file claiming a huge canvas is a decompression bomb.
MAX_COVER_PIXELS = 40_000_000
MIN_SIZE = (320, 180)
# Cards 320x180 (640x360 at 2x), the course page 640x360 (1280x720 at 2x); all 16:9.
COVER_SIZES = (320, 640, 1280)
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
PREFIX = "covers/"
DEFAULT_COVER = "img/covers/default.svg"
COVER_KEY = re.compile(r"^covers/[0-9a-f]{32}/(320|640|1280)\.webp$")
CONTENT_TYPE = "image/webp"


class HasCover(Protocol):
    @property
    def cover_image(self) -> str | None: ...


class CoverRefused(DomainError):
    code = "cover_refused"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message, field="cover")


def is_uploaded(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def cover_url(item: HasCover, width: int) -> str:
    """The URL of the cover at least `width` px wide (a demo static cover has one size)."""
    value = item.cover_image
    if not is_uploaded(value):
        return url_for("static", filename=value or DEFAULT_COVER)
    size = next((s for s in COVER_SIZES if s >= width), COVER_SIZES[-1])
    return url_for("teaching.cover_file", key=f"{value}/{size}.webp")


def read_limited(stream: BinaryIO, limit: int = MAX_COVER_BYTES) -> bytes:
    """The upload's bytes, refusing more than the limit without reading further."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise CoverRefused(f"The image is larger than {limit // (1024 * 1024)} MB.")
    return data


def _open(data: bytes) -> PILImage:
    from PIL import Image  # only cover uploads need Pillow

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            if probe.format not in FORMATS:
                raise CoverRefused("Upload a JPEG, PNG, WebP or GIF image.")
            width, height = probe.size
            if width * height > MAX_COVER_PIXELS:
                raise CoverRefused("The image has too many pixels (40 megapixels at most).")
            probe.verify()  # a truncated or corrupt file fails here
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise CoverRefused("The image has too many pixels (40 megapixels at most).") from exc
        except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises for non-images
            raise CoverRefused("That file is not an image we can read.") from exc
    return image


def render_covers(data: bytes) -> dict[int, bytes]:
    """WebP renditions, 16:9, cropped around the centre, for each of COVER_SIZES."""
    from PIL import Image, ImageOps

    image = _open(data)
    if image.width < MIN_SIZE[0] or image.height < MIN_SIZE[1]:
        raise CoverRefused(f"The image must be at least {MIN_SIZE[0]}x{MIN_SIZE[1]} pixels.")
    image = ImageOps.exif_transpose(image).convert("RGB")
    out = {}
    for width in COVER_SIZES:
        resized = ImageOps.fit(image, (width, width * 9 // 16), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "WEBP", quality=82, method=4)
        out[width] = buffer.getvalue()
    return out


def set_cover(course: Course, data: bytes, storage: Storage) -> str:
    """Validate, resize and store the image and point the course at it (returns its prefix);
    the previous uploaded cover is deleted once this is committed."""
    renditions = render_covers(data)
    prefix = f"{PREFIX}{uuid.uuid4().hex}"
    for width, blob in renditions.items():
        storage.put_bytes(f"{prefix}/{width}.webp", blob, CONTENT_TYPE)
    old = course.cover_image
    course.cover_image = prefix
    if old and is_uploaded(old):
        enqueue_after_commit(CLEANUP_JOB, f"{old}/", queue=QueueName.LOW)
    return prefix
