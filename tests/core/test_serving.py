"""Serving: one log line per request, gunicorn's control socket in the instance folder,
content-hashed static URLs cached for a year, compressed text responses."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, url_for
from flask.testing import FlaskClient

from app.config import ROOT, child_environment
from app.devserver import _commands
from app.extensions import limiter
from tests.conftest import make_test_app
from tests.processes import stop_group

IMMUTABLE = "public, max-age=31536000, immutable"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _web_argv(instance: Path, port: int) -> list[str]:
    """The web command `make run` starts (`_commands` reads only the app's config)."""
    bare = Flask("argv")
    bare.config.update(
        PORT=port, WEB_CONCURRENCY=1, REDIS_URL="redis://unused", INSTANCE_PATH=str(instance)
    )
    return _commands(bare)["web"]


def _request_lines(caplog: pytest.LogCaptureFixture, path: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "coursefront.request" and f"path={path} " in r.getMessage()
    ]


# --- one log line per request -------------------------------------------------------------


def test_every_request_logs_one_structured_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coursefront.request")
    for path in ("/courses", "/no-such-page", "/static/css/app.css"):
        caplog.clear()
        status = client.get(path, headers={"X-Request-ID": "req-serving-1"}).status_code
        lines = _request_lines(caplog, path)
        assert len(lines) == 1, (path, lines)
        assert f"status={status} " in lines[0] and "method=GET" in lines[0]
        assert re.search(r"duration_ms=\d+\.\d", lines[0])
        record = next(r for r in caplog.records if r.name == "coursefront.request")
        assert record.request_id == "req-serving-1"  # type: ignore[attr-defined]


def test_the_web_command_has_no_access_log_and_a_control_socket_in_the_instance(
    tmp_path: Path,
) -> None:
    argv = _web_argv(tmp_path, 8123)
    assert not any(a.startswith("--access-log") for a in argv), argv
    assert "--control-socket" in argv, argv
    assert argv[argv.index("--control-socket") + 1] == str(tmp_path / "gunicorn.ctl")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="cf-serve-"))  # short: unix socket paths are limited
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait(predicate: object, proc: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_real_gunicorn_prints_one_line_per_request_and_its_socket_is_in_the_instance(
    app: Flask, service_urls: dict[str, str], short_dir: Path
) -> None:
    instance, runtime = short_dir / "instance", short_dir / "run"
    instance.mkdir()
    runtime.mkdir()
    port = _free_port()
    log = short_dir / "web.log"
    env = child_environment(
        **service_urls,
        INSTANCE_PATH=str(instance),
        XDG_RUNTIME_DIR=str(runtime),  # where gunicorn's default socket would go
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    for name in ("APP_ENV", "TEST_DATABASE_URL", "TEST_REDIS_URL"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            _web_argv(instance, port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Exactly one request: a poll that timed out while the worker booted would be logged too.
        assert _wait(lambda: _listening(port), proc), log.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as resp:
            assert resp.status == 200
        assert _wait(lambda: "Control socket listening" in log.read_text(), proc)
        assert (instance / "gunicorn.ctl").exists(), log.read_text()
        assert not (runtime / "gunicorn.ctl").exists()
    finally:
        stop_group(proc)  # our own process group, and its workers
    # After a graceful stop every line is written: the access log goes last, after the response.
    lines = [line for line in log.read_text().splitlines() if "/healthz" in line]
    assert len(lines) == 1, lines
    assert "event=request method=GET path=/healthz status=200" in lines[0]


# --- static files -------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_static_urls_carry_the_content_hash(app: Flask) -> None:
    with app.test_request_context("/"):
        url = url_for("static", filename="css/app.css")
        missing = url_for("static", filename="css/no-such-file.css")
    assert url == f"/static/css/app.css?v={_digest(ROOT / 'static/css/app.css')}"
    assert missing == "/static/css/no-such-file.css"


def test_every_static_url_in_a_page_is_hashed(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r"""["'](/static/[^"']*)["']""", html)
    assert urls, "the page links no static file"
    unhashed = [u for u in urls if not re.search(r"\?v=[0-9a-f]{12}$", u)]
    assert not unhashed, unhashed


def test_no_template_spells_a_static_path_by_hand() -> None:
    literal = re.compile(r"""(?:src|href)=["']/static/""")
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "templates").rglob("*.html")
        if literal.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


@pytest.fixture
def own_static(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """The app serves static files from a temporary folder for the test."""
    before = app.static_folder
    app.static_folder = str(tmp_path)
    try:
        yield tmp_path
    finally:
        app.static_folder = before


def test_a_changed_file_gets_a_new_url_and_only_the_current_one_is_immutable(
    app: Flask, client: FlaskClient, own_static: Path
) -> None:
    style = own_static / "site.css"
    style.write_text("body { color: black; }\n")
    with app.test_request_context("/"):
        first = url_for("static", filename="site.css")
    assert first == f"/static/site.css?v={_digest(style)}"

    hashed = client.get(first)
    assert hashed.status_code == 200
    assert hashed.headers["Cache-Control"] == IMMUTABLE
    revalidated = client.get(first, headers={"If-None-Match": hashed.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["Cache-Control"] == IMMUTABLE
    assert client.get("/static/site.css").headers["Cache-Control"] == "no-cache"

    style.write_text("body { color: rebeccapurple; }\n")
    with app.test_request_context("/"):
        second = url_for("static", filename="site.css")
    assert second != first and second == f"/static/site.css?v={_digest(style)}"
    assert client.get(second).headers["Cache-Control"] == IMMUTABLE
    stale = client.get(first)  # an old page's URL now gets the new file: revalidate it
    assert stale.headers["Cache-Control"] == "no-cache"
    assert b"rebeccapurple" in stale.data


def test_folders_and_paths_outside_the_static_folder_are_not_hashed(app: Flask) -> None:
    with app.test_request_context("/"):
        assert url_for("static", filename="../wsgi.py") == "/static/../wsgi.py"
        assert url_for("static", filename="img") == "/static/img"  # a folder


# --- compression --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_app(app: Flask, service_urls: dict[str, str]) -> Iterator[Flask]:
    """An app of its own with routes of fixed bodies (the session app has served requests)."""
    body = "<!doctype html><title>x</title>" + "".join(
        f"<p>Paragraph {i} of a long page</p>" for i in range(200)
    )
    application = make_test_app(service_urls, SERVING_TEST_BODY=body)
    routes = {
        "page": lambda: Response(body, mimetype="text/html"),
        "small": lambda: Response("<p>tiny</p>", mimetype="text/html"),
        "streamed": lambda: Response((body for _ in range(2)), mimetype="text/html"),
        "encoded": lambda: Response(
            gzip.compress(body.encode()), mimetype="text/html", headers={"Content-Encoding": "gzip"}
        ),
        "binary": lambda: Response(os.urandom(4000), mimetype="application/octet-stream"),
    }
    for name, view in routes.items():
        application.add_url_rule(f"/_serving/{name}", f"_serving_{name}", view)
    try:
        yield application
    finally:
        limiter.init_app(app)  # one limiter per process: bind it back to the session's app


def test_a_page_is_gzipped_when_the_client_accepts_it(page_app: Flask) -> None:
    client = page_app.test_client()
    body = page_app.config["SERVING_TEST_BODY"].encode()
    zipped = client.get("/_serving/page", headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(body) / 4
    assert gzip.decompress(zipped.data) == body

    plain = client.get("/_serving/page")
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert plain.data == body
    refused = client.get("/_serving/page", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers and refused.data == body


def test_a_real_page_comes_back_gzipped(client: FlaskClient) -> None:
    response = client.get("/courses", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.data).decode()
    assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html


def test_what_is_not_compressed(page_app: Flask) -> None:
    client = page_app.test_client()
    small = client.get("/_serving/small", headers=GZIP)
    assert "Content-Encoding" not in small.headers and small.data == b"<p>tiny</p>"
    head = client.head("/_serving/page", headers=GZIP)
    assert "Content-Encoding" not in head.headers
    streamed = client.get("/_serving/streamed", headers=GZIP)
    assert "Content-Encoding" not in streamed.headers
    encoded = client.get("/_serving/encoded", headers=GZIP)
    assert gzip.decompress(encoded.data) == page_app.config["SERVING_TEST_BODY"].encode()
    binary = client.get("/_serving/binary", headers=GZIP)
    assert "Content-Encoding" not in binary.headers and len(binary.data) == 4000


def test_static_text_files_are_gzipped_and_still_revalidate(client: FlaskClient) -> None:
    plain = client.get("/static/css/app.css")
    zipped = client.get("/static/css/app.css", headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert int(zipped.headers["Content-Length"]) == len(zipped.data)
    assert zipped.headers["ETag"].startswith('W/"')  # not the same bytes as the plain file
    assert "Accept-Ranges" not in zipped.headers
    assert client.get("/static/css/app.css", headers=GZIP).data == zipped.data  # from the cache
    again = client.get(
        "/static/css/app.css", headers={**GZIP, "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304 and not again.data
    ranged = client.get("/static/css/app.css", headers={**GZIP, "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.data == plain.data[:10]
    font = client.get("/static/vendor/inter/inter-latin-wght-normal.woff2", headers=GZIP)
    assert "Content-Encoding" not in font.headers  # already compressed
