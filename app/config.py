"""Settings from the environment, with development defaults. The only reader of os.environ."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production
DEV_SERVICE_KEY = "dev-service-api-key"  # development only; production sets its own or none
DEV_SERVICE_SECRET = "dev-service-secret"  # noqa: S105 - development only


class ConfigError(RuntimeError):
    """The environment does not describe a startable application."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _networks(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list of addresses or CIDR networks, checked now (a typo would
    otherwise refuse every scrape at request time)."""
    raw = env.get(name, default)
    networks = tuple(n.strip() for n in raw.split(",") if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{name} entry {network!r} is not an address or network") from exc
    return networks


# country:name:rate percent:mode — GST 18% added on top in India, VAT 19% included in Germany.
DEFAULT_TAX_RULES = "IN:GST:18:exclusive,DE:VAT:19:inclusive"


def parse_tax_rules(raw: str) -> dict[str, tuple[str, int, bool]]:
    """'IN:GST:18:exclusive,...' -> {"IN": ("GST", 1800 basis points, inclusive=False)}."""
    rules: dict[str, tuple[str, int, bool]] = {}
    for entry in filter(None, (e.strip() for e in raw.split(","))):
        try:
            country, name, rate, mode = (part.strip() for part in entry.split(":"))
            basis_points = Decimal(rate) * 100
        except (ValueError, ArithmeticError) as exc:
            raise ConfigError(f"TAX_RULES entry {entry!r} is not country:name:rate:mode") from exc
        if mode not in {"inclusive", "exclusive"} or basis_points != int(basis_points):
            raise ConfigError(f"TAX_RULES entry {entry!r}: mode is inclusive or exclusive")
        rules[country.upper()] = (name, int(basis_points), mode == "inclusive")
    return rules


def _pairs(raw: str) -> dict[str, str]:
    """'INR:IN,USD:US' -> {"INR": "IN", "USD": "US"} (keys upper-cased, values as written)."""
    pairs = (item.split(":", 1) for item in raw.split(",") if ":" in item)
    return {k.strip().upper(): v.strip() for k, v in pairs}


def engine_options(env: Mapping[str, str]) -> dict[str, Any]:
    """SQLAlchemy engine settings. No pre-ping: it costs a round trip on every checkout, and a
    dropped connection already fails only the request that meets it (app/core/web.py)."""
    # PostgreSQL's default random_page_cost (4.0) models spinning disks and makes the planner
    # scan every course's TOASTed search vector instead of using the GIN index (bench/search.py).
    cost = _float(env, "DB_RANDOM_PAGE_COST", 1.1)
    # psycopg prepares a statement on its 5th run; a generic plan then skips planning, which
    # for a full-text search (selectivity estimates over every lexeme) cost more than running it.
    plans = env.get("DB_PLAN_CACHE_MODE", "force_generic_plan")
    return {
        "pool_pre_ping": False,
        "pool_size": _int(env, "DB_POOL_SIZE", 5),
        "connect_args": {"options": f"-c random_page_cost={cost} -c plan_cache_mode={plans}"},
    }


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment (and a local .env) plus explicit overrides."""
    load_dotenv(ROOT / ".env", override=False)
    env: Mapping[str, str] = os.environ
    app_env = env.get("APP_ENV", "development").strip().lower()
    instance = Path(env.get("INSTANCE_PATH") or ROOT / "instance").resolve()
    production = app_env == "production"
    cfg: dict[str, Any] = {
        "APP_ENV": app_env,
        "SITE_NAME": env.get("SITE_NAME", "Coursefront"),
        "SECRET_KEY": env.get("SECRET_KEY") or (None if production else DEV_SECRET_KEY),
        "DATABASE_URL": env.get("DATABASE_URL") or None,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "INSTANCE_PATH": str(instance),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        "PORT": _int(env, "PORT", 8000),
        "WEB_CONCURRENCY": _int(env, "WEB_CONCURRENCY", 2),
        "SUPPORTED_CURRENCIES": tuple(
            c.strip().upper() for c in env.get("SUPPORTED_CURRENCIES", "USD,INR").split(",") if c
        ),
        "DEFAULT_CURRENCY": env.get("DEFAULT_CURRENCY", "USD").upper(),
        "CATALOG_PAGE_SIZE": _int(env, "CATALOG_PAGE_SIZE", 12),
        "TAX_RULES": parse_tax_rules(env.get("TAX_RULES", DEFAULT_TAX_RULES)),
        "CURRENCY_COUNTRY": _pairs(env.get("CURRENCY_COUNTRY", "INR:IN,USD:US,EUR:DE")),
        "CART_IDLE_HOURS": _int(env, "CART_IDLE_HOURS", 24),
        "CART_ESTIMATE_TTL": _int(env, "CART_ESTIMATE_TTL", 300),
        # Tutoring: the weights of the assignment's scored factors, the score under which an
        # admin confirms the choice, and how long an assignment waits for a locked row.
        "TUTORING_WEIGHTS": {
            "load": _float(env, "TUTORING_WEIGHT_LOAD", 0.5),
            "slot_fit": _float(env, "TUTORING_WEIGHT_SLOT_FIT", 0.3),
            "distance": _float(env, "TUTORING_WEIGHT_DISTANCE", 0.2),
        },
        "TUTORING_MIN_SCORE": _float(env, "TUTORING_MIN_SCORE", 0.35),
        "TUTORING_LOCK_TIMEOUT_MS": _int(env, "TUTORING_LOCK_TIMEOUT_MS", 5000),
        # JSON API v1 (docs/api.md): access JWTs, refresh tokens, limits, CORS.
        "API_ACCESS_TOKEN_MINUTES": _positive(env, "API_ACCESS_TOKEN_MINUTES", 15),
        "API_REFRESH_TOKEN_DAYS": _positive(env, "API_REFRESH_TOKEN_DAYS", 30),
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "600 per minute"),
        "API_CORS_ORIGINS": _csv(env.get("API_CORS_ORIGINS", "")),
        # Seed 000's service-to-service calls (/internal/...): the key callers send, the HMAC
        # secret they sign with, the services allowed, and how old a signature may be.
        "SERVICE_API_KEY": env.get("SERVICE_API_KEY") or ("" if production else DEV_SERVICE_KEY),
        "SERVICE_SECRET_KEY": env.get("SERVICE_SECRET_KEY")
        or ("" if production else DEV_SERVICE_SECRET),
        "SERVICE_IDS": _csv(env.get("SERVICE_IDS", "payment-service,course-service")),
        "SERVICE_SIGNATURE_WINDOW": _positive(env, "SERVICE_SIGNATURE_WINDOW", 300),
        # Flask and extensions
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(env),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # The remember cookie and its login session row end together (app/accounts/sessions.py).
        "REMEMBER_COOKIE_DURATION": timedelta(days=_positive(env, "REMEMBER_COOKIE_DAYS", 30)),
        # A login without "keep me signed in" ends after this long without a request.
        "SESSION_IDLE": timedelta(hours=_positive(env, "SESSION_IDLE_HOURS", 24)),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead; long forms must not expire
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "cf-limits",
        # Redis down: count limits in this process's memory (warning logged), never a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Every Redis client gives up after this long: a dead or frozen Redis costs ~1 s.
        "REDIS_SOCKET_CONNECT_TIMEOUT": _float(env, "REDIS_SOCKET_CONNECT_TIMEOUT", 1.0),
        "REDIS_SOCKET_TIMEOUT": _float(env, "REDIS_SOCKET_TIMEOUT", 1.0),
        "LOGIN_RATE_LIMIT_IP": env.get("LOGIN_RATE_LIMIT_IP", "20 per minute"),
        "LOGIN_RATE_LIMIT_ACCOUNT": env.get("LOGIN_RATE_LIMIT_ACCOUNT", "5 per minute"),
        "REGISTER_RATE_LIMIT_IP": env.get("REGISTER_RATE_LIMIT_IP", "10 per hour"),
        # Password reset and email verification links (app/accounts/tokens.py).
        "PASSWORD_RESET_HOURS": _positive(env, "PASSWORD_RESET_HOURS", 1),
        "EMAIL_VERIFY_HOURS": _positive(env, "EMAIL_VERIFY_HOURS", 48),
        "RESET_RATE_LIMIT_IP": env.get("RESET_RATE_LIMIT_IP", "10 per hour"),
        "RESET_RATE_LIMIT_ACCOUNT": env.get("RESET_RATE_LIMIT_ACCOUNT", "3 per hour"),
        "VERIFY_RESEND_RATE_LIMIT": env.get("VERIFY_RESEND_RATE_LIMIT", "3 per hour"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WORKER_MAINTENANCE_INTERVAL": _int(env, "WORKER_MAINTENANCE_INTERVAL", 60),
        "RQ_LOG_LEVEL": env.get("RQ_LOG_LEVEL", "WARNING").upper(),
        "WORKER_JOB_MONITORING_INTERVAL": _int(env, "WORKER_JOB_MONITORING_INTERVAL", 10),
        # `python worker.py` runs this many worker processes (0: one per CPU core, at least 2),
        # the first WORKER_CRITICAL_PROCESSES of them on the critical queue alone.
        "WORKER_PROCESSES": _int(env, "WORKER_PROCESSES", 0),
        "WORKER_CRITICAL_PROCESSES": _int(env, "WORKER_CRITICAL_PROCESSES", 1),
        # The queues one worker process takes jobs from, highest priority first.
        "WORKER_QUEUES": tuple(
            q.strip()
            for q in env.get("WORKER_QUEUES", "critical,default,media,low").split(",")
            if q.strip()
        ),
        # How long a stopping worker may finish its current job before it is killed.
        "WORKER_STOP_TIMEOUT": _float(env, "WORKER_STOP_TIMEOUT", 30.0),
        # A job still running this long after its timeout (JobTimeoutException did not end
        # it) kills its worker process, which the pool replaces (app/jobs/timeouts.py).
        "WORKER_HARD_TIMEOUT_GRACE": _float(env, "WORKER_HARD_TIMEOUT_GRACE", 30.0),
        "PUBLIC_URL": env.get("PUBLIC_URL", "").rstrip("/"),
        # Payments
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "RAZORPAY_KEY_ID": env.get("RAZORPAY_KEY_ID", ""),
        "RAZORPAY_KEY_SECRET": env.get("RAZORPAY_KEY_SECRET", ""),
        "RAZORPAY_WEBHOOK_SECRET": env.get("RAZORPAY_WEBHOOK_SECRET", ""),
        "RAZORPAY_API_BASE": env.get("RAZORPAY_API_BASE", ""),
        "RAZORPAY_CHECKOUT_JS": env.get(
            "RAZORPAY_CHECKOUT_JS", "https://checkout.razorpay.com/v1/checkout.js"
        ),
        "PAYMENT_PROVIDERS": _pairs(env.get("PAYMENT_PROVIDERS", "USD:stripe,INR:razorpay")),
        "PAYMENT_SESSION_MINUTES": _int(env, "PAYMENT_SESSION_MINUTES", 60),
        "SANDBOX_PAYMENTS": env.get("SANDBOX_PAYMENTS", "auto").lower(),
        "REFUND_WINDOW_DAYS": _int(env, "REFUND_WINDOW_DAYS", 14),
        "REFUND_MAX_PROGRESS": _int(env, "REFUND_MAX_PROGRESS", 30),
        # The seller the receipts and invoices name (app/checkout/invoices.py). SELLER_STATE is
        # the GST state code (two digits, "29" Karnataka): INR buyers in it pay CGST + SGST,
        # others IGST. Invoice numbers read "<INVOICE_PREFIX>-<year>-<000001>", gap-free.
        "SELLER_NAME": env.get("SELLER_NAME", "Coursefront Learning Pvt. Ltd."),
        "SELLER_ADDRESS": env.get(
            "SELLER_ADDRESS", "12 MG Road, Bengaluru 560001, Karnataka, India"
        ),
        "SELLER_TAX_ID": env.get("SELLER_TAX_ID", "29ABCDE1234F1Z5"),
        "SELLER_STATE": env.get("SELLER_STATE", "29"),
        "SELLER_EMAIL": env.get("SELLER_EMAIL", "billing@coursefront.test"),
        "INVOICE_PREFIX": env.get("INVOICE_PREFIX", "CF"),
        "CREDIT_NOTE_PREFIX": env.get("CREDIT_NOTE_PREFIX", "CN"),
        # Learner progress (app/learning/progress.py): a heartbeat is credited at most the wall
        # time since the previous one plus this share of it (timers and networks jitter: 7 %
        # of a 15 s beat is 1 s); a lecture is done at LECTURE_DONE_PERCENT watched.
        "HEARTBEAT_ALLOWANCE_PERCENT": _int(env, "HEARTBEAT_ALLOWANCE_PERCENT", 7),
        "LECTURE_DONE_PERCENT": _int(env, "LECTURE_DONE_PERCENT", 90),
        # Access periods: the notice that access ends goes out this many days before.
        "ACCESS_NOTICE_DAYS": _positive(env, "ACCESS_NOTICE_DAYS", 7),
        # Prometheus (/metrics): every process writes its samples under METRICS_DIR
        # (prometheus_client multiprocess mode); a scrape needs METRICS_TOKEN as a bearer token
        # when one is set, else must come from a METRICS_ALLOW network.
        "METRICS_DIR": str(Path(env.get("METRICS_DIR") or instance / "metrics").resolve()),
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "METRICS_ALLOW": _networks(env, "METRICS_ALLOW", "127.0.0.1/32,::1/128"),
        # Media storage and uploads (app/media/storage): local directory or an S3 bucket
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local").strip().lower(),
        "MEDIA_ROOT": str(Path(env.get("MEDIA_ROOT") or instance / "media").resolve()),
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_REGION": env.get("S3_REGION", ""),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),  # MinIO and other S3-compatibles
        # Set when nginx serves local media: the app answers with X-Accel-Redirect to it.
        "MEDIA_X_ACCEL_PREFIX": env.get("MEDIA_X_ACCEL_PREFIX", "").rstrip("/"),
        "MEDIA_MAX_UPLOAD_BYTES": _positive(env, "MEDIA_MAX_UPLOAD_BYTES", 5 * 1024**3),
        # Lecture attachments (PDF, zip) posted through the studio's form.
        "MEDIA_MAX_ATTACHMENT_BYTES": _positive(env, "MEDIA_MAX_ATTACHMENT_BYTES", 100 * 1024**2),
        # How long a part's upload URL works (a slow connection must finish a part within it).
        "MEDIA_UPLOAD_URL_SECONDS": _positive(env, "MEDIA_UPLOAD_URL_SECONDS", 3600),
        # How long a signed media URL (a segment, a thumbnail) works.
        "MEDIA_SIGNED_URL_SECONDS": _positive(env, "MEDIA_SIGNED_URL_SECONDS", 300),
        "MEDIA_STALE_UPLOAD_HOURS": _positive(env, "MEDIA_STALE_UPLOAD_HOURS", 24),
        "MEDIA_JOB_TIMEOUT": _positive(env, "MEDIA_JOB_TIMEOUT", 4 * 3600),
        "MEDIA_ORIGIN": media_origin(env),
        # Mux (app/media/mux.py): with a token, Mux takes uploads and processing; else ffmpeg.
        "MUX_TOKEN_ID": env.get("MUX_TOKEN_ID", ""),
        "MUX_TOKEN_SECRET": env.get("MUX_TOKEN_SECRET", ""),
        "MUX_WEBHOOK_SECRET": env.get("MUX_WEBHOOK_SECRET", ""),
        "MUX_API_URL": env.get("MUX_API_URL", "https://api.mux.com").rstrip("/"),
        # A signing key (id and base64 PEM, as Mux gives them): signed playback; else public.
        "MUX_SIGNING_KEY_ID": env.get("MUX_SIGNING_KEY_ID", ""),
        "MUX_SIGNING_KEY_PRIVATE": env.get("MUX_SIGNING_KEY_PRIVATE", ""),
        "MUX_WEBHOOK_TOLERANCE_SECONDS": _positive(env, "MUX_WEBHOOK_TOLERANCE_SECONDS", 300),
        # A path or a name on PATH; empty: PATH's ffmpeg, else the one imageio-ffmpeg ships.
        "FFMPEG_BINARY": env.get("FFMPEG_BINARY", "").strip(),
        # Mail
        "SMTP_URL": env.get("SMTP_URL", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Coursefront <no-reply@coursefront.local>"),
    }
    if overrides:
        cfg.update(overrides)
    check_config(cfg)
    return cfg


def check_config(cfg: Mapping[str, Any]) -> None:
    """Refuse to start production on missing settings or development secrets."""
    check_media_config(cfg)
    if cfg["APP_ENV"] != "production":
        return
    missing = [k for k in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not cfg.get(k)]
    if missing:
        raise ConfigError(f"APP_ENV=production needs {', '.join(missing)} to be set")
    if cfg["SECRET_KEY"] == DEV_SECRET_KEY or len(str(cfg["SECRET_KEY"])) < 32:
        raise ConfigError("APP_ENV=production needs a random SECRET_KEY of at least 32 characters")
    if cfg.get("SANDBOX_PAYMENTS") == "on":
        raise ConfigError("The sandbox payment provider is refused when APP_ENV=production")


# Where browsers reach Mux: uploads are PUT to its storage, hls.js and <img> read from it.
MUX_ORIGINS = "https://storage.googleapis.com https://stream.mux.com https://image.mux.com"


def media_origin(env: Mapping[str, str]) -> str:
    """Where browsers reach media directly (the S3 bucket, Mux), for the CSP; "" when it is us."""
    bucket = _bucket_origin(env)
    if env.get("MUX_TOKEN_ID", ""):
        return f"{bucket} {MUX_ORIGINS}".strip()
    return bucket


def _bucket_origin(env: Mapping[str, str]) -> str:
    if env.get("STORAGE_BACKEND", "local").strip().lower() != "s3":
        return ""
    endpoint = env.get("S3_ENDPOINT_URL", "")
    if endpoint:
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{parts.netloc}"
    region = env.get("S3_REGION", "")
    host = f"s3.{region}.amazonaws.com" if region else "s3.amazonaws.com"
    return f"https://{env.get('S3_BUCKET', '')}.{host}"


def check_media_config(cfg: Mapping[str, Any]) -> None:
    """A storage backend that cannot work is refused at start, in every environment."""
    backend = cfg.get("STORAGE_BACKEND", "local")
    if backend not in {"local", "s3"}:
        raise ConfigError(f"STORAGE_BACKEND must be local or s3, got {backend!r}")
    if backend == "s3" and not cfg.get("S3_BUCKET"):
        raise ConfigError("STORAGE_BACKEND=s3 needs S3_BUCKET to be set")
    mux_secrets = cfg.get("MUX_TOKEN_SECRET") and cfg.get("MUX_WEBHOOK_SECRET")
    if cfg.get("MUX_TOKEN_ID") and not mux_secrets:
        raise ConfigError("MUX_TOKEN_ID needs MUX_TOKEN_SECRET and MUX_WEBHOOK_SECRET to be set")


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a process started by `flask dev`, plus the given variables."""
    env = dict(os.environ)
    env.update(extra)
    return env
