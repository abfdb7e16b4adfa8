"""A local Mux Video the app's client talks to over HTTP (in-memory, thread-safe).

Speaks the documented endpoints the app uses (https://www.mux.com/docs/api-reference/video):
`POST /video/v1/uploads`, `GET /video/v1/uploads/{id}`, `GET|DELETE /video/v1/assets/{id}`,
with HTTP Basic auth (token id:secret), `{"data": ...}` answers and `{"error": {"type",
"messages"}}` errors. The upload URL it hands out takes the file in one PUT (no credentials:
the URL is the authorisation; CORS preflight answered for `cors_origin`). On the PUT it makes
an asset, then "processes" it: a body that starts like an MP4/MOV or WebM/MKV becomes `ready`,
anything else `errored`. Its webhooks (`video.upload.asset_created`, `video.asset.created`,
`video.asset.ready` or `video.asset.errored`), signed with `Mux-Signature`, are kept in `sent`
and, when `webhook_url` is set, POSTed there in order from a thread, as Mux does.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.media.mux import sign_webhook
from tests.fakes import ports
from tests.fakes.fixtures import _shared
from tests.fakes.stripe_double import RecordedRequest, WsgiDouble, _QuietHandler

PORTS = range(8360, 8370)  # the Mux double
_ALPHABET = string.ascii_letters + string.digits
VIDEO_HEADS = (b"ftyp",)  # at offset 4 (MP4/MOV)
EBML = b"\x1a\x45\xdf\xa3"  # WebM/MKV
NOT_A_VIDEO = "The file could not be processed: no video or audio stream was found in the input."


def mux_id(length: int = 32) -> str:
    """Mux's ids: long base62 strings."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def free_port() -> int:
    return ports.free_port(PORTS)


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    type: str
    status: int | None = None  # the app's answer, once POSTed


