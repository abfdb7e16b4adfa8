"""HLS playlists as text: parse master and media playlists, rewrite every URI through a callback.

Pure string functions. Rewriting keeps every tag and line as it was and changes only URIs:
variant lines in a master, segment lines in a media playlist, and the URI="..." attribute of the
tags that carry one (EXT-X-MAP, EXT-X-KEY, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, ...).
Absolute URIs (with a scheme, e.g. https: or skd:) are left alone: they do not point at our
storage, so there is nothing for us to sign.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

Signer = Callable[[str], str]

# Tags whose URI attribute names another resource (RFC 8216 and its LL-HLS additions).
URI_TAGS = (
    "#EXT-X-MAP:",
    "#EXT-X-KEY:",
    "#EXT-X-SESSION-KEY:",
    "#EXT-X-MEDIA:",
    "#EXT-X-I-FRAME-STREAM-INF:",
    "#EXT-X-PART:",
    "#EXT-X-PRELOAD-HINT:",
    "#EXT-X-RENDITION-REPORT:",
    "#EXT-X-SESSION-DATA:",
)
_URI_ATTR = re.compile(r'(?<![A-Z0-9-])URI="([^"]*)"')
_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class PlaylistError(ValueError):
    """Not a playlist, or one this module cannot make sense of."""


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int
    resolution: tuple[int, int] | None
    codecs: str | None


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float


@dataclass
class MediaPlaylist:
    target_duration: int
    segments: list[Segment] = field(default_factory=list)
    playlist_type: str | None = None
    media_sequence: int = 0
    map_uri: str | None = None
    key_uris: list[str] = field(default_factory=list)
    ended: bool = False

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


def attributes(tag_line: str) -> dict[str, str]:
    """A tag's attribute list (`#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="a,b"`), quotes removed."""
    _, _, rest = tag_line.partition(":")
    return {k: v[1:-1] if v.startswith('"') else v for k, v in _ATTR.findall(rest)}


def _lines(text: str) -> list[str]:
    lines = [ln.strip() for ln in text.splitlines()]
    if not lines or lines[0].lstrip("\ufeff") != "#EXTM3U":
        raise PlaylistError("not an HLS playlist (no #EXTM3U first line)")
    return lines


def parse_master(text: str) -> list[Variant]:
    """The variants of a master playlist, in order."""
    variants: list[Variant] = []
    pending: dict[str, str] | None = None
    for line in _lines(text)[1:]:
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = attributes(line)
        elif line and not line.startswith("#") and pending is not None:
            size = pending.get("RESOLUTION", "")
            w, _, h = size.partition("x")
            resolution = (int(w), int(h)) if w.isdigit() and h.isdigit() else None
            bandwidth = int(pending.get("BANDWIDTH", "0"))
            variants.append(Variant(line, bandwidth, resolution, pending.get("CODECS")))
            pending = None
    if not variants:
        raise PlaylistError("a master playlist without #EXT-X-STREAM-INF variants")
    return variants


def _header(out: MediaPlaylist, tag: str, value: str, line: str) -> None:
    """Record one of the tags parse_media keeps; others are ignored."""
    if tag == "#EXT-X-TARGETDURATION":
        out.target_duration = int(value)
    elif tag == "#EXT-X-MEDIA-SEQUENCE":
        out.media_sequence = int(value)
    elif tag == "#EXT-X-PLAYLIST-TYPE":
        out.playlist_type = value
    elif tag == "#EXT-X-ENDLIST":
        out.ended = True
    elif tag == "#EXT-X-MAP":
        out.map_uri = attributes(line).get("URI")
    elif tag == "#EXT-X-KEY" and "URI" in (attrs := attributes(line)):
        out.key_uris.append(attrs["URI"])


def parse_media(text: str) -> MediaPlaylist:
    """Segments (URI, duration) and the header tags a VOD playlist has."""
    out = MediaPlaylist(target_duration=0)
    duration: float | None = None
    for line in _lines(text)[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXTINF":
            duration = float(value.split(",", 1)[0])
        elif line.startswith("#"):
            _header(out, tag, value, line)
        elif line:
            if duration is None:
                raise PlaylistError(f"segment {line!r} has no #EXTINF")
            out.segments.append(Segment(line, duration))
            duration = None
    if out.target_duration <= 0:
        raise PlaylistError("a media playlist without #EXT-X-TARGETDURATION")
    return out


def is_relative(uri: str) -> bool:
    return not _SCHEME.match(uri) and not uri.startswith("//")


def rewrite(text: str, sign: Signer) -> str:
    """`text` with every relative URI replaced by `sign(uri)`; tags and line endings kept."""
    _lines(text)  # refuse what is not a playlist
    out = []
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        stripped = body.strip()
        if stripped.startswith(URI_TAGS):
            body = _URI_ATTR.sub(lambda m: f'URI="{_signed(m.group(1), sign)}"', body)
        elif stripped and not stripped.startswith("#"):
            body = _signed(stripped, sign)
        out.append(body + ending)
    return "".join(out)


def _signed(uri: str, sign: Signer) -> str:
    return sign(uri) if is_relative(uri) else uri


def resolve(playlist_path: str, uri: str) -> str:
    """The path of `uri` (relative to the playlist at `playlist_path`) from the output root.

    `resolve("720p/index.m3u8", "seg_00001.ts") == "720p/seg_00001.ts"`; a URI climbing out of
    the root raises PlaylistError, so a playlist can never point a signer at another object.
    """
    if not is_relative(uri) or uri.startswith("/"):
        raise PlaylistError(f"not a relative URI: {uri!r}")
    path = uri.split("?", 1)[0].split("#", 1)[0]
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(playlist_path), path))
    if joined == ".." or joined.startswith(("../", "/")) or joined == ".":
        raise PlaylistError(f"URI {uri!r} leaves the output directory")
    return joined
