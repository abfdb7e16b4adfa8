"""ffmpeg: find the binaries, probe a source, pick the rendition ladder, transcode to HLS.

Pure functions over files on local disk: no database, no Flask, no storage backend.
ffmpeg is Debian's when on PATH, else the static binary shipped by imageio-ffmpeg (which has no
ffprobe, so probing falls back to parsing `ffmpeg -i` stderr).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.media import hls
from app.media.ffmpeg_process import (
    Binaries,
    FfmpegMissing,
    TranscodeFailed,
    TranscodeTransient,
    binaries,
    last_error_line,
    run_ffmpeg,
    run_probe,
)

__all__ = [
    "Binaries",
    "FfmpegMissing",
    "HlsOutput",
    "HlsPlan",
    "HlsVariant",
    "NotAVideo",
    "Probe",
    "Rendition",
    "TranscodeFailed",
    "TranscodeTransient",
    "binaries",
    "hls_command",
    "ladder",
    "make_thumbnail",
    "plan_for",
    "probe",
    "transcode_hls",
]

SEGMENT_SECONDS = 6
THUMBNAIL_MAX_WIDTH = 640
# Containers ffmpeg reads a still picture through: a video stream of one frame is not a video.
_IMAGE_FORMATS = re.compile(r"^(image2|.*_pipe|gif|apng|webp)$")


class NotAVideo(Exception):
    """The source is not a playable video; `reason` is shown to the teacher."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- probe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    duration_ms: int
    width: int  # as displayed (a phone video rotated by 90 degrees reports its portrait size)
    height: int
    video_codec: str
    audio_codec: str | None
    size_bytes: int
    has_audio: bool
    frame_rate: float | None = None
    container: str = ""


@dataclass
class _Streams:
    container: str = ""
    duration_s: float | None = None
    video: dict[str, Any] = field(default_factory=dict)  # codec, width, height, fps, rotation
    audio_codec: str | None = None


def probe(path: Path, bins: Binaries) -> Probe:
    """Duration, size and codecs of `path`; raises NotAVideo with a readable reason."""
    size = path.stat().st_size
    if size == 0:
        raise NotAVideo("The file is empty.")
    streams = _ffprobe(path, bins.ffprobe) if bins.ffprobe else _ffmpeg_i(path, bins.ffmpeg)
    if not streams.video:
        if streams.audio_codec:
            raise NotAVideo("The file has sound but no picture (audio only).")
        raise NotAVideo("The file has no video stream.")
    if _IMAGE_FORMATS.match(streams.container):
        raise NotAVideo(f"The file is an image ({streams.container}), not a video.")
    duration = streams.duration_s
    if duration is None:  # e.g. a browser's MediaRecorder webm: no duration in the header
        duration = _measure_duration(path, bins.ffmpeg)
    if duration <= 0:
        raise NotAVideo("The video has no duration.")
    v = streams.video
    width, height = int(v["width"]), int(v["height"])
    if round(float(v.get("rotation") or 0)) % 180 == 90:
        width, height = height, width
    return Probe(
        duration_ms=round(duration * 1000),
        width=width,
        height=height,
        video_codec=str(v["codec"]),
        audio_codec=streams.audio_codec,
        size_bytes=size,
        has_audio=streams.audio_codec is not None,
        frame_rate=v.get("fps"),
        container=streams.container,
    )


def _unreadable(path: Path, stderr: str) -> NotAVideo:
    # The teacher sees this: no temp paths, no ffmpeg's "Error opening input files:" prefix.
    line = last_error_line(stderr.replace(f"{path}: ", "")).rpartition("input files: ")[2]
    return NotAVideo(f"Not a video file ffmpeg can read: {line.rstrip('.')}.")


def _ffprobe(path: Path, ffprobe: str) -> _Streams:
    cmd = [ffprobe, "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)]
    done = run_probe(cmd)
    if done.returncode != 0:
        raise _unreadable(path, done.stderr)
    data = json.loads(done.stdout or "{}")
    fmt = data.get("format", {})
    out = _Streams(container=str(fmt.get("format_name", "")))
    out.duration_s = _float(fmt.get("duration"))
    for s in data.get("streams", []):
        kind, codec = s.get("codec_type"), str(s.get("codec_name", "?"))
        if kind == "video" and not out.video and not s.get("disposition", {}).get("attached_pic"):
            rotation = _float(s.get("tags", {}).get("rotate"))
            for side in s.get("side_data_list", []):
                rotation = _float(side.get("rotation")) or rotation
            out.video = {
                "codec": codec,
                "width": s.get("width", 0),
                "height": s.get("height", 0),
                "fps": _fraction(s.get("avg_frame_rate")) or _fraction(s.get("r_frame_rate")),
                "rotation": rotation,
            }
            out.duration_s = out.duration_s or _float(s.get("duration"))
        elif kind == "audio" and out.audio_codec is None:
            out.audio_codec = codec
    return out


_INPUT = re.compile(r"^Input #0, ([^,]+(?:,[^ ,]+)*), from ", re.M)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Video|Audio): (\w+)(.*)$")
_SIZE = re.compile(r"(?<![\w/])([1-9]\d{0,4})x([1-9]\d{0,4})(?!\w)")
_FPS = re.compile(r"([\d.]+) fps")
_ROTATION = re.compile(r"rotation of (-?[\d.]+) degrees", re.I)


