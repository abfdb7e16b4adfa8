"""Mux Video (https://www.mux.com/docs/api-reference/video): a small HTTP client for direct
uploads and assets, the `Mux-Signature` check for its webhooks, and playback URLs (signed with
a JWT when a signing key is configured, else public playback ids).

No database work here: app/media/mux_events.py applies what Mux says to our rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    import requests

STREAM_URL = "https://stream.mux.com"
IMAGE_URL = "https://image.mux.com"
TIMEOUT_S = 10.0
# Mux's direct upload statuses: the file is still expected, an asset was made, or it ended.
UPLOAD_WAITING, UPLOAD_ASSET_CREATED = "waiting", "asset_created"
UPLOAD_ENDED = frozenset({"errored", "cancelled", "timed_out"})


class MuxError(Exception):
    """Mux refused a request or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BadSignature(Exception):
    """A webhook whose `Mux-Signature` does not verify (or is too old)."""


@dataclass(frozen=True)
class DirectUpload:
    id: str
    url: str
    status: str
    asset_id: str | None = None
    error: str | None = None  # Mux's message when the upload errored


@dataclass(frozen=True)
class Asset:
    id: str
    status: str  # preparing | ready | errored
    playback_id: str | None
    duration_ms: int | None
    width: int | None
    height: int | None
    upload_id: str | None
    passthrough: str | None
    error: str | None  # Mux's messages when it errored


def is_configured(config: Mapping[str, Any] | None = None) -> bool:
    """Mux takes video uploads when a token is set (else local storage and ffmpeg)."""
    cfg = config if config is not None else current_app.config
    return bool(cfg.get("MUX_TOKEN_ID") and cfg.get("MUX_TOKEN_SECRET"))


def signed_playback(config: Mapping[str, Any] | None = None) -> bool:
    """Signed playback ids (JWT tokens) when a signing key is configured, else public ones."""
    cfg = config if config is not None else current_app.config
    return bool(cfg.get("MUX_SIGNING_KEY_ID") and cfg.get("MUX_SIGNING_KEY_PRIVATE"))


# -- the Video API ----------------------------------------------------------------------------
class MuxClient:
    """Basic auth with the access token's id and secret; JSON in, `{"data": ...}` out."""

    def __init__(self, token_id: str, token_secret: str, api_url: str) -> None:
        import requests  # only where Mux is used: most processes never load it

        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (token_id, token_secret)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> MuxClient:
        cfg = config if config is not None else current_app.config
        return cls(cfg["MUX_TOKEN_ID"], cfg["MUX_TOKEN_SECRET"], cfg["MUX_API_URL"])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import requests

        try:
            response = self.session.request(
                method, self.api_url + path, json=body, timeout=TIMEOUT_S
            )
        except requests.RequestException as exc:
            raise MuxError(f"Mux could not be reached: {exc}") from exc
        if response.status_code >= 400:
            raise MuxError(_error_text(response), response.status_code)
        return response.json().get("data") if response.content else None

    def create_upload(
        self, passthrough: str, cors_origin: str, signed: bool, timeout_s: int
    ) -> DirectUpload:
        """A direct upload URL: the browser PUTs the file there, Mux makes an asset of it."""
        body = {
            "new_asset_settings": {
                "playback_policies": ["signed" if signed else "public"],
                "passthrough": passthrough,
            },
            "cors_origin": cors_origin,
            "timeout": max(60, min(timeout_s, 604_800)),  # Mux's bounds
        }
        return upload_from(self._call("POST", "/video/v1/uploads", body))

    def get_upload(self, upload_id: str) -> DirectUpload:
        return upload_from(self._call("GET", f"/video/v1/uploads/{upload_id}"))

    def get_asset(self, asset_id: str) -> Asset:
        return asset_from(self._call("GET", f"/video/v1/assets/{asset_id}"))

    def delete_asset(self, asset_id: str) -> bool:
        """Delete the asset; False when Mux no longer has it (deleting again is fine)."""
        try:
            self._call("DELETE", f"/video/v1/assets/{asset_id}")
        except MuxError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _error_text(response: requests.Response) -> str:
    """Mux's errors: `{"error": {"type": "...", "messages": ["..."]}}`."""
    try:
        error = response.json().get("error") or {}
        messages = "; ".join(error.get("messages") or []) or error.get("type", "")
    except ValueError:
        messages = response.text[:200]
    return f"Mux answered {response.status_code}: {messages}"


