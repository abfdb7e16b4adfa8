"""The seeds' paths as aliases of our routes, so clients written against the seeds work unchanged.

Seed 000 puts each service behind a gateway prefix that the gateway strips (`/api/user/auth/login`
reaches the user service's `/auth/login`); seed 004 serves `/api/payments/...`; seed 002 posts
Razorpay's webhooks to `/api/v1/webhooks/razorpay`. Each alias is a rule on the very view
function of the operation it mirrors, so authentication, validation, per-view rate limits and
the error shape are the same. Aliases are not operations of their own: the OpenAPI document
lists them as `x-aliases` of their target.

The operations' aliases live on a blueprint of their own, "alias" (endpoint
"alias.<bp>__<view>"), because Flask-Limiter applies blueprint limits by `request.blueprint`:
an app-level rule would escape the API's shared per-token budget. The alias blueprint gets that
same shared limit (same scope, same key), so /api/user/... and /api/v1/... spend one budget.
The webhook aliases stay app-level rules (endpoint "alias.payments.webhook"): a provider's
webhook has its own limit and must not spend the API's.

`register_aliases(app)` runs once, after every blueprint is registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from flask import Blueprint, Flask, current_app
from werkzeug.routing import Rule

from app.api.spec import OPERATIONS, Operation
from app.extensions import csrf

ALIAS_BLUEPRINT = "alias"
ALIAS_PREFIX = ALIAS_BLUEPRINT + "."


class SeedPrefix(NamedTuple):
    seed: str  # the seed's prefix, e.g. "/api/user"
    ours: str  # the prefix it stands for, e.g. "/api/v1"
    segments: frozenset[str] | None  # first path segments after `ours` it covers (None: all)


# Order matters: when two operations would claim the same alias, the earlier row wins.
SEED_PREFIXES: tuple[SeedPrefix, ...] = (
    SeedPrefix("/api/user", "/api/v1", frozenset({"auth", "users"})),
    SeedPrefix(
        "/api/course", "/api/v1", frozenset({"courses", "chapters", "lectures", "enrollments"})
    ),
    SeedPrefix("/api/payment", "/api/v1", frozenset({"payments"})),
    SeedPrefix("/api/file", "/api/v1/files", None),
    # Seed 004's payment service: sessions, coupons, enrollments (and its Stripe webhook below).
    SeedPrefix(
        "/api/payments",
        "/api/v1/payments",
        frozenset({"sessions", "coupons", "enrollments", "webhooks"}),
    ),
    SeedPrefix("/api/payments", "/api/v1", frozenset({"sessions", "coupons", "enrollments"})),
)

# Provider webhooks are no operation (the provider signs the raw body; app/payments/views.py):
# the seeds' receiver paths answer the existing `/webhooks/<provider>` view.
WEBHOOK_RULE = "/webhooks/<provider>"
WEBHOOK_ALIASES: tuple[tuple[str, str], ...] = (
    ("/api/v1/webhooks/razorpay", "razorpay"),  # seed 002
    ("/api/payments/webhooks/stripe", "stripe"),  # seed 004
)

_VARIABLE = re.compile(r"<(?:[a-zA-Z_]\w*(?:\([^)]*\))?:)?([a-zA-Z_]\w*)>")


class AliasRow(NamedTuple):
    method: str
    seed_path: str
    our_path: str


def _shape(rule: str) -> str:
    """A rule with its variables blanked: `/a/<int:id>` and `/a/<x>` claim the same paths."""
    return _VARIABLE.sub("<>", rule)


def openapi_path(rule: str) -> str:
    """`/courses/<int:course_id>` → `/courses/{course_id}`."""
    return _VARIABLE.sub(r"{\1}", rule)


def seed_paths(op: Operation) -> list[str]:
    """The alias rules of an operation: from the prefix table, then its explicit extras."""
    found: list[str] = []
    for row in SEED_PREFIXES:
        if not op.path.startswith(row.ours + "/"):
            continue
        rest = op.path[len(row.ours) :]
        first = rest.split("/")[1]
        if row.segments is None or first in row.segments:
            found.append(row.seed + rest)
    found.extend(op.aliases)
    return list(dict.fromkeys(found))


def _taken(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, _shape(rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }


def alias_endpoint(endpoint: str) -> str:
    """The endpoint of an operation's alias rules: "api.auth_me" → "alias.api__auth_me"
    (a blueprint's endpoint names may not contain dots)."""
    return ALIAS_PREFIX + endpoint.replace(".", "__")


def alias_target(endpoint: str) -> str | None:
    """The endpoint an alias rule's endpoint stands for, None for a rule that is no alias."""
    if not endpoint.startswith(ALIAS_PREFIX):
        return None
    rest = endpoint[len(ALIAS_PREFIX) :]
    if "." in rest:  # an app-level webhook alias: "alias.payments.webhook"
        return rest
    return next((op.endpoint for op in OPERATIONS if alias_endpoint(op.endpoint) == endpoint), None)


def register_aliases(app: Flask) -> list[AliasRow]:
    """Add every operation's seed paths (and the webhook paths) as rules of `app`."""
    # Imported here: auth_views imports the api package, which imports this module.
    from app.api.auth_views import api_limit

    if ALIAS_BLUEPRINT in app.blueprints:  # already done for this app
        return []
    alias_bp = Blueprint(ALIAS_BLUEPRINT, __name__)
    taken = _taken(app)
    added: list[AliasRow] = []
    for op in OPERATIONS:
        view = app.view_functions.get(op.endpoint)
        if view is None:  # declared on a blueprint this app does not have
            continue
        for alias in seed_paths(op):
            if (op.method, _shape(alias)) in taken:  # a real route, or claimed by another op
                continue
            alias_bp.add_url_rule(
                alias,
                endpoint=alias_endpoint(op.endpoint)[len(ALIAS_PREFIX) :],
                view_func=view,
                methods=[op.method],
            )
            taken.add((op.method, _shape(alias)))
            added.append(AliasRow(op.method, alias, op.path))
    # The same shared limit object as the api blueprint's: one counter per token for both.
    api_limit(alias_bp)
    csrf.exempt(alias_bp)  # as the api blueprint is
    app.register_blueprint(alias_bp)
    added.extend(_register_webhook_aliases(app, taken))
    return added


def _register_webhook_aliases(app: Flask, taken: set[tuple[str, str]]) -> Iterable[AliasRow]:
    target = next((r for r in app.url_map.iter_rules() if r.rule == WEBHOOK_RULE), None)
    if target is None:
        return []
    view = app.view_functions[target.endpoint]
    # App-level on purpose: for endpoint "alias.payments.webhook" request.blueprint is
    # "alias.payments", a blueprint the app has not, so no blueprint limit (the API's) applies;
    # the view keeps its own webhook limit. app/core/validation.py names this endpoint.
    rows = []
    for path, provider in WEBHOOK_ALIASES:
        if ("POST", path) in taken:
            continue
        app.add_url_rule(
            path,
            endpoint=ALIAS_PREFIX + target.endpoint,
            view_func=view,
            methods=["POST"],
            defaults={"provider": provider},
        )
        taken.add(("POST", path))
        rows.append(AliasRow("POST", path, WEBHOOK_RULE.replace("<provider>", provider)))
    return rows


def alias_rules(app: Flask, endpoint: str) -> list[Rule]:
    """The alias rules registered for one endpoint (its OpenAPI `x-aliases`)."""
    names = {alias_endpoint(endpoint), ALIAS_PREFIX + endpoint}  # operation, webhook
    return [r for r in app.url_map.iter_rules() if r.endpoint in names]


def alias_table(app: Flask | None = None) -> list[tuple[str, str]]:
    """(seed path, our path) rows, e.g. ("POST /api/user/auth/login", "POST /api/v1/auth/login"),
    for the README, from the rules `app` really has."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    rows: list[tuple[str, str]] = []
    by_endpoint = {op.endpoint: op for op in OPERATIONS}
    for rule in app.url_map.iter_rules():
        target = alias_target(rule.endpoint)
        if target is None:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        op = by_endpoint.get(target)
        if op is not None:
            ours = openapi_path(op.path)
        else:  # a webhook alias: the provider is a default of the rule
            provider = (rule.defaults or {}).get("provider", "{provider}")
            ours = WEBHOOK_RULE.replace("<provider>", str(provider))
        for method in methods:
            rows.append((f"{method} {openapi_path(rule.rule)}", f"{method} {ours}"))
    return sorted(rows, key=lambda row: (row[0].split(" ", 1)[1], row[0]))


def alias_markdown(app: Flask | None = None) -> str:
    """The README's mapping table: the prefix rules, then every alias this app answers."""
    lines = [
        "| seed prefix | answers as | for paths starting with |",
        "| --- | --- | --- |",
    ]
    for row in SEED_PREFIXES:
        covered = ", ".join(f"`{s}`" for s in sorted(row.segments)) if row.segments else "any"
        lines.append(f"| `{row.seed}/...` | `{row.ours}/...` | {covered} |")
    for path, provider in WEBHOOK_ALIASES:
        lines.append(f"| `{path}` | `/webhooks/{provider}` | (the provider's webhook) |")
    lines += ["", "| seed path | our path |", "| --- | --- |"]
    lines += [f"| `{seed}` | `{ours}` |" for seed, ours in alias_table(app)]
    return "\n".join(lines) + "\n"
