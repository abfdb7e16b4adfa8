"""Choosing a trainer for a tutoring package, with reasons a person can read.

Pure: candidates and the request come in as values, scores and plain-English notes go out; the
caller loads trainers, generates each one's session times and stores the result (issue 13).

Every hard filter is evaluated for every candidate, so an admin looking at a pending allocation
sees each reason a trainer was rejected, not only the first. Qualified candidates then get a
weighted score (load balance, slot fit, distance) and are ranked; ties go to the trainer with
fewer students, then the lower id, so the same inputs always give the same winner."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.tutoring.schedule import Interval, overlaps

__all__ = [
    "Candidate",
    "Factor",
    "Interval",
    "Request",
    "Scored",
    "WeeklySlot",
    "Weights",
    "best",
    "score_candidates",
]

ONLINE, IN_PERSON = "online", "in_person"
FULL_SLACK_MINUTES = 30.0  # this much free time either side of a session is a perfect fit
EARTH_RADIUS_KM = 6371.0088  # mean radius; haversine is well within a postcode's precision here
TOTAL_PLACES = 4  # totals are rounded before ranking so float noise never decides a tie
RANGE_DASH = "\u2013"  # an en dash, as in "Sun 17:00\u201321:00"; escaped for the linter
REPEATED = frozenset({"capacity", "distance"})  # filters whose note a weighted factor repeats
DAY_NAMES = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class WeeklySlot:
    """A trainer's weekly availability, in the trainer's own time zone."""

    weekday: int  # ISO 1=Mon..7=Sun
    start: time
    end: time  # end > start (no slot crosses midnight)

    def __post_init__(self) -> None:
        if not 1 <= self.weekday <= 7 or self.end <= self.start:
            raise ValueError(f"bad weekly slot {self.weekday} {self.start}-{self.end}")

    def label(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.start:%H:%M}{RANGE_DASH}{self.end:%H:%M}"

    def slack(self, local_start: datetime, local_end: datetime) -> float | None:
        """Minutes free on the tighter side of a session given in local wall-clock time, or
        None when the session is not inside this window. Wall clock, not elapsed time: a
        trainer who says 18:00 to 20:00 means that on the clock, whatever the UTC offset."""
        if local_start.date() != local_end.date() or local_start.isoweekday() != self.weekday:
            return None
        before = _minutes(local_start.time()) - _minutes(self.start)
        after = _minutes(self.end) - _minutes(local_end.time())
        return min(before, after) if before >= 0 and after >= 0 else None


@dataclass(frozen=True)
class Candidate:
    trainer_id: int
    name: str
    specialties: frozenset[str]
    gender: str | None  # "female" | "male" | "other" | None
    capacity: int  # max active students
    active_students: int
    timezone: str  # IANA
    weekly: tuple[WeeklySlot, ...]
    busy: tuple[Interval, ...]  # their scheduled sessions and time off (UTC)
    online: bool  # teaches online
    in_person: bool
    location: tuple[float, float] | None  # lat, lon (in-person)
    max_distance_km: float | None  # how far they travel; None = the system default


@dataclass(frozen=True)
class Request:
    specialty: str
    mode: str  # "online" | "in_person"
    location: tuple[float, float] | None  # the student's, for in-person
    gender_preference: str | None
    duration: timedelta

    def __post_init__(self) -> None:
        if self.mode not in (ONLINE, IN_PERSON):
            raise ValueError(f"unknown tutoring mode {self.mode!r}")
        if self.duration <= timedelta(0):
            raise ValueError("a session must last some time")


@dataclass(frozen=True)
class Weights:
    load: float = 0.5
    slot_fit: float = 0.3
    distance: float = 0.2

    def __post_init__(self) -> None:
        # A negative or all-zero weighting has no meaning and would divide by zero.
        values = (self.load, self.slot_fit, self.distance)
        if min(values) < 0 or sum(values) <= 0:
            raise ValueError("weights must be >= 0 and not all zero")


@dataclass(frozen=True)
class Factor:
    # Filters: "specialty", "slot", "capacity", "distance" (mode and travel limit), "gender";
    # weighted: "load", "slot_fit", "closeness".
    name: str
    passed: bool  # hard filters: passed or not; weighted factors: always True
    score: float  # 0..1 (hard filters: 1.0/0.0)
    weight: float  # 0 for hard filters
    note: str  # human-readable, for the student ("why this trainer") and the admin


@dataclass(frozen=True)
class Scored:
    trainer_id: int
    name: str
    qualified: bool
    factors: tuple[Factor, ...]  # hard filters first, then (when qualified) weighted factors
    total: float  # weighted sum / sum of weights, 0..1; 0 when not qualified

    def reasons(self) -> list[str]:
        """The notes a student reads under "why this trainer": passed filters and the scores,
        without the two filters a score repeats (capacity is in load, distance in closeness)."""
        return [f.note for f in self.factors if f.passed and f.name not in REPEATED]

    def rejections(self) -> list[str]:
        """The notes of the filters this trainer failed (for the admin's pending list)."""
        return [f.note for f in self.factors if not f.passed]


def score_candidates(
    request: Request,
    candidates: Sequence[Candidate],
    sessions_for: Callable[[Candidate], Sequence[datetime]],
    weights: Weights = Weights(),  # frozen, so one shared default is safe
    default_max_km: float = 15.0,
) -> list[Scored]:
    """Every candidate scored and ranked: qualified by total (desc), fewer students, lower id;
    then the unqualified by id. `sessions_for` gives a candidate's session starts (aware UTC);
    an empty list means the package cannot be placed with that trainer."""
    pairs = [
        (c, _score_one(request, c, sessions_for(c), weights, default_max_km)) for c in candidates
    ]
    pairs.sort(
        key=lambda p: (
            (0, -p[1].total, p[0].active_students, p[0].trainer_id)
            if p[1].qualified
            else (1, 0.0, 0, p[0].trainer_id)
        )
    )
    return [scored for _candidate, scored in pairs]


def best(scored: Sequence[Scored], min_score: float) -> Scored | None:
    """The top qualified candidate of a ranked list (score_candidates' order) when its total
    reaches `min_score`; None sends the allocation to an admin as pending."""
    top = next((s for s in scored if s.qualified), None)
    return top if top is not None and top.total >= min_score else None


def _score_one(
    request: Request,
    candidate: Candidate,
    sessions: Sequence[datetime],
    weights: Weights,
    default_max_km: float,
) -> Scored:
    limit = default_max_km if candidate.max_distance_km is None else candidate.max_distance_km
    slot, slacks = _check_slot(candidate, sessions, request.duration)
    distance, km = _check_distance(request, candidate, limit)
    hard = [_check_specialty(request, candidate), slot, _check_capacity(candidate), distance]
    if request.gender_preference:
        hard.append(_check_gender(request.gender_preference, candidate))
    qualified = all(f.passed for f in hard)
    if not qualified:
        return Scored(candidate.trainer_id, candidate.name, False, tuple(hard), 0.0)
    weighted = (
        _load(candidate, weights.load),
        _slot_fit(slacks, weights.slot_fit),
        _closeness(km, limit, weights.distance),
    )
    total = sum(f.score * f.weight for f in weighted) / sum(f.weight for f in weighted)
    factors = (*hard, *weighted)
    return Scored(candidate.trainer_id, candidate.name, True, factors, round(total, TOTAL_PLACES))


# Hard filters: pass or fail, weight 0.


def _hard(name: str, passed: bool, note: str) -> Factor:
    return Factor(name, passed, 1.0 if passed else 0.0, 0.0, note)


def _check_specialty(request: Request, candidate: Candidate) -> Factor:
    wanted = request.specialty.strip()
    known = {s.strip().casefold() for s in candidate.specialties}
    if wanted.casefold() in known:
        return _hard("specialty", True, f"teaches {wanted}")
    teaches = ", ".join(sorted(candidate.specialties)) or "nothing listed"
    return _hard("specialty", False, f"does not teach {wanted} (teaches: {teaches})")


def _check_capacity(candidate: Candidate) -> Factor:
    used, cap = candidate.active_students, candidate.capacity
    if used < cap:
        return _hard("capacity", True, f"{used} of {cap} students: room for {cap - used} more")
    return _hard("capacity", False, f"full: {used} of {cap} students")


def _check_gender(preference: str, candidate: Candidate) -> Factor:
    wanted = f"prefers {preference} trainer"
    if candidate.gender == preference:
        return _hard("gender", True, f"{wanted}: honoured")
    actual = f"this trainer is {candidate.gender}" if candidate.gender else "gender not given"
    return _hard("gender", False, f"{wanted}: {actual}")


def _check_distance(
    request: Request, candidate: Candidate, limit: float
) -> tuple[Factor, float | None]:
    """The mode filter: online needs an online trainer; in person needs one who travels this
    far. Returns the distance (km) too, for the weighted closeness factor."""
    if request.mode == ONLINE:
        if candidate.online:
            return _hard("distance", True, "teaches online"), None
        return _hard("distance", False, "does not teach online"), None
    if not candidate.in_person:
        return _hard("distance", False, "does not teach in person"), None
    if candidate.location is None or request.location is None:
        missing = "trainer's" if candidate.location is None else "student's"
        return _hard("distance", False, f"in person, but the {missing} location is unknown"), None
    km = haversine_km(candidate.location, request.location)
    note = f"{_km(km)} km away (limit {_km(limit)} km)"
    return _hard("distance", km <= limit, note if km <= limit else f"too far: {note}"), km


def _check_slot(
    candidate: Candidate, sessions: Sequence[datetime], duration: timedelta
) -> tuple[Factor, list[float]]:
    """Every session inside one weekly window (on the trainer's wall clock) and clear of their
    busy time. Returns each session's slack in minutes too, for the slot-fit factor."""
    if not sessions:
        return _hard("slot", False, "the package's sessions cannot be placed with this trainer"), []
    try:
        zone = ZoneInfo(candidate.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return _hard("slot", False, f"unknown time zone {candidate.timezone!r}"), []
    outside: list[datetime] = []
    clashes: list[datetime] = []
    slacks: list[float] = []
    used: dict[WeeklySlot, None] = {}  # the windows the sessions fall in, in first-use order
    for start in sessions:
        local_start, local_end = _local(start, zone), _local(start + duration, zone)
        fits = [
            (s, w) for w in candidate.weekly if (s := w.slack(local_start, local_end)) is not None
        ]
        if fits:
            slack, window = max(fits, key=lambda fit: fit[0])
            slacks.append(slack)
            used[window] = None
        else:
            outside.append(local_start)
        if overlaps(start, start + duration, candidate.busy):
            clashes.append(local_start)
    count = len(sessions)
    if not outside and not clashes:
        windows = ", ".join(w.label() for w in used)
        note = f"every one of {count} sessions inside {windows} ({candidate.timezone}), all free"
        return _hard("slot", True, note), slacks
    problems = []
    if outside:
        problems.append(f"{len(outside)} of {count} sessions outside the weekly availability")
    if clashes:
        problems.append(f"{len(clashes)} of {count} sessions clash with bookings or time off")
    first = min(outside + clashes)
    note = "; ".join(problems) + f" (first: {first:%a %d %b %Y %H:%M} {candidate.timezone})"
    return _hard("slot", False, note), []


# Weighted factors: only for qualified candidates, score 0..1, always "passed".


def _load(candidate: Candidate, weight: float) -> Factor:
    used, cap = candidate.active_students, candidate.capacity
    score = 1 - used / cap  # qualified, so 0 <= used < cap
    level = "lightly" if score >= 2 / 3 else "moderately" if score >= 1 / 3 else "heavily"
    return Factor("load", True, score, weight, f"{used} of {cap} students: {level} loaded")


def _slot_fit(slacks: Sequence[float], weight: float) -> Factor:
    """How comfortably the sessions sit in their windows: each scores its tighter side's free
    time over FULL_SLACK_MINUTES (capped at 1), so a session flush with an edge scores 0."""
    score = sum(min(s / FULL_SLACK_MINUTES, 1.0) for s in slacks) / len(slacks)
    tightest = min(slacks)
    if tightest >= FULL_SLACK_MINUTES:
        note = f"{FULL_SLACK_MINUTES:.0f}+ min free either side of every session: a comfortable fit"
    elif tightest > 0:
        note = f"at least {tightest:.0f} min free either side of every session"
    else:
        note = "some sessions run right up to the edge of the trainer's availability"
    return Factor("slot_fit", True, score, weight, note)


def _closeness(km: float | None, limit: float, weight: float) -> Factor:
    if km is None:
        return Factor("closeness", True, 1.0, weight, "online: no travel needed")
    score = max(0.0, 1 - km / limit) if limit > 0 else 0.0
    level = "close by" if score >= 2 / 3 else "a fair way" if score >= 1 / 3 else "near the limit"
    return Factor("closeness", True, score, weight, f"{level}: {_km(km)} of {_km(limit)} km")


# Small helpers.


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    # A naive datetime would be read as the server's local time: refuse it rather than guess.
    if instant.tzinfo is None:
        raise ValueError("session times must be timezone-aware (UTC)")
    return instant.astimezone(zone)


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute + t.second / 60 + t.microsecond / 60_000_000


def _km(value: float) -> str:
    """To 0.1 km, without a trailing .0 ("15 km", "12.4 km")."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")
