"""app.media.ffmpeg on clips generated here by ffmpeg itself: probe, ladder, HLS, progress, kill."""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.config import ROOT
from app.media import ffmpeg as ff
from app.media import hls
from tests.media import clips

DEBIAN = ff.binaries()


def _parsing_binaries() -> ff.Binaries:
    """imageio-ffmpeg's static binary when installed (the real no-ffprobe case), else Debian's."""
    if importlib.util.find_spec("imageio_ffmpeg"):
        import imageio_ffmpeg

        return ff.Binaries(imageio_ffmpeg.get_ffmpeg_exe(), None)
    return ff.Binaries(DEBIAN.ffmpeg, None)


PROBERS = {
    "ffprobe": DEBIAN if DEBIAN.ffprobe else None,
    "ffmpeg -i parsing": _parsing_binaries(),
}


@pytest.fixture(params=list(PROBERS), scope="module")
def prober(request: pytest.FixtureRequest) -> ff.Binaries:
    bins = PROBERS[request.param]
    if bins is None:
        pytest.skip("no ffprobe on this machine")
    return bins


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def clip720(media_dir: Path) -> Path:
    return clips.make_clip(media_dir / "720p.mp4", seconds=6, height=720)


@pytest.fixture(scope="module")
def clip_silent(media_dir: Path) -> Path:
    return clips.make_clip(media_dir / "silent.mp4", seconds=3, height=360, audio=False)


@pytest.fixture(scope="module")
def clip240(media_dir: Path) -> Path:
    return clips.make_clip(media_dir / "240p.mp4", seconds=3, height=240)


@pytest.fixture(scope="module")
def clip_portrait(clip240: Path, media_dir: Path) -> Path:
    """The 240p clip tagged as recorded on a phone held upright (display rotated 90 degrees)."""
    out = media_dir / "portrait.mp4"
    cmd = [DEBIAN.ffmpeg, "-v", "error", "-y", "-i", str(clip240), "-c", "copy"]
    subprocess.run([*cmd, "-metadata:s:v:0", "rotate=90", str(out)], check=True)
    return out


# --- binaries and probe --------------------------------------------------------------------


def test_binaries_prefers_path_and_finds_a_sibling_ffprobe() -> None:
    assert Path(DEBIAN.ffmpeg).name == "ffmpeg"
    assert ff.binaries("ffmpeg") == DEBIAN  # a bare name is looked up on PATH
    explicit = ff.binaries(DEBIAN.ffmpeg)
    assert explicit.ffmpeg == DEBIAN.ffmpeg
    assert explicit.ffprobe == (
        str(Path(DEBIAN.ffmpeg).with_name("ffprobe")) if DEBIAN.ffprobe else None
    )


def test_binaries_override_without_ffprobe(tmp_path: Path) -> None:
    lone = tmp_path / "ffmpeg-static"
    lone.write_bytes(b"")
    assert ff.binaries(str(lone)) == ff.Binaries(str(lone), None)


def test_probe_720p(prober: ff.Binaries, clip720: Path) -> None:
    found = ff.probe(clip720, prober)
    assert abs(found.duration_ms - 6000) <= 50
    assert (found.width, found.height) == (1280, 720)
    assert (found.video_codec, found.audio_codec, found.has_audio) == ("h264", "aac", True)
    assert found.size_bytes == clip720.stat().st_size
    assert found.frame_rate == pytest.approx(25)


def test_probe_video_only(prober: ff.Binaries, clip_silent: Path) -> None:
    found = ff.probe(clip_silent, prober)
    assert (found.has_audio, found.audio_codec) == (False, None)
    assert (found.width, found.height) == (640, 360)


def test_probe_portrait_reports_displayed_size(prober: ff.Binaries, clip_portrait: Path) -> None:
    found = ff.probe(clip_portrait, prober)
    assert (found.width, found.height) == (240, 426)


