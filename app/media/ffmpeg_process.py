"""Running ffmpeg: which binaries, a child that dies with its parent, failures classified.

app.media.ffmpeg builds the commands; this module only runs them.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# stderr phrases of failures worth retrying (the machine, not the file, was at fault).
_TRANSIENT = ("no space left", "cannot allocate memory", "resource temporarily unavailable")
_GENERIC = ("conversion failed", "exiting normally", "at least one output file")
PROBE_TIMEOUT_S = 120


class TranscodeFailed(Exception):
    """ffmpeg failed on this input; retrying will not help."""

    transient = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TranscodeTransient(TranscodeFailed):
    """ffmpeg was killed or the machine ran out of something: worth retrying."""

    transient = True


class FfmpegMissing(RuntimeError):
    """Neither an ffmpeg on PATH nor imageio-ffmpeg's binary is available."""


@dataclass(frozen=True)
class Binaries:
    ffmpeg: str
    ffprobe: str | None  # None: probe by parsing `ffmpeg -i`


def binaries(override: str | None = None) -> Binaries:
    """The ffmpeg to use: `override` (config FFMPEG_BINARY), else PATH's, else imageio-ffmpeg's."""
    if override:
        exe = shutil.which(override) or override  # a bare name or a path
        sibling = Path(exe).with_name("ffprobe")
        return Binaries(exe, str(sibling) if sibling.is_file() else None)
    on_path = shutil.which("ffmpeg")
    if on_path:
        return Binaries(on_path, shutil.which("ffprobe"))
    try:
        module = importlib.import_module("imageio_ffmpeg")
    except ImportError:
        raise FfmpegMissing("install ffmpeg (apt-get install ffmpeg) or imageio-ffmpeg") from None
    shipped: str = module.get_ffmpeg_exe()
    return Binaries(shipped, None)


def last_error_line(stderr: str) -> str:
    """The last stderr line that says something (ffmpeg ends on a generic 'Conversion failed!')."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    meaningful = [ln for ln in lines if not ln.lower().startswith(_GENERIC)]
    return (meaningful or lines or ["no error output"])[-1][:300]


def run_probe(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """A short ffmpeg/ffprobe run, output captured; the exit code is for the caller to judge."""
    try:
        done = subprocess.run(  # noqa: S603 - an argument list we build, no shell
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TranscodeTransient(f"probing took longer than {PROBE_TIMEOUT_S} s") from None
    if done.returncode < 0:
        raise TranscodeTransient(f"{Path(cmd[0]).name} was killed by signal {-done.returncode}")
    return done


def run_ffmpeg(cmd: list[str], on_line: Callable[[str], None] | None = None) -> None:
    """Run ffmpeg tied to this process (it dies with us), feed it stdout lines, raise on failure."""
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(  # noqa: S603 - an argument list we build, no shell
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if on_line else subprocess.DEVNULL,
            stderr=stderr,  # a file, not a pipe: nobody has to drain it while we read stdout
            text=True,
            errors="replace",
            preexec_fn=_die_with_parent(),
        )
        try:
            if proc.stdout is not None and on_line is not None:
                for text in proc.stdout:
                    on_line(text)
            code = proc.wait()
        finally:
            if proc.poll() is None:  # the callback raised: do not leave ffmpeg running
                proc.kill()
                proc.wait()
        if code != 0:
            raise _failure(code, _read(stderr))


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")


def _failure(code: int, stderr: str) -> TranscodeFailed:
    line, lowered = last_error_line(stderr), stderr.lower()
    if code < 0:
        return TranscodeTransient(f"ffmpeg was killed by signal {-code} ({line})")
    # ffmpeg catches SIGTERM/SIGINT itself and exits 255 saying so.
    if "received signal" in lowered or any(t in lowered for t in _TRANSIENT):
        return TranscodeTransient(f"ffmpeg stopped: {line}")
    return TranscodeFailed(f"ffmpeg failed: {line}")


_PR_SET_PDEATHSIG = 1
# Loaded here, not in the child: dlopen between fork and exec could deadlock.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGKILL the child when this process dies (Linux).

    Strictly, when the thread that started it ends; transcode_hls waits for ffmpeg in that thread.
    """
    if _LIBC is None:
        return None
    libc, parent = _LIBC, os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec
