"""Short generated videos (ffmpeg's testsrc2 card and a sine tone): demo lectures and tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.media.ffmpeg import binaries


def make_clip(
    path: Path,
    *,
    seconds: float = 3,
    height: int = 720,
    audio: bool = True,
    ffmpeg: str | None = None,
) -> Path:
    """An H.264 (+ AAC) MP4 of `seconds` at 16:9 `height`, moving test card and a 440 Hz tone."""
    exe, fps = ffmpeg or binaries().ffmpeg, 25
    width = (height * 16 // 9) // 2 * 2
    cmd = [exe, "-nostdin", "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps)]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "96k", "-shortest"]
    cmd += ["-movflags", "+faststart", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)  # noqa: S603 - our own arguments
    return path