def test_probe_measures_a_recording_without_duration(prober: ff.Binaries, tmp_path: Path) -> None:
    """A browser's MediaRecorder webm has no duration header: written to a pipe, so is this one."""
    path = tmp_path / "recording.webm"
    cmd = [DEBIAN.ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:duration=3"]
    with path.open("wb") as sink:
        subprocess.run(
            [*cmd, "-c:v", "libvpx", "-deadline", "realtime", "-f", "webm", "pipe:1"],
            stdout=sink,
            check=True,
        )
    found = ff.probe(path, prober)
    assert abs(found.duration_ms - 3000) <= 100
    assert (found.video_codec, found.has_audio) == ("vp8", False)


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("notes.mp4", clips.make_text_file, "invalid data"),
        ("empty.mp4", lambda p: p.touch(), "empty"),
        ("song.mp4", clips.make_audio_only, "audio only"),
        ("card.png", clips.make_image, "image"),
        ("card.jpg", clips.make_image, "image"),
    ],
)
def test_probe_refuses_what_is_not_a_video(
    prober: ff.Binaries, tmp_path: Path, name: str, make: object, words: str
) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    with pytest.raises(ff.NotAVideo) as caught:
        ff.probe(path, prober)
    reason = caught.value.reason
    assert words in reason.lower()
    assert str(tmp_path) not in reason  # shown to the teacher: no server paths


# --- ladder --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "names"),
    [
        (720, ["360p", "720p"]),
        (1080, ["360p", "720p", "1080p"]),
        (2160, ["360p", "720p", "1080p"]),
        (1088, ["360p", "720p", "1080p"]),
        (480, ["360p", "480p"]),
        (736, ["360p", "720p"]),
        (360, ["360p"]),
        (240, ["240p"]),
        (241, ["240p"]),
        (144, ["144p"]),
    ],
)
def test_ladder_never_upscales(height: int, names: list[str]) -> None:
    rungs = ff.ladder(height)
    assert [r.name for r in rungs] == names
    assert all(r.height <= height and r.height % 2 == 0 for r in rungs)
    kbps = [r.video_kbps for r in rungs]
    assert kbps == sorted(kbps) and len(set(kbps)) == len(kbps)


# --- transcoding ---------------------------------------------------------------------------


