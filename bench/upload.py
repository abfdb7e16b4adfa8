"""Upload path: bytes/s and web worker peak RSS for a 1 GiB local upload through the real endpoints.

    .venv/bin/python bench/upload.py               # 1 GiB, 4 client threads
    .venv/bin/python bench/upload.py --mib 256     # a smaller file (a quick check)

Production configuration: gunicorn with 2 sync workers, APP_ENV=production, the system
PostgreSQL (database coursefront_bench_upload, migrated with `flask db upgrade`) and Redis db 12
(this bench's: emptied at start and end), STORAGE_BACKEND=local with MEDIA_ROOT under
bench/.run/. A teacher logs in through the real login form (CSRF token from the page), then
POST /studio/lectures/<id>/upload, PUT every part to the signed URLs it hands out (more from
POST /studio/uploads/<token>/parts as the first batch runs out) with 4 client threads that
generate the bytes as they send them, then POST .../confirm-upload, which joins the parts.

The baseline, in the same run under the same gunicorn: the same bytes PUT with the same part
size and threads to a trivial WSGI app (below) that streams each body to a file. The ratio says
what the signed part route costs (signature check, md5 for the ETag, temp file and rename).
Neither side fsyncs, so with enough RAM both measure the page cache, not the disk. I/O heavy:
about 3 GiB written to bench/.run/ and deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import BENCH, Server, Servers, say

DATABASE = "coursefront_bench_upload"
REDIS_URL = "redis://127.0.0.1:6379/12"
APP_PORT, BASELINE_PORT = 8370, 8371  # this bench's range: 8370-8379
RUN = BENCH / ".run"
MEDIA_ROOT = RUN / "upload-media"
SINK = RUN / "upload-sink"  # the baseline app's files
MIB = 1 << 20
THREADS = 4
TEACHER_EMAIL = "teacher@upload.bench.example"
PASSWORD = "bench-upload-violet-harbour"  # a bench account in a bench database
# An ftyp box first, as tests/media/conftest.py's MP4_HEAD: confirm checks the magic bytes.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
# Every MiB of the file is this block with its index in the first 8 bytes (MP4_HEAD in the
# first), so the joined file can be checked for order without keeping a copy.
BLOCK = bytes(range(256)) * (MIB // 256)


# --- the baseline: a trivial WSGI app under the same gunicorn ------------------------------


def baseline_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """PUT /sink/<n>: the body streamed to SINK/<n> in 1 MiB reads; PUT /warm: read and dropped."""
    path = environ.get("PATH_INFO", "")
    match = re.fullmatch(r"/sink/(\d{1,5})", path)
    if environ["REQUEST_METHOD"] != "PUT" or (match is None and path != "/warm"):
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"]
    target = Path(os.environ["BENCH_UPLOAD_SINK"])
    with (target / match.group(1)).open("wb") if match else open(os.devnull, "wb") as out:
        while remaining > 0 and (chunk := body.read(min(MIB, remaining))):
            out.write(chunk)
            remaining -= len(chunk)
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


# --- the file, generated on the fly ----------------------------------------------------------


def marker(index: int) -> bytes:
    return MP4_HEAD if index == 0 else index.to_bytes(8, "big")


def pieces(start: int, end: int) -> Iterator[bytes | memoryview]:
    """The file's bytes [start, end) as small markers and views of BLOCK: nothing copied."""
    view = memoryview(BLOCK)
    for index in range(start // MIB, -(-end // MIB)):
        lo, hi = max(start, index * MIB) - index * MIB, min(end, (index + 1) * MIB) - index * MIB
        head = marker(index)
        if lo < len(head):
            yield head[lo : min(hi, len(head))]
            lo = len(head)
        if lo < hi:
            yield view[lo:hi]


def md5_of(start: int, end: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for piece in pieces(start, end):
        digest.update(piece)
    return digest.hexdigest()


def check_file(path: Path, size: int) -> None:
    """The joined file has the declared size and every MiB in its place."""
    actual = path.stat().st_size
    if actual != size:
        raise RuntimeError(f"{path} holds {actual} bytes, not {size}")
    with path.open("rb") as fh:
        for index in range(-(-size // MIB)):
            fh.seek(index * MIB)
            head = marker(index)
            if fh.read(len(head)) != head[: size - index * MIB]:
                raise RuntimeError(f"{path}: MiB {index} is not where it belongs")


# --- HTTP --------------------------------------------------------------------------------------


def put_part(port: int, url: str, start: int, end: int, stop: threading.Event) -> str:
    """PUT bytes [start, end) of the file to url (streamed); returns the ETag (may be "")."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("PUT", url, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(end - start))
        conn.putheader("Content-Type", "application/octet-stream")
        conn.endheaders()
        for piece in pieces(start, end):
            if stop.is_set():
                raise RuntimeError("stopped")
            conn.send(piece)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"PUT {url[:60]}... answered {response.status}: {body[:200]!r}")
        return (response.getheader("ETag") or "").strip('"')
    finally:
        conn.close()


def local_path(url: str) -> str:
    """Path and query of a part URL (root-relative, or absolute when PUBLIC_URL is set)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class Upload:
    """One upload in progress: part URLs known so far, asked for in batches like uploader.js."""

    session: Any  # requests.Session
    base: str
    token: str
    size: int
    part_size: int
    urls: dict[int, str]
    parts_link: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    etags: dict[int, str] = field(default_factory=dict)
    url_requests: int = 0

    @property
    def count(self) -> int:
        return -(-self.size // self.part_size)

    def url_for(self, number: int) -> str:
        with self.lock:  # one batch request at a time; the others wait for it
            if number not in self.urls:
                wanted = [n for n in range(number, self.count + 1) if n not in self.urls][:20]
                answer = self.session.post(
                    urljoin(self.base, self.parts_link), json={"partNumbers": wanted}
                )
                answer.raise_for_status()
                self.urls.update({p["partNumber"]: p["url"] for p in answer.json()["parts"]})
                self.url_requests += 1
            return self.urls[number]

    def bounds(self, number: int) -> tuple[int, int]:
        start = (number - 1) * self.part_size
        return start, min(self.size, start + self.part_size)


def run_parallel(numbers: Iterable[int], send: Callable[[int], None]) -> None:
    """send(n) for every part on THREADS threads; the first failure (or Ctrl-C) stops them all."""
    pool = ThreadPoolExecutor(THREADS, thread_name_prefix="put")
    futures = [pool.submit(send, n) for n in numbers]
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# --- setup -------------------------------------------------------------------------------------


def env_for(**extra: str) -> dict[str, str]:
    return common.app_env(
        DATABASE,
        REDIS_URL=REDIS_URL,
        STORAGE_BACKEND="local",
        MEDIA_ROOT=str(MEDIA_ROOT),
        MEDIA_MAX_UPLOAD_BYTES=str(8 * 1024**3),
        **extra,
    )


def empty_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # db 12 is this bench's (rate limits, RQ queue)


def prepare() -> int:
    """A fresh migrated database with a teacher and a course with one lecture; the lecture id."""
    common.reset_schema(DATABASE)
    common.migrate(DATABASE)
    os.environ.update(env_for())
    from app import create_app
    from app.accounts.models import Role, User
    from app.accounts.passwords import hash_password
    from app.catalog import services as catalog
    from app.extensions import db

    app = create_app()
    with app.app_context():
        teacher = User(email=TEACHER_EMAIL, name="Upload Teacher", role=Role.TEACHER,
                       password_hash=hash_password(PASSWORD))  # fmt: skip
        db.session.add(teacher)
        db.session.flush()
        course = catalog.create_course(teacher, catalog.CourseDraft("Upload bench", "", ""))
        lecture = catalog.add_lecture(catalog.add_chapter(course, "One"), "The big one")
        db.session.commit()
        return lecture.id


def start(servers: Servers, name: str, target: str, port: int, env: dict[str, str]) -> Server:
    if not common.port_free(port):
        raise RuntimeError(f"port {port} is taken")
    proc = common.gunicorn(name, target, port, env, RUN)
    server = servers.add(Server(name, port, proc, RUN / f"{name}.log"))
    common.wait_http(port, "/healthz")
    return server


def workers(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{master}$", status, re.M):
                found.append(int(entry.name))
    return sorted(found)


def status_kib(pid: int, name: str) -> int:
    match = re.search(rf"^{name}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert match, f"no {name} for {pid}"
    return int(match.group(1))


def idle_rss(pids: list[int]) -> dict[int, int]:
    """Each worker's VmRSS now, with its peak (VmHWM) reset to it, so the peak is this run's."""
    idle = {}
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak RSS
        except OSError as exc:
            say(f"  (cannot reset the peak RSS of {pid}: {exc}; VmHWM counts from its start)")
        idle[pid] = status_kib(pid, "VmRSS")
    return idle


def warm(port: int, path: str, expect: int) -> None:
    """A few small PUTs so both workers have imported and built what the part route uses."""
    for _ in range(8):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("PUT", path, body=b"x")
        status = conn.getresponse().status
        conn.close()
        if status != expect:
            raise RuntimeError(f"warm-up PUT {path} answered {status}, expected {expect}")


def peaks(idle: dict[int, int]) -> str:
    shown = []
    for pid, rss in idle.items():
        peak = status_kib(pid, "VmHWM")
        shown.append(
            f"{pid}: idle {rss / 1024:.0f}, peak {peak / 1024:.0f}, +{(peak - rss) / 1024:.1f}"
        )
    return "; ".join(shown) + " (MiB)"


# --- the two runs ------------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: float
    size: int

    @property
    def mib_s(self) -> float:
        return self.size / MIB / self.seconds


def run_baseline(server: Server, size: int, part_size: int) -> tuple[Timing, str]:
    shutil.rmtree(SINK, ignore_errors=True)
    SINK.mkdir(parents=True)
    warm(server.port, "/warm", 200)
    idle = idle_rss(workers(server.proc.pid))
    count, stop = -(-size // part_size), threading.Event()

    def send(n: int) -> None:
        start = (n - 1) * part_size
        put_part(server.port, f"/sink/{n}", start, min(size, start + part_size), stop)

    began = time.perf_counter()
    try:
        run_parallel(range(1, count + 1), send)
    finally:
        stop.set()
    timing = Timing(time.perf_counter() - began, size)
    memory = peaks(idle)
    held = sum((SINK / str(n)).stat().st_size for n in range(1, count + 1))
    if held != size:
        raise RuntimeError(f"the baseline stored {held} bytes, not {size}")
    return timing, memory


def login(base: str) -> tuple[Any, str]:
    """A requests session logged in through the real form, and the CSRF token pages carry."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no csrf_token on the login page"
    form = {"email": TEACHER_EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    answer = session.post(f"{base}/login", data=form, allow_redirects=False)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"login answered {answer.status_code}")
    studio = session.get(f"{base}/studio/")
    header = re.search(r"&#34;X-CSRFToken&#34;: &#34;([^&]+)&#34;|\"X-CSRFToken\": \"([^\"]+)\"",
                       studio.text)  # fmt: skip
    if studio.status_code != 200 or header is None:
        raise RuntimeError(f"the studio answered {studio.status_code} without a CSRF token")
    session.headers.update({"X-CSRFToken": header.group(1) or header.group(2),
                            "Accept": "application/json"})  # fmt: skip
    return session, base


def start_upload(session: Any, base: str, lecture_id: int, size: int) -> Upload:
    answer = session.post(
        f"{base}/studio/lectures/{lecture_id}/upload",
        json={"fileName": "bench-1gib.mp4", "fileSize": size, "contentType": "video/mp4"},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"upload start answered {answer.status_code}: {answer.text[:300]}")
    data = answer.json()
    return Upload(session=session, base=base, token=data["uploadId"], size=size,
                  part_size=data["partSize"], parts_link=data["links"]["parts"],
                  urls={p["partNumber"]: p["url"] for p in data["parts"]})  # fmt: skip


def run_app(server: Server, lecture_id: int, size: int) -> tuple[Timing, Upload, dict[int, int]]:
    base = f"http://127.0.0.1:{server.port}"
    warm(server.port, "/media/parts/" + "0" * 32 + "/1?size=1&exp=1&sig=x", 403)
    session, base = login(base)
    idle = idle_rss(workers(server.proc.pid))
    stop = threading.Event()
    began = time.perf_counter()
    upload = start_upload(session, base, lecture_id, size)

    def send(n: int) -> None:
        url = local_path(upload.url_for(n))
        upload.etags[n] = put_part(server.port, url, *upload.bounds(n), stop)

    try:
        run_parallel(range(1, upload.count + 1), send)
    finally:
        stop.set()
    return Timing(time.perf_counter() - began, size), upload, idle


def confirm(upload: Upload, lecture_id: int) -> float:
    began = time.perf_counter()
    answer = upload.session.post(
        f"{upload.base}/studio/lectures/{lecture_id}/confirm-upload",
        json={"uploadId": upload.token},
    )
    took = time.perf_counter() - began
    if answer.status_code != 200 or answer.json().get("status") != "uploaded":
        raise RuntimeError(f"confirm answered {answer.status_code}: {answer.text[:300]}")
    return took


def verify(upload: Upload) -> None:
    """Every part's ETag is the md5 of what was sent, and the joined file is whole and in order."""
    for n in range(1, upload.count + 1):
        if upload.etags.get(n) != md5_of(*upload.bounds(n)):
            raise RuntimeError(f"part {n}: the stored ETag is not the md5 of the bytes sent")
    with common.connect(DATABASE) as conn:
        row = conn.execute(
            "SELECT storage_key FROM media_files WHERE token = %s", (upload.token,)
        ).fetchone()
    assert row is not None
    check_file(MEDIA_ROOT / row[0], upload.size)


def settle() -> None:
    """Written pages to disk before the next run, so one run's writeback does not slow the other."""
    subprocess.run(["sync"], check=False)


# --- main --------------------------------------------------------------------------------------


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # a kill (SIGTERM) stops the servers like Ctrl-C does


def cleanup() -> None:
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
    shutil.rmtree(SINK, ignore_errors=True)


def report(app: Timing, base: Timing, confirm_s: float) -> None:
    joined = f"confirm (join {app.size // MIB} MiB):"
    total = app.seconds + confirm_s
    say()
    say(f"{'upload (start + parts):':<26}{app.seconds:7.2f} s {app.mib_s:7.1f} MiB/s")
    say(f"{'baseline (parts):':<26}{base.seconds:7.2f} s {base.mib_s:7.1f} MiB/s")
    say(f"{joined:<26}{confirm_s:7.2f} s {app.size / MIB / confirm_s:7.1f} MiB/s")
    say(f"{'upload + confirm:':<26}{total:7.2f} s {app.size / MIB / total:7.1f} MiB/s")
    say(f"ratio upload / baseline: {app.mib_s / base.mib_s:.2f} of the throughput")


def run(args: argparse.Namespace, servers: Servers) -> None:
    size = args.mib * MIB
    say(f"preparing {DATABASE} (migrate, a teacher, a course with a lecture) ...")
    lecture_id = prepare()
    app = start(servers, "upload-app", "wsgi:app", APP_PORT, env_for())
    baseline = start(servers, "upload-baseline", "bench.upload:baseline_app", BASELINE_PORT,
                     env_for(BENCH_UPLOAD_SINK=str(SINK)))  # fmt: skip
    say(f"{args.mib} MiB, {THREADS} client threads, gunicorn 2 sync workers on each side")
    app_t, upload, idle = run_app(app, lecture_id, size)
    say(f"upload: {upload.count} parts of {upload.part_size // MIB} MiB, "
        f"{upload.url_requests} requests for more part URLs")  # fmt: skip
    say(f"  worker RSS after the parts: {peaks(idle)}")
    confirm_s = confirm(upload, lecture_id)
    say(f"  worker RSS after the confirm: {peaks(idle)}")
    verify(upload)
    say("  checked: every part's ETag and the joined file's size and order")
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
    settle()
    base_t, base_mem = run_baseline(baseline, size, upload.part_size)
    say(f"baseline: worker RSS after the parts: {base_mem}")
    shutil.rmtree(SINK, ignore_errors=True)
    report(app_t, base_t, confirm_s)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1 GiB)")
    args = parser.parse_args(argv)
    RUN.mkdir(parents=True, exist_ok=True)
    cleanup()
    empty_redis()
    try:
        with Servers() as servers:
            run(args, servers)
    except KeyboardInterrupt:
        say("Interrupted: servers stopped")
        return 130
    finally:
        cleanup()
        empty_redis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
