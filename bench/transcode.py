"""Transcode throughput: seconds of 720p source turned into the HLS ladder per wall second.

    .venv/bin/python bench/transcode.py                # 60 s clip, generated once into bench/.run/
    .venv/bin/python bench/transcode.py --seconds 20   # a shorter clip (its own file)

The measured path is app.media.ffmpeg.transcode_hls exactly as the worker runs it: probe, the
ladder for a 720p source (360p + 720p), one ffmpeg run (libx264 veryfast, AAC, 6 s MPEG-TS
segments, -progress read line by line), then the thumbnail. The baseline, in the same run on the
same clip, is one plain ffmpeg encode to a single 720p MP4 with the same encoder settings (preset,
bitrate, AAC): what any upload costs to re-encode at all, so the ratio says what the extra 360p
rendition, the HLS muxing and the thumbnail add. CPU heavy: both cores for about a minute.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.media import ffmpeg as ff
from bench.common import BENCH, say

RUN = BENCH / ".run"


def make_source(bins: ff.Binaries, seconds: int) -> Path:
    """A 720p25 H.264/AAC test card once; later runs reuse it (same input, comparable figures)."""
    path = RUN / f"transcode_720p_{seconds}s.mp4"
    if path.is_file():
        return path
    RUN.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    cmd = [bins.ffmpeg, "-nostdin", "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}"]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    cmd += ["-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart", str(tmp)]
    say(f"generating a {seconds} s 720p source into {path.relative_to(BENCH.parent)} ...")
    subprocess.run(cmd, check=True)
    tmp.rename(path)
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def baseline(source: Path, plan: ff.HlsPlan, work: Path) -> tuple[float, float]:
    """(wall s, cpu s) of one 720p MP4 encode with the ladder's 720p settings."""
    top = plan.renditions[-1]
    cmd = [plan.binaries.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(source)]
    cmd += ["-c:v", "libx264", "-preset", plan.preset, "-pix_fmt", "yuv420p", "-profile:v", "high"]
    cmd += ["-b:v", f"{top.video_kbps}k", "-maxrate", f"{top.video_kbps * 107 // 100}k"]
    cmd += ["-bufsize", f"{top.video_kbps * 3 // 2}k", "-c:a", "aac", "-ac", "2", "-ar", "48000"]
    cmd += ["-b:a", f"{top.audio_kbps}k", str(work / "baseline.mp4")]
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start, children_cpu() - cpu


def ladder_run(source: Path, plan: ff.HlsPlan, work: Path) -> tuple[float, float, ff.HlsOutput]:
    """(wall s, cpu s, output) of transcode_hls for the whole ladder, thumbnail included."""
    updates: list[int] = []
    cpu, start = children_cpu(), time.perf_counter()
    out = ff.transcode_hls(source, work / "hls", plan, updates.append)
    wall = time.perf_counter() - start
    say(f"  progress updates: {len(updates)} ({updates[0]} .. {updates[-1]})")
    return wall, children_cpu() - cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the 720p source")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (the app uses veryfast)")
    args = parser.parse_args(argv)

    bins = ff.binaries()
    version = subprocess.run([bins.ffmpeg, "-version"], capture_output=True, text=True, check=True)
    say(f"ffmpeg: {bins.ffmpeg} ({version.stdout.split(chr(10), 1)[0]})")
    source = make_source(bins, args.seconds)
    probe = ff.probe(source, bins)
    plan = dataclasses.replace(ff.plan_for(probe, bins), preset=args.preset)
    seconds = probe.duration_ms / 1000
    names = " + ".join(r.name for r in plan.renditions)
    say(f"source: {seconds:.1f} s, {probe.width}x{probe.height}, ladder: {names}, {args.preset}")

    work = Path(tempfile.mkdtemp(prefix="transcode-", dir=RUN))
    try:
        b_wall, b_cpu = baseline(source, plan, work)
        b_rate = seconds / b_wall
        say(f"baseline (one 720p MP4):  {b_wall:6.1f} s wall, {b_cpu:6.1f} s cpu, {b_rate:5.2f} x")
        l_wall, l_cpu, out = ladder_run(source, plan, work)
        l_rate = seconds / l_wall
        say(f"ladder (HLS {names}): {l_wall:6.1f} s wall, {l_cpu:6.1f} s cpu, {l_rate:5.2f} x")
        size = sum((work / "hls" / f).stat().st_size for f in out.files)
        say(f"  output: {len(out.files)} files, {size / 1e6:.1f} MB")
        say(f"source seconds per wall second: ladder {l_rate:.2f}, baseline {b_rate:.2f}")
        say(f"ratio ladder / baseline: {l_rate / b_rate:.2f} of the throughput")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
