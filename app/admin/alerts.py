"""Alert episodes: opened when a rule's metric crosses its line, resolved when it is back.

`evaluate(now)` measures every rule and opens/updates/resolves episodes (race-safe: the open
episode is inserted with ON CONFLICT DO NOTHING on the partial unique index, and resolved with a
conditional UPDATE). `notify_admins()` then sends what is owed: one "opened" and one "resolved"
email per admin and episode (notify() dedupes on the key `alert:<id>:opened|resolved`).
The console lists past episodes by rule and state, a page at a time or as CSV.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from app.accounts.models import Role, User
from app.admin.alert_rules import RULES, RULES_BY_KEY, Rule
from app.admin.models import AlertEpisode
from app.admin.web import CSV_LIMIT, ListArgs
from app.core.models import utcnow
from app.core.pagination import Page, paginate_scalars
from app.core.urls import absolute_url
from app.extensions import db
from app.notifications.services import notify

RULE_CHOICES = tuple((rule.key, rule.title) for rule in RULES)
EPISODE_STATES = (("open", "Open"), ("resolved", "Resolved"))


@dataclass(frozen=True)
class OpenAlert:
    title: str
    summary: str


@dataclass(frozen=True)
class RuleState:
    rule: Rule
    value: float | None
    episode: AlertEpisode | None

    @property
    def breached(self) -> bool:
        return self.rule.breached(self.value)


def open_alerts() -> list[OpenAlert]:
    """The open episodes, for the console's banner: one query."""
    stmt = select(AlertEpisode).where(AlertEpisode.resolved_at.is_(None))
    episodes = db.session.scalars(stmt.order_by(AlertEpisode.started_at)).all()
    return [_open_alert(episode) for episode in episodes]


def _open_alert(episode: AlertEpisode) -> OpenAlert:
    rule = RULES_BY_KEY.get(episode.key)
    if rule is None:
        return OpenAlert(episode.key, f"{episode.last_value:g}")
    return OpenAlert(rule.title, rule.describe(episode.last_value))


def rule_states(now: datetime | None = None) -> list[RuleState]:
    """Every rule measured now, with its open episode if any."""
    now = now or utcnow()
    stmt = select(AlertEpisode).where(AlertEpisode.resolved_at.is_(None))
    open_by_key = {episode.key: episode for episode in db.session.scalars(stmt)}
    return [RuleState(r, r.measure(now), open_by_key.get(r.key)) for r in RULES]


def _text_filter(q: str) -> Any:
    """Episodes of the rules whose title or key holds q (a retired rule's key matches too)."""
    needle = q.lower()
    keys = [r.key for r in RULES if needle in r.title.lower() or needle in r.key]
    return or_(AlertEpisode.key.in_(keys), AlertEpisode.key.ilike(f"%{q}%"))


def episode_statement(args: ListArgs) -> Select[Any]:
    """Episodes, latest opened first; filters: q, rule (its key), state, the opening dates."""
    stmt = select(AlertEpisode).order_by(AlertEpisode.started_at.desc(), AlertEpisode.id.desc())
    if args.q:
        stmt = stmt.where(_text_filter(args.q))
    if args.get("rule"):
        stmt = stmt.where(AlertEpisode.key == args.get("rule"))
    if args.get("state") == "open":
        stmt = stmt.where(AlertEpisode.resolved_at.is_(None))
    elif args.get("state") == "resolved":
        stmt = stmt.where(AlertEpisode.resolved_at.is_not(None))
    if args.start:
        stmt = stmt.where(AlertEpisode.started_at >= args.start)
    if args.end:
        stmt = stmt.where(AlertEpisode.started_at < args.end)
    return stmt


def list_episodes(args: ListArgs, per_page: int) -> Page[AlertEpisode]:
    """One page of episodes: a count query and a page query."""
    return paginate_scalars(db.session, episode_statement(args), args.page, per_page)


