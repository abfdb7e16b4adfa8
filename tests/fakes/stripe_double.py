"""A local Stripe the real `stripe` SDK can talk to over HTTP.

Checkout Sessions are implemented here (localstripe has none); PaymentIntents, Charges and
Refunds are proxied to a localstripe subprocess. Every POST honours `Idempotency-Key`.

Where localstripe strays from Stripe, the proxy patches the response or refuses the request
the way Stripe would:
- refunds above what is left on the charge are accepted by localstripe: refused here (400);
- a refund on a PaymentIntent with no charge crashes localstripe (500): refused here (400);
- `reason` on a refund is rejected by localstripe: it is validated, kept here, and echoed;
- `latest_charge` is a nested object and the long-removed `charges` list is present:
  `latest_charge` becomes an id unless expanded, `charges` is dropped;
- `amount_received`, `amount_capturable` (PaymentIntent) and `amount_captured` (Charge) are
  missing: they are derived;
- a declined card is a 402 `invalid_request_error`: it becomes a `card_error`;
- localstripe does not copy a PaymentIntent's metadata to its charge: `complete_session` does.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import http.client
import json
import re
import secrets
import select
import string
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

import stripe
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 24) -> str:
    """An object id in the providers' style: a prefix and random base62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


# --------------------------------------------------------------------------------------------
# Shared plumbing: request records and a WSGI app served from a background thread.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One API call the double answered, for test assertions."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None = None
    status: int = 0
    replayed: bool = False


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without the access log on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing: tests assert on `requests` instead."""


class WsgiDouble:
    """A WSGI app on 127.0.0.1 (ephemeral port) in a daemon thread, recording its requests."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the running double, e.g. http://127.0.0.1:43125."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        """Start serving; returns self so `Double().start()` chains."""
        if self._server is None:
            self._server = make_server(
                "127.0.0.1", 0, self.wsgi_app, threaded=True, request_handler=_QuietHandler
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=type(self).__name__, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def count(self, method: str, path_prefix: str) -> int:
        """How many recorded requests used `method` on a path starting with `path_prefix`."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.method == method.upper() and r.path.startswith(path_prefix)
            )

    def clear_requests(self) -> None:
        """Forget the recorded requests (state is kept)."""
        with self._lock:
            self.requests.clear()

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(record)

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """The WSGI entry point."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Stripe's form encoding: `a[b][0][c]=v` and `a[]=v`.
# --------------------------------------------------------------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A form key that Stripe's bracket notation cannot make sense of."""


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn bracket-notation pairs into nested dicts, and digit-keyed dicts into lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise FormError(f"Invalid parameter name: {key}")
        parts = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = part or str(len(node))  # `a[]` appends
            if depth == len(parts) - 1:
                if isinstance(node.get(name), dict):
                    raise FormError(f"Invalid parameter: {key} is both a value and a hash")
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise FormError(f"Invalid parameter: {key} is both a value and a hash")
                node = child
    converted = _listify(root)
    assert isinstance(converted, dict)
    return converted


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def flatten_form(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The inverse of `parse_form`, encoding values the way the Stripe SDK does."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs.extend(flatten_form(value, name))
        elif isinstance(value, list | tuple):
            pairs.extend(flatten_form({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


# --------------------------------------------------------------------------------------------
# Errors and replies.
# --------------------------------------------------------------------------------------------


class StripeApiError(Exception):
    """An error Stripe would answer with: `{"error": {"type", "message", "code", "param"}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(param: str) -> StripeApiError:
    """Stripe's error for an absent required parameter."""
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj: Any) -> _Reply:
        return cls(status, (json.dumps(obj, indent=2) + "\n").encode())


def _integer(value: Any, param: str, minimum: int | None = None) -> int:
    """Stripe's integer parameters arrive as strings."""
    try:
        number = int(str(value))
    except ValueError:
        raise StripeApiError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        ) from None
    if minimum is not None and number < minimum:
        raise StripeApiError(
            400,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=param,
        )
    return number


def _mapping(value: Any, param: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StripeApiError(400, "Invalid object", code="parameter_invalid_object", param=param)
    return value


def _metadata(value: Any, param: str) -> dict[str, str]:
    """Stripe's metadata rules: up to 50 keys of at most 40 chars, values of at most 500."""
    metadata = _mapping(value, param)
    if len(metadata) > 50:
        raise StripeApiError(400, "Metadata can have at most 50 keys.", param=param)
    for key, item in metadata.items():
        if not isinstance(item, str):
            raise StripeApiError(400, "Invalid string", param=f"{param}[{key}]")
        if len(key) > 40:
            raise StripeApiError(
                400, f"Metadata key is too long: {key} (max 40 characters)", param=param
            )
        if len(item) > 500:
            raise StripeApiError(
                400, "Metadata values can have up to 500 characters", param=f"{param}[{key}]"
            )
    return dict(metadata)


_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "inr": "₹"}
_ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                 "vnd", "vuv", "xaf", "xof", "xpf"}  # fmt: skip


def _money(amount: int, currency: str) -> str:
    text = str(amount) if currency in _ZERO_DECIMAL else f"{amount / 100:.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


# --------------------------------------------------------------------------------------------
# localstripe, run as a subprocess.
# --------------------------------------------------------------------------------------------

# localstripe's own aiohttp app, bound to loopback on a port the OS picks (printed on stdout),
# its store kept in memory (the CLI pickles it to a shared /tmp/localstripe.pickle on every
# write), and exiting as soon as our end of its stdin closes, so it cannot outlive the tests.
_LOCALSTRIPE_BOOT = """
import os, socket, sys, threading
from aiohttp import web
from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
web.run_app(server.app, sock=sock, print=None, access_log=None)
"""


def _stop_process(proc: subprocess.Popen[str]) -> None:
    """Close its stdin (it exits by itself), then terminate, then kill."""
    if proc.stdin is not None and not proc.stdin.closed:
        proc.stdin.close()
    for action in (None, proc.terminate, proc.kill):
        if action is not None:
            action()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
        break
    if proc.stdout is not None:
        proc.stdout.close()


class LocalStripe:
    """A localstripe subprocess and a tiny HTTP client for it."""

    AUTH = "Bearer sk_test_localstripe"

    def __init__(self) -> None:
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Launch localstripe and wait until it answers."""
        # Kept open for the life of the process: its stderr, shown if it fails to start.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _LOCALSTRIPE_BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._finalizer = weakref.finalize(self, _stop_process, self._proc)
        deadline = time.monotonic() + timeout
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        line = self._proc.stdout.readline().strip() if ready else ""
        if not line.isdigit():
            self._fail("did not report its port")
        self.port = int(line)
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/v1/balance")
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.05)
        self._fail("did not answer in time")

    def _fail(self, why: str) -> None:
        log = b""
        if self._log is not None:
            self._log.seek(0)
            log = self._log.read()
        self.stop()
        raise RuntimeError(f"localstripe {why}:\n{log.decode(errors='replace')}")

    def stop(self) -> None:
        """Stop the subprocess (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()  # runs _stop_process once
        self._proc = self._finalizer = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One raw HTTP call; returns status and body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {"Authorization": self.AUTH, **(headers or {})}
            if body is not None:
                sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def call(
        self, method: str, path: str, params: Mapping[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """A call with Stripe-encoded params; returns status and decoded JSON."""
        encoded = urlencode(flatten_form(params or {}))
        if method == "GET":
            status, raw = self.request(method, f"{path}?{encoded}" if encoded else path)
        else:
            status, raw = self.request(method, path, encoded.encode())
        return status, json.loads(raw or b"{}")

    def ok(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A call that must succeed (for the test helpers)."""
        status, body = self.call(method, path, params)
        if status >= 400:
            raise RuntimeError(f"localstripe {method} {path} -> {status}: {body}")
        return body


# --------------------------------------------------------------------------------------------
# The Stripe double.
# --------------------------------------------------------------------------------------------

SESSION_PARAMS = frozenset((
    "adaptive_pricing", "after_expiration", "allow_promotion_codes", "automatic_tax",
    "billing_address_collection", "branding_settings", "cancel_url", "client_reference_id",
    "consent_collection", "currency", "custom_fields", "custom_text", "customer",
    "customer_creation", "customer_email", "customer_update", "discounts",
    "excluded_payment_method_types", "expand", "expires_at", "invoice_creation",
    "line_items", "locale", "metadata", "mode", "name_collection", "optional_items",
    "origin_context", "payment_intent_data", "payment_method_collection",
    "payment_method_configuration", "payment_method_data", "payment_method_options",
    "payment_method_types", "permissions", "phone_number_collection",
    "redirect_on_completion", "return_url", "saved_payment_method_options",
    "setup_intent_data", "shipping_address_collection", "shipping_options", "submit_type",
    "subscription_data", "success_url", "tax_id_collection", "ui_mode", "wallet_options",
))  # fmt: skip
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
PROXIED = ("/v1/payment_intents", "/v1/charges", "/v1/refunds")
MIN_LIFETIME, MAX_LIFETIME, CLOCK_SLACK = 30 * 60, 24 * 60 * 60, 10
_API_KEY = re.compile(r"^(sk|rk)_test_\w+$")


@dataclass
class _Session:
    obj: dict[str, Any]
    line_items: list[dict[str, Any]]
    payment_intent_data: dict[str, Any]


@dataclass
class _Stored:
    method: str
    path: str
    params: dict[str, Any]
    reply: _Reply
    request_id: str


class StripeDouble(WsgiDouble):
    """Stripe's API: Checkout Sessions here, PaymentIntents/Charges/Refunds via localstripe."""

    def __init__(self) -> None:
        super().__init__()
        self.localstripe = LocalStripe()
        self._sessions: dict[str, _Session] = {}
        self._idempotent: dict[tuple[str, str], _Stored] = {}
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._refund_reasons: dict[str, str] = {}
        self._routes = Map(
            [
                Rule("/v1/checkout/sessions", methods=["POST"], endpoint="create_session"),
                Rule("/v1/checkout/sessions/<id>", methods=["GET"], endpoint="retrieve_session"),
                Rule("/v1/checkout/sessions/<id>/expire", methods=["POST"], endpoint="expire"),
                Rule("/v1/checkout/sessions/<id>/line_items", methods=["GET"], endpoint="lines"),
            ]
        )

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Start localstripe, then the HTTP double."""
        if self.localstripe.port == 0:
            self.localstripe.start()
        try:
            return super().start()
        except BaseException:
            self.localstripe.stop()
            raise

    def stop(self) -> None:
        """Stop the HTTP double and localstripe."""
        try:
            super().stop()
        finally:
            self.localstripe.stop()
            self.localstripe = LocalStripe()

    def reset(self) -> None:
        """Forget sessions, idempotency keys, recorded requests and localstripe's objects."""
        with self._lock:
            self._sessions.clear()
            self._idempotent.clear()
            self._key_locks.clear()
            self._refund_reasons.clear()
            self.requests.clear()
        self.localstripe.request("DELETE", "/_config/data")

    # ---- WSGI ------------------------------------------------------------------------------

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Authenticate, apply idempotency, dispatch, record."""
        request = Request(environ)
        if request.path.startswith("/pay/"):
            return self._pay_page(request)(environ, start_response)
        request_id = random_id("req_", 14)
        key = request.headers.get("Idempotency-Key") or None
        params: dict[str, Any] = {}
        replayed = False
        try:
            api_key = self._authenticate(request)
            raw = request.get_data() if request.method == "POST" else request.query_string
            params = self._parse(raw)
            if request.method == "POST" and key:
                reply, replayed = self._idempotently(api_key, key, request, params, request_id)
            else:
                reply = self._dispatch(request, params)
        except StripeApiError as exc:
            reply = _Reply.json(exc.status, exc.body())
        self._record(
            RecordedRequest(request.method, request.path, params, key, reply.status, replayed)
        )
        response = Response(reply.body, reply.status, content_type="application/json")
        response.headers["Request-Id"] = request_id
        response.headers["Stripe-Version"] = stripe.api_version
        if key:
            response.headers["Idempotency-Key"] = key
        response.headers.update(reply.headers)
        return response(environ, start_response)

    @staticmethod
    def _authenticate(request: Request) -> str:
        """Stripe's secret-key auth: `Authorization: Bearer sk_test_...` (or Basic, key as user)."""
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        key = credential.strip()
        if scheme.lower() == "basic" and request.authorization is not None:
            key = request.authorization.username or ""
        elif scheme.lower() != "bearer":
            key = ""
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        if not _API_KEY.match(key):
            shown = key[:8] + "*" * 4 + key[-4:] if len(key) > 12 else key
            raise StripeApiError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid")
        return key

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any]:
        try:
            return parse_form(parse_qsl(raw.decode(), keep_blank_values=True))
        except (FormError, UnicodeDecodeError) as exc:
            raise StripeApiError(400, str(exc)) from None

    def _idempotently(
        self, api_key: str, key: str, request: Request, params: dict[str, Any], request_id: str
    ) -> tuple[_Reply, bool]:
        """Stripe's idempotency: replay the first result, refuse the key with other params."""
        scope = (api_key, key)
        with self._lock:
            key_lock = self._key_locks.setdefault(scope, threading.Lock())
        with key_lock:  # a retry arriving mid-flight waits for the first, then replays it
            with self._lock:
                stored = self._idempotent.get(scope)
            if stored is not None:
                if (stored.method, stored.path, stored.params) != (
                    request.method,
                    request.path,
                    params,
                ):
                    raise StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type_="idempotency_error",
                    )
                replay = _Reply(stored.reply.status, stored.reply.body, dict(stored.reply.headers))
                replay.headers["Idempotent-Replayed"] = "true"
                replay.headers["Original-Request"] = stored.request_id
                return replay, True
            reply = self._dispatch(request, params)
            # Like Stripe, save only results of requests that started executing:
            # not validation errors (400), auth/not-found errors or conflicts.
            if reply.status < 400 or reply.status == 402 or reply.status >= 500:
                with self._lock:
                    self._idempotent[scope] = _Stored(
                        request.method, request.path, params, reply, request_id
                    )
            return reply, False

    def _dispatch(self, request: Request, params: dict[str, Any]) -> _Reply:
        if request.path.startswith(PROXIED):
            return self._proxy(request, params)
        adapter = self._routes.bind("localhost")
        try:
            endpoint, args = adapter.match(request.path, method=request.method)
        except Exception:  # werkzeug's NotFound / MethodNotAllowed
            raise StripeApiError(
                404,
                f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            ) from None
        handler: Callable[..., _Reply] = getattr(self, f"_api_{endpoint}")
        return handler(params, **args)

    # ---- Checkout Sessions -----------------------------------------------------------------

    def _api_create_session(self, params: dict[str, Any]) -> _Reply:
        """POST /v1/checkout/sessions."""
        unknown = sorted(set(params) - SESSION_PARAMS)
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )
        mode = params.get("mode")
        if not mode:
            raise missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeApiError(
                400, "Invalid mode: must be one of payment, setup, or subscription", param="mode"
            )
        if mode != "payment":
            raise StripeApiError(
                400, "The Stripe double only implements mode=payment.", param="mode"
            )
        for name in ("success_url", "cancel_url"):
            value = params.get(name)
            if name == "success_url" and not value:
                raise missing(name)
            if value and urlsplit(value).scheme not in ("http", "https"):
                raise StripeApiError(400, "Not a valid URL", code="url_invalid", param=name)
        line_items, currency = self._line_items(params.get("line_items"))
        now = int(time.time())
        expires_at = now + MAX_LIFETIME
        if params.get("expires_at") not in (None, ""):
            expires_at = _integer(params["expires_at"], "expires_at")
            if expires_at < now + MIN_LIFETIME - CLOCK_SLACK:
                raise StripeApiError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
            if expires_at > now + MAX_LIFETIME + CLOCK_SLACK:
                raise StripeApiError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
        reference = params.get("client_reference_id") or None
        if reference is not None and len(reference) > 200:
            raise StripeApiError(
                400,
                "client_reference_id must be at most 200 characters",
                param="client_reference_id",
            )
        email = params.get("customer_email") or None
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise StripeApiError(
                400, f"Invalid email address: {email}", code="email_invalid", param="customer_email"
            )
        metadata = _metadata(params.get("metadata"), "metadata")
        intent_data = _mapping(params.get("payment_intent_data"), "payment_intent_data")
        intent_data["metadata"] = _metadata(
            intent_data.get("metadata"), "payment_intent_data[metadata]"
        )
        total = sum(item["amount_total"] for item in line_items)
        session_id = random_id("cs_test_", 58)
        success_url = params["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        obj: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": total,
            "amount_total": total,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url") or None,
            "client_reference_id": reference,
            "created": now,
            "currency": currency,
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": None,
            "customer_email": email,
            "expires_at": expires_at,
            "invoice": None,
            "livemode": False,
            "locale": params.get("locale") or None,
            "metadata": metadata,
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "payment_status": "unpaid",
            "setup_intent": None,
            "status": "open",
            "submit_type": params.get("submit_type") or None,
            "subscription": None,
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": f"{self.url}/pay/{session_id}",
        }
        with self._lock:
            self._sessions[session_id] = _Session(obj, line_items, intent_data)
        return _Reply.json(200, self._session_view(session_id, params.get("expand")))

    @staticmethod
    def _line_items(value: Any) -> tuple[list[dict[str, Any]], str]:
        """Validate `line_items[i][price_data]...` and build Stripe `item` objects."""
        if not value:
            raise missing("line_items")
        if not isinstance(value, list):
            raise StripeApiError(
                400, "Invalid array", code="parameter_invalid_array", param="line_items"
            )
        items: list[dict[str, Any]] = []
        currency = ""
        for index, line in enumerate(value):
            at = f"line_items[{index}]"
            line = _mapping(line, at)
            if line.get("price"):
                raise StripeApiError(
                    400,
                    f"No such price: '{line['price']}'",
                    code="resource_missing",
                    param=f"{at}[price]",
                )
            data = line.get("price_data")
            if not data:
                raise StripeApiError(
                    400, f"You must specify either `price` or `price_data` in {at}.", param=at
                )
            data = _mapping(data, f"{at}[price_data]")
            if not data.get("currency"):
                raise missing(f"{at}[price_data][currency]")
            line_currency = str(data["currency"]).lower()
            if not re.fullmatch(r"[a-z]{3}", line_currency):
                raise StripeApiError(
                    400, f"Invalid currency: {line_currency}", param=f"{at}[price_data][currency]"
                )
            if currency and line_currency != currency:
                raise StripeApiError(
                    400,
                    "All line items must have the same currency.",
                    param=f"{at}[price_data][currency]",
                )
            currency = line_currency
            product = _mapping(data.get("product_data"), f"{at}[price_data][product_data]")
            if not product and not data.get("product"):
                raise missing(f"{at}[price_data][product_data]")
            if product and not product.get("name"):
                raise missing(f"{at}[price_data][product_data][name]")
            if data.get("unit_amount") in (None, ""):
                raise missing(f"{at}[price_data][unit_amount]")
            unit = _integer(data["unit_amount"], f"{at}[price_data][unit_amount]", minimum=0)
            if line.get("quantity") in (None, ""):
                raise missing(f"{at}[quantity]")
            quantity = _integer(line["quantity"], f"{at}[quantity]", minimum=1)
            name = product.get("name") or None
            items.append(
                {
                    "id": random_id("li_", 24),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": unit * quantity,
                    "amount_tax": 0,
                    "amount_total": unit * quantity,
                    "currency": line_currency,
                    "description": name,
                    "price": {
                        "id": random_id("price_", 24),
                        "object": "price",
                        "active": False,
                        "currency": line_currency,
                        "livemode": False,
                        "product": data.get("product") or random_id("prod_", 14),
                        "type": "one_time",
                        "unit_amount": unit,
                    },
                    "quantity": quantity,
                }
            )
        return items, currency

    def _session(self, session_id: str) -> _Session:
        with self._lock:
            found = self._sessions.get(session_id)
        if found is None:
            raise StripeApiError(
                404,
                f"No such checkout.session: '{session_id}'",
                code="resource_missing",
                param="session",
            )
        return found

    def _session_view(self, session_id: str, expand: Any = None) -> dict[str, Any]:
        """The session object as the API returns it, honouring `expand[]`."""
        session = self._session(session_id)
        with self._lock:
            obj: dict[str, Any] = json.loads(json.dumps(session.obj))
            lines = json.loads(json.dumps(session.line_items))
        for path in expand or []:
            if path == "line_items":
                obj["line_items"] = self._line_list(session_id, lines)
            elif path == "payment_intent" and obj["payment_intent"]:
                status, intent = self.localstripe.call(
                    "GET", f"/v1/payment_intents/{obj['payment_intent']}"
                )
                obj["payment_intent"] = self._modernise(intent, set()) if status == 200 else None
            elif path != "payment_intent":
                raise StripeApiError(
                    400, f"This property cannot be expanded ({path}).", param="expand"
                )
        return obj

    @staticmethod
    def _line_list(session_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    def _api_retrieve_session(self, params: dict[str, Any], id: str) -> _Reply:
        """GET /v1/checkout/sessions/{id}."""
        return _Reply.json(200, self._session_view(id, params.get("expand")))

    def _api_lines(self, params: dict[str, Any], id: str) -> _Reply:
        """GET /v1/checkout/sessions/{id}/line_items."""
        session = self._session(id)
        with self._lock:
            lines = json.loads(json.dumps(session.line_items))
        return _Reply.json(200, self._line_list(id, lines))

    def _api_expire(self, params: dict[str, Any], id: str) -> _Reply:
        """POST /v1/checkout/sessions/{id}/expire: only an open session can be expired."""
        session = self._session(id)
        with self._lock:
            status = session.obj["status"]
            if status != "open":
                raise StripeApiError(
                    400,
                    f'Only Checkout Sessions with a status of "open" can be expired. '
                    f'This Checkout Session has a status of "{status}".',
                )
            session.obj.update(status="expired", url=None)
        return _Reply.json(200, self._session_view(id, params.get("expand")))

    # ---- proxy to localstripe --------------------------------------------------------------

    def _proxy(self, request: Request, params: dict[str, Any]) -> _Reply:
        """PaymentIntents, Charges and Refunds: forwarded to localstripe, answers patched."""
        body: bytes | None = None
        reason: str | None = None
        if request.method == "POST":
            pairs = parse_qsl(request.get_data().decode(), keep_blank_values=True)
            if request.path == "/v1/refunds":
                reason = params.get("reason") or None
                if reason is not None and reason not in REFUND_REASONS:
                    raise StripeApiError(
                        400,
                        "Invalid reason: must be one of duplicate, fraudulent, or "
                        "requested_by_customer",
                        param="reason",
                    )
                left = self._check_refund(params)
                pairs = [(k, v) for k, v in pairs if k != "reason"]
                if left is not None and params.get("amount") in (None, ""):
                    pairs = [(k, v) for k, v in pairs if k != "amount"] + [("amount", str(left))]
            body = urlencode(pairs).encode()
        target = request.full_path if request.query_string else request.path
        headers = {"Authorization": request.headers.get("Authorization", "")}
        status, raw = self.localstripe.request(request.method, target, body, headers)
        try:
            answer = json.loads(raw)
        except ValueError:
            return _Reply(status, raw)
        if status >= 400:
            return _Reply.json(status, self._stripe_error(status, answer, request.path))
        if reason is not None and answer.get("object") == "refund":
            with self._lock:
                self._refund_reasons[answer["id"]] = reason
        return _Reply.json(status, self._modernise(answer, set(params.get("expand") or [])))

    def _check_refund(self, params: dict[str, Any]) -> int | None:
        """What localstripe does not check: a successful charge, and enough left to refund.

        Returns the amount left to refund (localstripe refunds the whole charge when no
        `amount` is given, Stripe what is left), or None when localstripe is to answer a 404.
        """
        if params.get("payment_intent"):
            status, intent = self.localstripe.call(
                "GET", f"/v1/payment_intents/{params['payment_intent']}"
            )
            if status != 200:
                return None  # localstripe answers with its own 404
            charge = intent.get("latest_charge")
            if not isinstance(charge, dict) or charge.get("status") != "succeeded":
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                    "to refund.",
                    param="payment_intent",
                )
        elif params.get("charge"):
            status, charge = self.localstripe.call("GET", f"/v1/charges/{params['charge']}")
            if status != 200:
                return None
        else:
            return None
        left: int = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if params.get("amount") not in (None, ""):
            amount = _integer(params["amount"], "amount", minimum=1)
            if amount > left:
                currency = charge["currency"]
                raise StripeApiError(
                    400,
                    f"Refund amount ({_money(amount, currency)}) is greater than unrefunded "
                    f"amount on charge ({_money(left, currency)})",
                    code="amount_too_large",
                    param="amount",
                )
        return left

    @staticmethod
    def _stripe_error(status: int, answer: dict[str, Any], path: str) -> dict[str, Any]:
        """localstripe's errors in Stripe's words (card errors, missing resources)."""
        error = dict(answer.get("error") or {})
        error.setdefault("type", "invalid_request_error")
        if status == 402:
            error["type"] = "card_error"
        if status == 404:
            error["code"] = "resource_missing"
            parts = path.strip("/").split("/")
            if len(parts) == 3 and error.get("message") == "Not Found":
                error["message"] = f"No such {parts[1].rstrip('s')}: '{parts[2]}'"
                error["param"] = "id"
        return {"error": error}

    def _modernise(self, node: Any, expand: set[str], prefix: str = "") -> Any:
        """Reshape localstripe's objects the way the current Stripe API returns them."""
        if isinstance(node, list):
            return [self._modernise(item, expand, prefix) for item in node]
        if not isinstance(node, dict):
            return node
        if node.get("object") == "list":
            node["data"] = self._modernise(node.get("data") or [], expand, prefix + "data.")
            return node
        for key, value in node.items():
            node[key] = self._modernise(value, expand, f"{prefix}{key}.")
        kind = node.get("object")
        if kind == "payment_intent":
            node.pop("charges", None)
            charge = node.get("latest_charge")
            if isinstance(charge, dict) and f"{prefix}latest_charge" not in expand:
                node["latest_charge"] = charge["id"]
            status = node.get("status")
            node.setdefault("amount_received", node["amount"] if status == "succeeded" else 0)
            node.setdefault(
                "amount_capturable", node["amount"] if status == "requires_capture" else 0
            )
        elif kind == "charge":
            captured = node.get("captured") and node.get("status") == "succeeded"
            node.setdefault("amount_captured", node["amount"] if captured else 0)
        elif kind == "refund":
            with self._lock:
                node.setdefault("reason", self._refund_reasons.get(node["id"]))
        return node

    # ---- the hosted payment page -----------------------------------------------------------

    def _pay_page(self, request: Request) -> Response:
        """A stand-in for checkout.stripe.com: a Pay and a Cancel button."""
        session_id = request.path.removeprefix("/pay/").strip("/")
        with self._lock:
            session = self._sessions.get(session_id)
            obj = dict(session.obj) if session else None
        self._record(RecordedRequest(request.method, request.path, dict(request.form), None))
        if obj is None:
            return Response("No such Checkout Session", 404, content_type="text/plain")
        if request.method == "POST" and obj["status"] == "open":
            if request.form.get("action") == "pay":
                obj = self.complete_session(session_id)
                return Response(status=303, headers={"Location": obj["success_url"]})
            if obj["cancel_url"]:
                return Response(status=303, headers={"Location": obj["cancel_url"]})
        amount = _money(obj["amount_total"], obj["currency"])
        if obj["status"] == "open":
            body = (
                f"<h1>Pay {html.escape(amount)}</h1>"
                f'<form method="post"><button name="action" value="pay">Pay</button>'
                f'<button name="action" value="cancel">Cancel</button></form>'
            )
        else:
            body = f"<h1>This Checkout Session is {html.escape(obj['status'])}.</h1>"
        page = f"<!doctype html><title>Stripe double checkout</title>{body}"
        return Response(page, 200, content_type="text/html; charset=utf-8")

    # ---- test helpers ----------------------------------------------------------------------

    def get_session(self, session_id: str) -> dict[str, Any]:
        """The current Checkout Session object (a copy)."""
        return self._session_view(session_id)

    def complete_session(self, session_id: str, paid: bool = True) -> dict[str, Any]:
        """The customer finishes the hosted page.

        `paid`: a card payment succeeds (a confirmed localstripe PaymentIntent, session
        "complete"/"paid"). Not `paid`: an asynchronous method is still pending (an unconfirmed
        PaymentIntent, session "complete"/"unpaid"); see `settle_async_payment`.
        """
        session = self._session(session_id)
        with self._lock:
            if session.obj["status"] != "open":
                raise ValueError(f"{session_id} is {session.obj['status']}, not open")
            metadata = session.payment_intent_data.get("metadata") or {}
            params: dict[str, Any] = {
                "amount": session.obj["amount_total"],
                "currency": session.obj["currency"],
                "payment_method": "pm_card_visa",
                "metadata": metadata,
            }
            if session.payment_intent_data.get("capture_method"):
                params["capture_method"] = session.payment_intent_data["capture_method"]
            if paid:
                params["confirm"] = True
            intent = self.localstripe.ok("POST", "/v1/payment_intents", params)
            if paid and metadata:  # Stripe copies the PaymentIntent's metadata to its charge
                charge = intent["latest_charge"]["id"]
                self.localstripe.ok("POST", f"/v1/charges/{charge}", {"metadata": metadata})
            session.obj.update(
                status="complete",
                payment_status="paid" if intent["status"] == "succeeded" else "unpaid",
                payment_intent=intent["id"],
                url=None,
                customer_details={
                    "address": None,
                    "email": session.obj["customer_email"],
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
        return self.get_session(session_id)

    def settle_async_payment(self, session_id: str, succeeded: bool = True) -> dict[str, Any]:
        """The pending asynchronous payment of a completed session succeeds or fails."""
        session = self._session(session_id)
        with self._lock:
            intent = session.obj["payment_intent"]
            if session.obj["status"] != "complete" or session.obj["payment_status"] != "unpaid":
                raise ValueError(f"{session_id} has no pending payment")
            if succeeded:
                self.localstripe.ok("POST", f"/v1/payment_intents/{intent}/confirm")
                metadata = session.payment_intent_data.get("metadata") or {}
                if metadata:
                    found = self.localstripe.ok("GET", f"/v1/payment_intents/{intent}")
                    charge = found["latest_charge"]["id"]
                    self.localstripe.ok("POST", f"/v1/charges/{charge}", {"metadata": metadata})
                session.obj["payment_status"] = "paid"
            else:
                self.localstripe.ok("POST", f"/v1/payment_intents/{intent}/cancel")
        return self.get_session(session_id)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """Stripe expires an open session (its `expires_at` passed)."""
        try:
            session: dict[str, Any] = json.loads(self._api_expire({}, session_id).body)
        except StripeApiError as exc:
            raise ValueError(exc.message) from exc
        return session

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """A PaymentIntent as the API returns it (its `latest_charge` expanded)."""
        intent = self.localstripe.ok("GET", f"/v1/payment_intents/{payment_intent_id}")
        shaped: dict[str, Any] = self._modernise(intent, {"latest_charge"})
        return shaped

    def refund_from_dashboard(
        self, payment_intent_id: str, amount: int | None = None
    ) -> dict[str, Any]:
        """A refund made in the Stripe dashboard; returns the charge as refreshed after it."""
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "amount": amount}
        try:
            left = self._check_refund(params)
        except StripeApiError as exc:
            raise ValueError(exc.message) from exc
        if left is None:
            raise ValueError(f"No such payment_intent: '{payment_intent_id}'")
        params["amount"] = left if amount is None else amount
        self.localstripe.ok("POST", "/v1/refunds", params)
        intent = self.localstripe.ok("GET", f"/v1/payment_intents/{payment_intent_id}")
        charge = self.localstripe.ok("GET", f"/v1/charges/{intent['latest_charge']['id']}")
        shaped: dict[str, Any] = self._modernise(charge, set())
        return shaped

    @staticmethod
    def signed_event(
        event_type: str,
        data_object: Mapping[str, Any],
        secret: str,
        event_id: str | None = None,
        created: int | None = None,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook delivery: the Event JSON and headers with a `Stripe-Signature`.

        The signature is `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<payload>")>`.
        """
        now = int(time.time())
        event = {
            "id": event_id or random_id("evt_", 24),
            "object": "event",
            "api_version": stripe.api_version,
            "created": created if created is not None else now,
            "data": {"object": dict(data_object)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        payload = json.dumps(event, indent=2)
        signed_at = timestamp if timestamp is not None else now
        mac = hmac.new(secret.encode(), f"{signed_at}.{payload}".encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={signed_at},v1={mac.hexdigest()}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return payload.encode(), headers