def upload_from(data: Mapping[str, Any]) -> DirectUpload:
    """Our reading of a direct upload object (the API's, or a webhook's `data`)."""
    error = data.get("error") or {}
    return DirectUpload(
        id=str(data["id"]),
        url=str(data.get("url") or ""),
        status=str(data.get("status") or ""),
        asset_id=data.get("asset_id"),
        error=error.get("message") if isinstance(error, dict) else None,
    )


def asset_from(data: Mapping[str, Any]) -> Asset:
    """Our reading of an asset object (the API's, or a webhook's `data`)."""
    playback_ids = [p for p in data.get("playback_ids") or [] if isinstance(p, dict)]
    tracks = [t for t in data.get("tracks") or [] if isinstance(t, dict)]
    video: dict[str, Any] = next((t for t in tracks if t.get("type") == "video"), {})
    duration = data.get("duration")
    errors = data.get("errors") or {}
    messages = errors.get("messages") if isinstance(errors, dict) else None
    return Asset(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        playback_id=playback_ids[0].get("id") if playback_ids else None,
        duration_ms=round(float(duration) * 1000) if duration is not None else None,
        width=video.get("max_width"),
        height=video.get("max_height"),
        upload_id=data.get("upload_id"),
        passthrough=data.get("passthrough"),
        error="; ".join(str(m) for m in messages) if messages else None,
    )


# -- webhooks ---------------------------------------------------------------------------------
def sign_webhook(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    """The `Mux-Signature` value for a body: `t=<ts>,v1=<hex hmac-sha256 of "<ts>.<body>">`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + raw_body, hashlib.sha256)
    return f"t={ts},v1={digest.hexdigest()}"


def verify_webhook(
    secret: str, raw_body: bytes, header: str, tolerance_s: int, now: float | None = None
) -> None:
    """BadSignature unless one v1 signature in the header matches and its time is recent."""
    fields = [item.strip().partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in fields if key == "t"]
    signatures = [value for key, _, value in fields if key == "v1"]
    if not secret or len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise BadSignature("Mux-Signature is missing or malformed")
    expected = sign_webhook(secret, raw_body, int(stamps[0])).rpartition("v1=")[2]
    if not any(hmac.compare_digest(expected, s) for s in signatures if s.isascii()):
        raise BadSignature("Mux-Signature does not match the body")
    moment = time.time() if now is None else now
    if abs(moment - int(stamps[0])) > tolerance_s:
        raise BadSignature("Mux-Signature is too old (or from the future)")


def parse_event(raw_body: bytes) -> dict[str, Any]:
    """The verified body as a JSON object (ValueError when it is not one)."""
    payload = json.loads(raw_body)
    if not isinstance(payload, dict):
        raise ValueError("a Mux event is a JSON object")
    return payload


# -- playback ---------------------------------------------------------------------------------
def stream_url(playback_id: str, expires_s: int, config: Mapping[str, Any] | None = None) -> str:
    """The HLS playlist Mux serves for the playback id (with a token when playback is signed)."""
    url = f"{STREAM_URL}/{playback_id}.m3u8"
    token = playback_token(playback_id, "v", expires_s, config)
    return f"{url}?token={token}" if token else url


def thumbnail_url(playback_id: str, expires_s: int, config: Mapping[str, Any] | None = None) -> str:
    url = f"{IMAGE_URL}/{playback_id}/thumbnail.jpg"
    token = playback_token(playback_id, "t", expires_s, config)
    return f"{url}?token={token}" if token else url


def playback_token(
    playback_id: str, audience: str, expires_s: int, config: Mapping[str, Any] | None = None
) -> str | None:
    """Mux's signed-playback JWT (RS256, `sub` the playback id, `aud` v|t, `kid` the signing
    key's id), or None for public playback."""
    cfg = config if config is not None else current_app.config
    if not signed_playback(cfg):
        return None
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header = {"alg": "RS256", "typ": "JWT", "kid": cfg["MUX_SIGNING_KEY_ID"]}
    claims = {"sub": playback_id, "aud": audience, "exp": int(time.time()) + expires_s}
    signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}".encode()
    pem = base64.b64decode(cfg["MUX_SIGNING_KEY_PRIVATE"])  # Mux hands the PEM out base64'd
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MuxError("MUX_SIGNING_KEY_PRIVATE is not an RSA private key")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{_b64(signature)}"


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