def _ffmpeg_i(path: Path, ffmpeg: str) -> _Streams:
    """`ffmpeg -i` without an output prints the input's description on stderr and exits 1."""
    done = run_probe([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)])
    found = _INPUT.search(done.stderr)
    if not found:
        raise _unreadable(path, done.stderr)
    out = _Streams(container=found.group(1))
    if duration := _DURATION.search(done.stderr):
        h, m, s = duration.groups()
        out.duration_s = int(h) * 3600 + int(m) * 60 + float(s)
    in_video = False
    for line in done.stderr.splitlines():
        stream = _STREAM.match(line)
        if stream:
            kind, codec, rest = stream.groups()
            in_video = False
            size = _SIZE.search(rest)
            if kind == "Video" and not out.video and size and "(attached pic)" not in rest:
                fps = _FPS.search(rest)
                out.video = {"codec": codec, "width": size.group(1), "height": size.group(2)}
                out.video["fps"] = float(fps.group(1)) if fps else None
                in_video = True
            elif kind == "Audio" and out.audio_codec is None:
                out.audio_codec = codec
        elif in_video and (rotation := _ROTATION.search(line)):
            out.video["rotation"] = float(rotation.group(1))
    return out


def _measure_duration(path: Path, ffmpeg: str) -> float:
    """Read the whole file once (stream copy, no decoding) and report where it ended."""
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy"]
    done = run_probe([*cmd, "-f", "null", "-progress", "pipe:1", "-nostats", "-"])
    times = re.findall(r"^out_time_us=(\d+)$", done.stdout, re.M)
    return int(times[-1]) / 1e6 if times else 0.0


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _fraction(value: object) -> float | None:
    num, _, den = str(value or "").partition("/")
    top, bottom = _float(num), _float(den or "1")
    return top / bottom if top and bottom else None


# --- rendition ladder ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rendition:
    name: str
    height: int
    video_kbps: int
    audio_kbps: int


_RUNGS = (
    Rendition("360p", 360, 800, 96),
    Rendition("720p", 720, 2800, 128),
    Rendition("1080p", 1080, 5000, 192),
)


def ladder(source_height: int) -> list[Rendition]:
    """360p/720p/1080p at or below the source, plus the source's own height between rungs.

    Never upscaled. A 480p source gets 360p + 480p (a 360p top would throw away a third of its
    lines); a source within 10 % of a rung (736p, 1088p) just gets that rung; under 360p, one
    rendition at its own height; above 1080p, capped at 1080p.
    """
    height = source_height - source_height % 2  # H.264 4:2:0 needs even dimensions
    rungs = [r for r in _RUNGS if r.height <= height]
    top = rungs[-1].height if rungs else 0
    if height < _RUNGS[-1].height and height > top * 1.1:
        rungs.append(_own_rung(height))
    return rungs


def _own_rung(height: int) -> Rendition:
    """Bitrate interpolated between the neighbouring rungs (by height), scaled down below 360p."""
    low, high = _RUNGS[0], _RUNGS[-1]
    for a, b in itertools.pairwise(_RUNGS):
        if a.height <= height <= b.height:
            low, high = a, b
    if height < low.height:
        share = (height / low.height) ** 2
        return Rendition(f"{height}p", height, max(150, round(low.video_kbps * share)), 64)
    t = (height - low.height) / (high.height - low.height)
    kbps = round(low.video_kbps + t * (high.video_kbps - low.video_kbps))
    return Rendition(f"{height}p", height, kbps, high.audio_kbps if t > 0.5 else low.audio_kbps)


# --- transcode -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HlsPlan:
    """What transcode_hls makes; `plan_for(probe, bins)` is the usual way to get one."""

    renditions: list[Rendition]
    binaries: Binaries
    duration_ms: int
    has_audio: bool = True
    frame_rate: float | None = None
    preset: str = "veryfast"  # tests may pass "ultrafast"
    segment_seconds: int = SEGMENT_SECONDS


def plan_for(source: Probe, bins: Binaries) -> HlsPlan:
    """The ladder for this source's height, with its duration, audio and frame rate."""
    return HlsPlan(
        ladder(source.height), bins, source.duration_ms, source.has_audio, source.frame_rate
    )


@dataclass(frozen=True)
class HlsVariant:
    name: str
    height: int
    bandwidth: int  # bits/s, as the master playlist advertises it
    playlist: str  # relative to out_dir, e.g. "720p/index.m3u8"


@dataclass(frozen=True)
class HlsOutput:
    master: Path
    variants: list[HlsVariant]
    thumbnail: Path
    files: list[str]  # every file written, relative to out_dir, sorted
    duration_ms: int


