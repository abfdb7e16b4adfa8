"""Coursefront: create_app wires config, extensions, blueprints, CLI and error handlers."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app import embedded
from app.config import ROOT, load_config
from app.core.metrics import init_metrics
from app.extensions import (
    csrf,
    db,
    htmx,
    init_redis,
    limiter,
    limits_storage_uri,
    login_manager,
)

# Domain packages with views, in DESIGN.md's import order.
DOMAINS = (
    "accounts",
    "notifications",
    "catalog",
    "media",
    "learning",
    "tutoring",
    "teaching",
    "cart",
    "checkout",
    "payments",
)
ENTRY_PACKAGES = ("admin", "api")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    cfg = load_config(config)
    app = Flask(
        __name__,
        instance_path=cfg["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(cfg)
    init_metrics(app)  # before any metric exists: prometheus_client reads the directory once
    _connect_services(app)
    _init_extensions(app)
    _import_models()
    _register_blueprints(app)
    if app.config.get("CLI", True):  # a web server process leaves the commands out
        _register_cli(app)
    return app


def _connect_services(app: Flask) -> None:
    """Use DATABASE_URL and REDIS_URL, or start embedded servers for development."""
    instance = Path(app.config["INSTANCE_PATH"])
    url = app.config["DATABASE_URL"] or embedded.start_postgres(instance / "postgres")
    app.config["DATABASE_URL"] = embedded.normalise_database_url(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["REDIS_URL"] = app.config["REDIS_URL"] or embedded.start_redis(instance / "redis")
    app.config.setdefault("RATELIMIT_STORAGE_URI", limits_storage_uri(app.config["REDIS_URL"]))


def _init_extensions(app: Flask) -> None:
    from app.core.logging import init_request_logging, setup_logging
    from app.core.shared_cache import install_cache_hooks
    from app.core.web import init_web
    from app.jobs.queues import install_session_hooks

    setup_logging(app.config["LOG_LEVEL"])
    db.init_app(app)
    if app.config.get("CLI", True):
        from flask_migrate import Migrate  # Alembic and Mako: ~11 MB, for the CLI and tests

        Migrate(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    init_redis(app)
    init_request_logging(app)
    init_web(app)
    install_session_hooks()
    install_cache_hooks()

    from app.accounts.queries import get_session_user

    login_manager.user_loader(get_session_user)


def _import_models() -> None:
    """Every table must be known to SQLAlchemy (and Alembic) before the first query."""
    for name in (*DOMAINS, *ENTRY_PACKAGES):
        if importlib.util.find_spec(f"app.{name}.models") is not None:  # teaching and api have none
            importlib.import_module(f"app.{name}.models")


def _register_blueprints(app: Flask) -> None:
    from app.core.health import bp as ops_bp

    app.register_blueprint(ops_bp)
    for name in (*DOMAINS, *ENTRY_PACKAGES):
        importlib.import_module(f"app.{name}.views")
        package = importlib.import_module(f"app.{name}")
        app.register_blueprint(package.bp)
        for extra in getattr(package, "EXTRA_BLUEPRINTS", ()):  # e.g. /metrics, outside /admin
            app.register_blueprint(extra)
    from app.api.aliases import register_aliases
    from app.api.cors import init_cors

    register_aliases(app)  # after every blueprint: the seeds' paths reuse their view functions
    init_cors(app)


def _register_cli(app: Flask) -> None:
    from app.accounts.cli import users_cli
    from app.cart.cli import coupons_cli, sales_cli
    from app.demo import seed_demo_command
    from app.devserver import dev_command
    from app.payments.cli import orders_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(coupons_cli)
    app.cli.add_command(sales_cli)
    app.cli.add_command(orders_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(dev_command)
