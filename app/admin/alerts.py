"""Alert episodes: opened when a rule's metric crosses its line, resolved when it is back.

`evaluate(now)` measures every rule and opens/updates/resolves episodes (race-safe: the open
episode is inserted with ON CONFLICT DO NOTHING on the partial unique index, and resolved with a
conditional UPDATE). `notify_admins()` then sends what is owed: one "opened" and one "resolved"
email per admin and episode (notify() dedupes on the key `alert:<id>:opened|resolved`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert

from app.accounts.models import Role, User
from app.admin.alert_rules import RULES, RULES_BY_KEY, Rule
from app.admin.models import AlertEpisode
from app.core.models import utcnow
from app.core.urls import absolute_url
from app.extensions import db
from app.notifications.services import notify

RECENT_EPISODES = 50


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


def recent_episodes(limit: int = RECENT_EPISODES) -> list[AlertEpisode]:
    stmt = select(AlertEpisode).order_by(AlertEpisode.started_at.desc(), AlertEpisode.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))


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