EPISODE_CSV_HEADER = (
    "rule",
    "title",
    "opened",
    "resolved",
    "value at open",
    "last value",
    "threshold",
    "unit",
    "last checked",
)


def episode_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    """The episodes the filters match; the threshold is the one in force when each opened."""
    for episode in db.session.scalars(episode_statement(args).limit(CSV_LIMIT)):
        rule = RULES_BY_KEY.get(episode.key)
        yield (
            episode.key,
            rule.title if rule else "",
            episode.started_at.isoformat(),
            episode.resolved_at.isoformat() if episode.resolved_at else "",
            f"{episode.first_value:g}",
            f"{episode.last_value:g}",
            f"{episode.threshold:g}",
            rule.unit if rule else "",
            episode.last_checked_at.isoformat(),
        )


def evaluate(now: datetime | None = None) -> list[RuleState]:
    """Measure every rule and open, update or resolve its episode. The caller commits."""
    now = now or utcnow()
    states = []
    for rule in RULES:
        value = rule.measure(now)
        if rule.breached(value):
            assert value is not None
            episode: AlertEpisode | None = _open_or_update(rule, value, now)
        else:
            episode = None
            _resolve(rule, value, now)
        states.append(RuleState(rule, value, episode))
    return states


def _open_or_update(rule: Rule, value: float, now: datetime) -> AlertEpisode:
    stmt = (
        insert(AlertEpisode)
        .values(
            key=rule.key,
            started_at=now,
            threshold=rule.threshold,
            first_value=value,
            last_value=value,
            last_checked_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"], index_where=text("resolved_at IS NULL"))
    )
    db.session.execute(stmt)
    episode = db.session.scalars(
        select(AlertEpisode)
        .where(AlertEpisode.key == rule.key, AlertEpisode.resolved_at.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    episode.last_value, episode.last_checked_at = value, now
    return episode


def _resolve(rule: Rule, value: float | None, now: datetime) -> None:
    """Close the open episode when the value is measured and back under the line.

    Too few samples (None) decide nothing: an open episode stays open until a measurement."""
    if value is None:
        return
    db.session.execute(
        update(AlertEpisode)
        .where(AlertEpisode.key == rule.key, AlertEpisode.resolved_at.is_(None))
        .values(resolved_at=now, last_value=value, last_checked_at=now)
        .execution_options(synchronize_session=False)
    )


def pending_notices() -> list[tuple[int, str]]:
    """(episode id, "opened"|"resolved") for every episode whose emails are not all sent."""
    opened = select(AlertEpisode.id).where(AlertEpisode.notified_at.is_(None))
    resolved = select(AlertEpisode.id).where(
        AlertEpisode.resolved_at.is_not(None), AlertEpisode.resolved_notified_at.is_(None)
    )
    return [(i, "opened") for i in db.session.scalars(opened.order_by(AlertEpisode.id))] + [
        (i, "resolved") for i in db.session.scalars(resolved.order_by(AlertEpisode.id))
    ]


def notify_admins(episode_id: int, notice: str) -> int:
    """Email every active admin about one episode's opening or resolution; the caller commits.

    Returns the emails sent now (0 when another run already sent them)."""
    episode = db.session.scalars(
        select(AlertEpisode).where(AlertEpisode.id == episode_id).with_for_update()
    ).one()
    done = episode.notified_at if notice == "opened" else episode.resolved_notified_at
    if done is not None:
        return 0
    rule = RULES_BY_KEY.get(episode.key)
    admins = db.session.scalars(
        select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()
    link = absolute_url("admin.alert_list")
    title, key, template = (
        rule.title if rule else episode.key,
        f"alert:{episode.id}:{notice}",
        f"admin/alert_{notice}",
    )
    sent = 0
    for admin in admins:
        made = notify(admin, key, template, link=link, episode=episode, rule=rule, title=title)
        sent += made is not None
    if notice == "opened":
        episode.notified_at = utcnow()
    else:
        episode.resolved_notified_at = utcnow()
    return sent