ProgressCallback = Callable[[int], None]


def transcode_hls(
    source: Path, out_dir: Path, plan: HlsPlan, on_progress: ProgressCallback | None = None
) -> HlsOutput:
    """Every rendition in one ffmpeg run, then a thumbnail; progress 0-100, 100 only on success."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty")
    reporter = _Progress(plan.duration_ms, on_progress)
    run_ffmpeg(hls_command(source, out_dir, plan), reporter.line)
    thumbnail = out_dir / "thumbnail.jpg"
    make_thumbnail(source, thumbnail, plan.binaries, at_ms=plan.duration_ms // 10)
    master = out_dir / "master.m3u8"
    variants = []
    for rendition, entry in zip(plan.renditions, hls.parse_master(master.read_text()), strict=True):
        variants.append(HlsVariant(rendition.name, rendition.height, entry.bandwidth, entry.uri))
    files = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    reporter.finish()
    return HlsOutput(master, variants, thumbnail, files, plan.duration_ms)


def hls_command(source: Path, out_dir: Path, plan: HlsPlan) -> list[str]:
    """filter_complex split + scale per rendition, muxed A/V variants, MPEG-TS segments."""
    n, seg = len(plan.renditions), plan.segment_seconds
    chains = [f"[0:v:0]split={n}" + "".join(f"[s{i}]" for i in range(n))]
    maps: list[str] = []
    rates: list[str] = []
    for i, r in enumerate(plan.renditions):
        # Width from the display aspect ratio, so anamorphic sources come out square-pixelled.
        chains.append(f"[s{i}]scale=w=trunc(oh*dar/2)*2:h={r.height},setsar=1[v{i}]")
        maps += ["-map", f"[v{i}]"] + (["-map", "0:a:0"] if plan.has_audio else [])
        rates += [
            f"-b:v:{i}",
            f"{r.video_kbps}k",
            f"-maxrate:v:{i}",
            f"{r.video_kbps * 107 // 100}k",
        ]
        rates += [f"-bufsize:v:{i}", f"{r.video_kbps * 3 // 2}k", f"-b:a:{i}", f"{r.audio_kbps}k"]
    audio = ",a:{i}" if plan.has_audio else ""
    stream_map = " ".join(
        f"v:{i}{audio.format(i=i)},name:{r.name}" for i, r in enumerate(plan.renditions)
    )
    gop = ["-g", str(math.ceil(plan.frame_rate * seg))] if plan.frame_rate else []
    return [
        plan.binaries.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-i", str(source), "-filter_complex", ";".join(chains), *maps,
        "-c:v", "libx264", "-preset", plan.preset, "-pix_fmt", "yuv420p", "-profile:v", "high",
        # Keyframes exactly on segment boundaries, in every rendition, so players switch cleanly.
        "-force_key_frames", f"expr:gte(t,n_forced*{seg})", "-sc_threshold", "0", *gop,
        "-c:a", "aac", "-ac", "2", "-ar", "48000", *rates,
        "-f", "hls", "-hls_time", str(seg), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
        "-hls_segment_filename", str(out_dir / "%v" / "seg_%05d.ts"),
        "-master_pl_name", "master.m3u8", "-var_stream_map", stream_map,
        "-progress", "pipe:1", "-nostats", str(out_dir / "%v" / "index.m3u8"),
    ]  # fmt: skip


def make_thumbnail(source: Path, target: Path, bins: Binaries, at_ms: int) -> None:
    """One JPEG frame at `at_ms` (the first frame if that finds none), at most 640 px wide."""
    scale = f"scale=w='min({THUMBNAIL_MAX_WIDTH},trunc(ih*dar/2)*2)':h='trunc(ow/dar/2)*2'"
    for seek in (at_ms, 0):
        cmd = [bins.ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", f"{seek / 1000:.3f}"]
        cmd += ["-i", str(source), "-map", "0:v:0", "-frames:v", "1", "-vf", f"{scale},setsar=1"]
        run_ffmpeg([*cmd, "-q:v", "3", "-update", "1", "-f", "image2", str(target)])
        if target.is_file() and target.stat().st_size > 0:
            return
    raise TranscodeFailed("ffmpeg wrote no thumbnail")


class _Progress:
    """Percent from out_time_us; at most once a second, never backwards, 100 only via finish()."""

    def __init__(self, duration_ms: int, callback: ProgressCallback | None) -> None:
        self.duration_us = max(duration_ms, 1) * 1000
        self.callback = callback
        self.sent = -1
        self.sent_at = -math.inf

    def line(self, text: str) -> None:
        key, _, value = text.strip().partition("=")
        if key != "out_time_us" or not value.isdigit() or self.callback is None:
            return
        percent = min(99, int(value) * 100 // self.duration_us)
        now = time.monotonic()
        if percent > self.sent and now - self.sent_at >= 1.0:
            self.sent, self.sent_at = percent, now
            self.callback(percent)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(100)