def _decodes(bins: ff.Binaries, path: Path) -> str:
    """ffmpeg's complaints while decoding `path` completely ('' when it decodes cleanly)."""
    cmd = [bins.ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    return done.stderr + ("" if done.returncode == 0 else f"exit {done.returncode}")


def _jpeg_size(path: Path) -> tuple[int, int]:
    """(width, height) from a baseline or progressive JPEG's SOF marker."""
    data = path.read_bytes()
    assert data[:3] == b"\xff\xd8\xff", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = (
                int.from_bytes(data[i + 5 : i + 7], "big"),
                int.from_bytes(data[i + 7 : i + 9], "big"),
            )
            return w, h
        i += 2 + length
    raise AssertionError("no SOF marker")


def _check_output(out: ff.HlsOutput, out_dir: Path, bins: ff.Binaries, seconds: float) -> None:
    """Playlists parse, segments decode, thumbnail is a JPEG, files listed are the files written."""
    on_disk = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert out.files == on_disk
    variants = hls.parse_master(out.master.read_text())
    assert [v.uri for v in variants] == [v.playlist for v in out.variants]
    listed: set[str] = {"master.m3u8", "thumbnail.jpg"}
    for variant, entry in zip(out.variants, variants, strict=True):
        assert entry.resolution is not None and entry.resolution[1] == variant.height
        text = (out_dir / variant.playlist).read_text()
        media = hls.parse_media(text)
        signed = hls.rewrite(
            text, lambda u, p=variant.playlist: "https://s.test/" + hls.resolve(p, u)
        )
        assert [s.uri for s in hls.parse_media(signed).segments] == [
            f"https://s.test/{hls.resolve(variant.playlist, s.uri)}" for s in media.segments
        ]
        assert media.playlist_type == "VOD" and media.ended
        assert abs(media.duration - seconds) < 1
        listed.add(variant.playlist)
        for segment in media.segments:
            rel = hls.resolve(variant.playlist, segment.uri)
            listed.add(rel)
            assert _decodes(bins, out_dir / rel) == ""
    assert listed == set(out.files)
    assert abs(out.duration_ms - seconds * 1000) < 1000
    assert _jpeg_size(out.thumbnail)[0] <= ff.THUMBNAIL_MAX_WIDTH


def test_transcode_720p_to_360p_and_720p(clip720: Path, tmp_path: Path) -> None:
    source = ff.probe(clip720, DEBIAN)
    plan = ff.plan_for(source, DEBIAN)
    assert plan.segment_seconds == 6 and plan.preset == "veryfast"
    # 2 s segments so a 6 s clip has several, and boundaries across renditions can be compared.
    plan = dataclasses.replace(plan, segment_seconds=2)
    calls: list[tuple[float, int]] = []
    out = ff.transcode_hls(clip720, tmp_path, plan, lambda p: calls.append((time.monotonic(), p)))

    assert [(v.name, v.height) for v in out.variants] == [("360p", 360), ("720p", 720)]
    assert out.variants[0].bandwidth < out.variants[1].bandwidth
    _check_output(out, tmp_path, DEBIAN, 6)
    masters = hls.parse_master(out.master.read_text())
    assert [m.resolution for m in masters] == [(640, 360), (1280, 720)]
    assert all(m.codecs and "mp4a" in m.codecs and "avc1" in m.codecs for m in masters)
    # Keyframes aligned on the segment length: the same boundaries in every rendition.
    durations = [
        [s.duration for s in hls.parse_media((tmp_path / v.playlist).read_text()).segments]
        for v in out.variants
    ]
    assert durations[0] == durations[1] and len(durations[0]) == 3
    assert all(d == pytest.approx(2, abs=0.05) for d in durations[0])
    assert _jpeg_size(out.thumbnail) == (640, 360)

    percents = [p for _, p in calls]
    assert percents == sorted(set(percents)), "progress went backwards or repeated"
    assert percents[-1] == 100 and 100 not in percents[:-1]
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(calls[:-1])]
    assert all(g >= 0.99 for g in gaps), f"progress more often than once a second: {gaps}"


def test_transcode_video_only_source(clip_silent: Path, tmp_path: Path) -> None:
    source = ff.probe(clip_silent, DEBIAN)
    plan = ff.HlsPlan(**{**ff.plan_for(source, DEBIAN).__dict__, "preset": "ultrafast"})
    assert plan.has_audio is False
    out = ff.transcode_hls(clip_silent, tmp_path, plan)
    assert [v.name for v in out.variants] == ["360p"]
    _check_output(out, tmp_path, DEBIAN, 3)
    codecs = hls.parse_master(out.master.read_text())[0].codecs or ""
    assert "mp4a" not in codecs
    segment = tmp_path / "360p" / "seg_00000.ts"
    assert ff.probe(segment, DEBIAN).has_audio is False


@pytest.mark.parametrize("which", ["debian", "imageio or parser"])
def test_transcode_240p_source_keeps_its_height(which: str, clip240: Path, tmp_path: Path) -> None:
    bins = DEBIAN if which == "debian" else _parsing_binaries()
    source = ff.probe(clip240, bins)
    plan = ff.HlsPlan(**{**ff.plan_for(source, bins).__dict__, "preset": "ultrafast"})
    out = ff.transcode_hls(clip240, tmp_path, plan)
    assert [(v.name, v.height) for v in out.variants] == [("240p", 240)]
    _check_output(out, tmp_path, bins, 3)
    assert hls.parse_master(out.master.read_text())[0].resolution == (426, 240)


def test_transcode_portrait_source_stays_upright(clip_portrait: Path, tmp_path: Path) -> None:
    source = ff.probe(clip_portrait, DEBIAN)
    plan = ff.HlsPlan(**{**ff.plan_for(source, DEBIAN).__dict__, "preset": "ultrafast"})
    out = ff.transcode_hls(clip_portrait, tmp_path, plan)
    assert [v.name for v in out.variants] == ["360p", "426p"]
    sizes = [m.resolution for m in hls.parse_master(out.master.read_text())]
    assert sizes == [(202, 360), (240, 426)]
    assert _jpeg_size(out.thumbnail) == (240, 426)


