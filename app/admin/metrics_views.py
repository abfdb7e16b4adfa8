"""GET /metrics in Prometheus format: every process's samples (multiprocess mode) and the RQ
queue depths read at scrape time.

Who may scrape: with METRICS_TOKEN set, only a request with `Authorization: Bearer <token>`
(from any address); without one, only a request from a METRICS_ALLOW network that no proxy
relayed. Behind nginx every visitor's address is the proxy's loopback one, so a relayed request
(X-Forwarded-For, Forwarded, X-Real-IP) never counts as local. Anything else gets a bare 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterable

from flask import current_app, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError

from app.admin import metrics_bp
from app.admin.jobs_console import RQCollector
from app.core.metrics import collect_text, content_type

log = logging.getLogger(__name__)
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _from_allowed_network(remote: str | None, networks: Iterable[str]) -> bool:
    if not remote or any(request.headers.get(h) for h in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def scrape_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
    return _from_allowed_network(request.remote_addr, current_app.config["METRICS_ALLOW"])


@metrics_bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    if not scrape_allowed():
        return "Forbidden\n", 403, {"Content-Type": "text/plain; charset=utf-8"}
    try:
        body = collect_text(RQCollector())
    except RedisError:  # Redis down: the process series still, without the queue depths
        log.warning("event=metrics_queue_depths_unavailable", exc_info=True)
        body = collect_text()
    return body, 200, {"Content-Type": content_type(), "Cache-Control": "no-store"}