@dataclass
class MuxDouble(WsgiDouble):
    token_id: str = "mux-token-id"
    token_secret: str = "mux-token-secret"
    webhook_secret: str = "mux-webhook-secret"
    webhook_url: str | None = None
    duration_s: float = 4.04  # what a "ready" asset reports
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: dict[str, bytes] = field(default_factory=dict)  # upload id -> the PUT's body
    sent: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._outbox: list[Delivery] = []
        self._wake = threading.Condition(self._lock)
        self._sender: threading.Thread | None = None
        self._url_key = secrets.token_bytes(16)

    # -- serving, on the double's ports -----------------------------------------------------
    def start(self) -> Self:
        if self._server is None:
            self._server = make_server(
                "127.0.0.1",
                free_port(),
                self.wsgi_app,
                threaded=True,
                request_handler=_QuietHandler,
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="MuxDouble", daemon=True
            )
            self._thread.start()
            self._sender = threading.Thread(target=self._send_loop, name="MuxHooks", daemon=True)
            self._sender.start()
        return self

    def reset(self, webhook_url: str | None = None) -> None:
        with self._lock:
            self.webhook_url = webhook_url
            self.sent.clear()
            self._outbox.clear()
            self.requests.clear()

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._route(request)
        except _ApiError as exc:
            response = _json({"error": {"type": exc.kind, "messages": [exc.message]}}, exc.status)
        self._record(RecordedRequest(request.method, request.path, {}, status=response.status_code))
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[0] == "upload" and len(parts) == 2:
            return self._put_file(request, parts[1])
        self._authorise(request)
        if parts[:3] == ["video", "v1", "uploads"]:
            if len(parts) == 3 and request.method == "POST":
                return self._create_upload(request)
            if len(parts) == 4 and request.method == "GET":
                return _json({"data": self._upload(parts[3])})
        if parts[:3] == ["video", "v1", "assets"] and len(parts) == 4:
            if request.method == "GET":
                return _json({"data": self._asset(parts[3])})
            if request.method == "DELETE":
                with self._lock:
                    self._asset(parts[3])
                    del self.assets[parts[3]]
                return Response(status=204)
        raise _ApiError(404, "not_found", "Not found")

    def _authorise(self, request: Request) -> None:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.token_id, self.token_secret):
            raise _ApiError(401, "unauthorized", "Unauthorized request")

    # -- direct uploads -------------------------------------------------------------------
    def _create_upload(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("new_asset_settings"), dict):
            raise _ApiError(400, "invalid_parameters", "new_asset_settings is required")
        settings = body["new_asset_settings"]
        policies = settings.get("playback_policies") or settings.get("playback_policy") or []
        if not policies or any(p not in ("public", "signed") for p in policies):
            raise _ApiError(400, "invalid_parameters", "playback_policies must be public|signed")
        upload_id = mux_id()
        expires = int(time.time()) + int(body.get("timeout", 3600))
        signature = hmac.new(self._url_key, f"{upload_id}:{expires}".encode(), "sha256")
        upload = {
            "id": upload_id,
            "timeout": int(body.get("timeout", 3600)),
            "status": "waiting",
            "new_asset_settings": settings,
            "cors_origin": body.get("cors_origin", ""),
            "url": f"{self.url}/upload/{upload_id}?Expires={expires}"
            f"&Signature={base64.urlsafe_b64encode(signature.digest()).decode()}",
        }
        with self._lock:
            self.uploads[upload_id] = upload
        return _json({"data": upload}, 201)

    def _upload(self, upload_id: str) -> dict[str, Any]:
        with self._lock:
            upload = self.uploads.get(upload_id)
            if upload is None:
                raise _ApiError(404, "not_found", "Upload not found")
            return dict(upload)

    def _asset(self, asset_id: str) -> dict[str, Any]:
        with self._lock:
            asset = self.assets.get(asset_id)
            if asset is None:
                raise _ApiError(404, "not_found", "Asset not found")
            return dict(asset)

    def _put_file(self, request: Request, upload_id: str) -> Response:
        upload = self._upload(upload_id)
        cors = {"Access-Control-Allow-Origin": upload["cors_origin"] or "*"}
        if request.method == "OPTIONS":
            cors["Access-Control-Allow-Methods"] = "PUT"
            cors["Access-Control-Allow-Headers"] = "Content-Type, Content-Range"
            return Response(status=200, headers=cors)
        expires = request.args.get("Expires", "0")
        expected = hmac.new(self._url_key, f"{upload_id}:{expires}".encode(), "sha256")
        given = base64.urlsafe_b64decode(request.args.get("Signature", "") + "==")
        if not hmac.compare_digest(expected.digest(), given) or int(expires) < time.time():
            raise _ApiError(403, "forbidden", "The upload URL is not valid")
        if request.method != "PUT" or upload["status"] != "waiting":
            raise _ApiError(400, "invalid_request", "This upload does not take a file now")
        data = request.get_data()
        self._make_asset(upload_id, data)
        return Response(status=200, headers=cors)

    # -- assets and their webhooks ----------------------------------------------------------
    def _make_asset(self, upload_id: str, data: bytes) -> None:
        with self._lock:
            upload = self.uploads[upload_id]
            settings = upload["new_asset_settings"]
            policies = settings.get("playback_policies") or settings.get("playback_policy")
            asset_id = mux_id()
            asset: dict[str, Any] = {
                "id": asset_id,
                "created_at": str(int(time.time())),
                "status": "preparing",
                "playback_ids": [{"id": mux_id(), "policy": policies[0]}],
                "upload_id": upload_id,
                "passthrough": settings.get("passthrough"),
                "mp4_support": "none",
                "master_access": "none",
            }
            upload.update(status="asset_created", asset_id=asset_id)
            self.assets[asset_id] = asset
            self.received[upload_id] = data
            self._emit("video.upload.asset_created", "upload", dict(upload))
            self._emit("video.asset.created", "asset", dict(asset))
            if data[4:8] in VIDEO_HEADS or data[:4] == EBML:
                asset.update(
                    status="ready",
                    duration=self.duration_s,
                    tracks=[
                        {"type": "video", "max_width": 1280, "max_height": 720, "id": mux_id()},
                        {"type": "audio", "max_channels": 2, "id": mux_id()},
                    ],
                )
                self._emit("video.asset.ready", "asset", dict(asset))
            else:
                asset.update(
                    status="errored", errors={"type": "invalid_input", "messages": [NOT_A_VIDEO]}
                )
                self._emit("video.asset.errored", "asset", dict(asset))

    def event(self, kind: str, obj_type: str, data: dict[str, Any]) -> Delivery:
        """A signed delivery of an event as Mux sends it (also for tests that forge one)."""
        body = {
            "type": kind,
            "id": str(uuid.uuid4()),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "object": {"type": obj_type, "id": data["id"]},
            "environment": {"name": "Development", "id": "dbl"},
            "data": data,
            "attempts": [],
            "accessor_source": None,
            "accessor": None,
            "request_id": None,
        }
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "Mux-Signature": sign_webhook(self.webhook_secret, raw),
        }
        return Delivery(raw, headers, kind)

    def _emit(self, kind: str, obj_type: str, data: dict[str, Any]) -> None:
        delivery = self.event(kind, obj_type, data)
        self.sent.append(delivery)
        if self.webhook_url:
            self._outbox.append(delivery)
            self._wake.notify()

    def _send_loop(self) -> None:
        """POST queued deliveries in order; a failed one is tried again (3 times, then kept)."""
        while True:
            with self._wake:
                while not self._outbox:
                    self._wake.wait()
                delivery, url = self._outbox[0], self.webhook_url
            for _attempt in range(3):
                try:
                    answer = requests.post(url or "", data=delivery.body, headers=delivery.headers)
                    delivery.status = answer.status_code
                    if answer.ok:
                        break
                except requests.RequestException:
                    delivery.status = None
                time.sleep(0.2)
            with self._lock:
                if self._outbox and self._outbox[0] is delivery:
                    self._outbox.pop(0)

    def wait_delivered(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """The first `count` deliveries once each has had the app's 2xx (AssertionError else)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                done = [d for d in self.sent if d.status is not None and 200 <= d.status < 300]
                if len(done) >= count:
                    return done
            time.sleep(0.05)
        raise AssertionError(f"{count} webhooks not delivered: {[d.status for d in self.sent]}")


class _ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


_MUX = pytest.StashKey[MuxDouble]()


@pytest.fixture(scope="session")
def mux_double(pytestconfig: pytest.Config) -> MuxDouble:
    """The one Mux double of this run (import it into a test module to use it)."""
    return _shared(pytestconfig, _MUX, MuxDouble)