def test_transcode_invalid_data_is_a_permanent_failure(tmp_path: Path) -> None:
    source = clips.make_text_file(tmp_path / "fake.mp4")
    plan = ff.HlsPlan(ff.ladder(720), DEBIAN, duration_ms=3000, preset="ultrafast")
    calls: list[int] = []
    with pytest.raises(ff.TranscodeFailed) as caught:
        ff.transcode_hls(source, tmp_path / "out", plan, calls.append)
    assert not caught.value.transient
    assert "invalid data" in caught.value.reason.lower()
    assert 100 not in calls


def test_out_dir_must_be_empty(clip240: Path, tmp_path: Path) -> None:
    (tmp_path / "old.ts").write_bytes(b"x")
    with pytest.raises(ValueError, match="not empty"):
        ff.transcode_hls(clip240, tmp_path, ff.HlsPlan(ff.ladder(240), DEBIAN, 3000))


def _children(pid: int, name: str = "ffmpeg") -> list[int]:
    """Live (not zombie) processes whose parent is `pid` and whose command name is `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = dict(
                    ln.split(":\t", 1)
                    for ln in (entry / "status").read_text().splitlines()
                    if ":\t" in ln
                )
            except OSError:
                continue
            if (
                fields.get("PPid") == str(pid)
                and fields.get("Name") == name
                and fields.get("State", "")[:1] != "Z"
            ):
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_ffmpeg_killed_by_a_signal_is_transient(clip720: Path, tmp_path: Path) -> None:
    plan = ff.plan_for(ff.probe(clip720, DEBIAN), DEBIAN)

    def kill_ffmpeg(_percent: int) -> None:
        for pid in _children(os.getpid()):
            os.kill(pid, signal.SIGKILL)

    with pytest.raises(ff.TranscodeTransient) as caught:
        ff.transcode_hls(clip720, tmp_path, plan, kill_ffmpeg)
    assert caught.value.transient and "signal 9" in caught.value.reason


def test_a_failing_callback_does_not_leave_ffmpeg_running(clip720: Path, tmp_path: Path) -> None:
    plan = ff.plan_for(ff.probe(clip720, DEBIAN), DEBIAN)
    running: list[int] = []

    def explode(_percent: int) -> None:
        running.extend(_children(os.getpid()))
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        ff.transcode_hls(clip720, tmp_path, plan, explode)
    assert running and not any(_alive(pid) for pid in running)


# The transcode itself; and an ffmpeg with no stdout pipe (as for the thumbnail), which a dead
# parent's closed pipe cannot stop: only PR_SET_PDEATHSIG does.
CALLERS = {
    "transcode_hls": """
        plan = ff.plan_for(ff.probe(source, bins), bins)
        ff.transcode_hls(source, out, plan)
    """,
    "ffmpeg without a pipe": """
        from app.media.ffmpeg_process import run_ffmpeg
        run_ffmpeg([bins.ffmpeg, "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2", "-f", "null", "-"])
    """,
}


@pytest.mark.parametrize("what", list(CALLERS))
def test_sigkill_of_the_caller_leaves_no_ffmpeg(what: str, clip720: Path, tmp_path: Path) -> None:
    script = "from pathlib import Path\nfrom app.media import ffmpeg as ff\nbins = ff.binaries()\n"
    script += f"source, out = Path({str(clip720)!r}), Path({str(tmp_path / 'out')!r})\n"
    script += textwrap.dedent(CALLERS[what])
    caller = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    ffmpegs: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while not ffmpegs and time.monotonic() < deadline and caller.poll() is None:
            ffmpegs = _children(caller.pid)
            time.sleep(0.02)
        assert ffmpegs, "the caller never started ffmpeg"
        time.sleep(0.3)  # let it get going
        caller.kill()
        caller.wait()
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in ffmpegs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in ffmpegs), "ffmpeg outlived its caller"
    finally:
        if caller.poll() is None:
            caller.kill()
        for pid in ffmpegs:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
