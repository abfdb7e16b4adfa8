"""Thirty days of shop history for the demo, so the admin dashboard and reports have something
to show: fifteen buyers, a few orders a day in INR and USD paid through the sandbox (some
declined, a few refunded), the carts they came from and more that were left, course page
views, first lectures watched, and the daily report rows built by the real builder.

Historical rows are written directly with their past timestamps (history_orders.py), in a
handful of bulk flushes; amounts come from the real pricing engine, invoice and credit note
numbers from the real series. Nothing is queued and nobody is mailed. Deterministic (a fixed
seed, dates relative to today) and written once: buyers who have orders mean it is there."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import selectinload

from app.accounts.models import Role, User
from app.accounts.passwords import hash_password
from app.accounts.queries import get_user_by_email
from app.cart.models import Cart, CartItem
from app.cart.queries import course_line
from app.catalog.models import Chapter, Course, CourseKind, CourseStatus, CourseViewDay, Lecture
from app.checkout.models import Order
from app.core.models import utcnow
from app.demo.history_orders import (
    SESSION_MINUTES,
    Attempt,
    Buyer,
    Placed,
    Pricer,
    Product,
    Timeline,
    build_order,
    cart_for,
    enrollment_rows,
    number_invoices,
    payment_rows,
)
from app.demo.history_refunds import refund_order
from app.extensions import db
from app.learning.models import EnrollmentStatus, LectureProgress
from app.learning.progress import recount_enrollment
from app.payments.models import RefundSource
from app.payments.services.reconcile import build_daily_report

DAYS = 30
SEED = 30_2024
CURRENCIES = ("INR", "USD")
# (name, currency, country, Indian state for GST): the country picks the tax rule.
BUYERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("Rohan Mehta", "INR", "IN", "27"),
    ("Ananya Iyer", "INR", "IN", "33"),
    ("Vikram Singh", "INR", "IN", "07"),
    ("Meera Nair", "INR", "IN", "32"),
    ("Arjun Reddy", "INR", "IN", "36"),
    ("Kavya Rao", "INR", "IN", "29"),
    ("Ishaan Gupta", "INR", "IN", "09"),
    ("Diya Patel", "INR", "IN", "24"),
    ("Olivia Brown", "USD", "US", None),
    ("Noah Johnson", "USD", "US", None),
    ("Ava Martinez", "USD", "US", None),
    ("Liam Walsh", "USD", "GB", None),
    ("Chloe Tremblay", "USD", "CA", None),
    ("Lena Vogel", "USD", "DE", None),
    ("Mateo Silva", "USD", "BR", None),
)
ORDERS_PER_DAY = (3, 10)
ABANDONED_CARTS_PER_DAY = (3, 9)
LINES_WEIGHTS = (70, 24, 6)  # one, two or three courses an order
# Orders by UTC hour: Indian evenings (13-17 UTC) and American evenings (0-4 UTC) are busy.
HOUR_WEIGHTS = (5, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 6, 4, 3, 3, 4, 5, 5)
P_RETRIED = 0.05  # declined, then paid on a second attempt
P_ABANDONED = 0.06  # declined and never paid: expired by the hourly job
P_REFUNDED = 0.08  # of paid orders at least two days old
P_WATCHED = 0.65  # enrollments whose first lecture was opened
SETTLED = timedelta(minutes=2)  # nothing is written closer to now than this


def seed_history(now: datetime | None = None) -> int:
    """Write the demo buyers' thirty days of orders, carts, views and watching and the daily
    reports of those days, once; how many orders were written (0 when already there)."""
    now = now or utcnow()
    buyers = _ensure_buyers()
    products = _products()
    if not products or _has_history(buyers):
        return 0
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not security
    placed = _place(rng, buyers, products, now)
    abandoned = _abandoned_carts(rng, products, now)
    db.session.add_all(_write(placed) + abandoned)
    db.session.flush()
    _refund_some(rng, placed, now)
    _watch_some(rng, placed, products, now)
    _record_views(rng, products, _interest(placed, abandoned), now)
    for offset in range(DAYS, 0, -1):
        build_daily_report(now.date() - timedelta(days=offset))
    return len(placed)


def _ensure_buyers() -> list[Buyer]:
    """The fifteen buyer accounts, verified, with the country their tax comes from.

    Missing ones share one argon2id hash of the demo password: hashing it per account, as
    register_user does, would take 15 x ~0.2 s, most of this seed's time budget."""
    from app.demo import DEMO_PASSWORD  # the package imports this module: not at the top

    shared: str | None = None
    buyers = []
    for number, (name, currency, country, region) in enumerate(BUYERS, start=1):
        email = f"buyer{number:02d}@example.com"
        user = get_user_by_email(email)
        if user is None:
            shared = shared or hash_password(DEMO_PASSWORD)
            user = User(email=email, name=name, role=Role.STUDENT, password_hash=shared)
            db.session.add(user)
        user.email_verified_at = user.email_verified_at or utcnow()
        user.country = user.country or country
        buyers.append(Buyer(user, currency, region))
    db.session.flush()
    return buyers


def _has_history(buyers: Sequence[Buyer]) -> bool:
    ids = [b.user.id for b in buyers]
    return db.session.scalar(select(Order.id).where(Order.user_id.in_(ids)).limit(1)) is not None


def _products() -> list[Product]:
    """Published paid video courses, with their prices and first lecture (two queries)."""
    stmt = (
        select(Course)
        .options(selectinload(Course.prices))
        .where(Course.status == CourseStatus.PUBLISHED, Course.kind == CourseKind.VIDEO)
        .order_by(Course.id)
    )
    courses = [c for c in db.session.scalars(stmt) if not c.is_free]
    firsts = _first_lectures([c.id for c in courses])
    products = []
    for course in courses:
        lines = {cur: line for cur in CURRENCIES if (line := course_line(course, cur))}
        paid = {cur: line for cur, line in lines.items() if line.price > 0}
        periods = {p.currency: p.access_period for p in course.prices}
        products.append(Product(course.id, course.title, paid, periods, firsts.get(course.id)))
    return products


def _first_lectures(course_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    stmt = (
        select(Chapter.course_id, Lecture.id, Lecture.duration_s)
        .join(Chapter, Chapter.id == Lecture.chapter_id)
        .where(Chapter.course_id.in_(course_ids))
        .order_by(Chapter.course_id, Chapter.position, Lecture.position)
    )
    firsts: dict[int, tuple[int, int]] = {}
    for course_id, lecture_id, duration in db.session.execute(stmt):
        firsts.setdefault(course_id, (lecture_id, duration))
    return firsts


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _moment(rng: random.Random, day: date) -> datetime:
    """A time on the day, busier in the buyers' evenings."""
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return _midnight(day) + timedelta(hours=hour, seconds=rng.uniform(0, 3600))


def _place(
    rng: random.Random, buyers: Sequence[Buyer], products: Sequence[Product], now: datetime
) -> list[Placed]:
    """Plan every order of the period (up to a little before now) and build its rows; orders
    are built in the order they were paid, so invoice numbers follow the calendar."""
    drafts = []
    for offset in range(DAYS, -1, -1):
        day = now.date() - timedelta(days=offset)
        count = rng.randint(*ORDERS_PER_DAY)
        for at in sorted(_moment(rng, day) for _ in range(count)):
            buyer = rng.choice(buyers)
            chosen = _choose(rng, buyer, products)
            timeline = _timeline(rng, at, now)
            if not chosen or timeline is None:
                continue
            if timeline.paid is not None:
                buyer.owned.update(p.course_id for p in chosen)
            drafts.append((buyer, chosen, timeline))
    drafts.sort(key=lambda d: (d[2].paid or d[2].attempts[-1]).processed)
    pricer = Pricer()
    placed = [build_order(pricer, *draft) for draft in drafts]
    number_invoices([p.order for p in placed])
    return placed


def _choose(rng: random.Random, buyer: Buyer, products: Sequence[Product]) -> tuple[Product, ...]:
    """One to three courses the buyer does not own, priced in their currency."""
    offered = [p for p in products if buyer.currency in p.lines and p.course_id not in buyer.owned]
    wanted = rng.choices((1, 2, 3), weights=LINES_WEIGHTS)[0]
    return tuple(rng.sample(offered, min(wanted, len(offered))))


def _timeline(rng: random.Random, at: datetime, now: datetime) -> Timeline | None:
    """Cart, order, payment attempts (declined first for a few) and, for an order never paid,
    the hourly job expiring it; None when it would not have finished by now."""
    roll = rng.random()
    cart_at = at - timedelta(seconds=rng.uniform(90, 2400))
    first = _attempt(
        rng, at + timedelta(seconds=rng.uniform(2, 8)), paid=roll >= P_RETRIED + P_ABANDONED
    )
    attempts, expired = [first], None
    if roll < P_RETRIED:
        attempts.append(
            _attempt(rng, first.processed + timedelta(seconds=rng.uniform(30, 300)), paid=True)
        )
    elif roll < P_RETRIED + P_ABANDONED:
        expired = _next_hourly_run(first.started + timedelta(minutes=SESSION_MINUTES))
    if attempts[-1].processed > now - SETTLED:
        return None
    if expired is not None and expired > now:
        expired = None  # still failed: the hourly job has not come round yet
    return Timeline(cart_at, at, tuple(attempts), expired)


def _attempt(rng: random.Random, started: datetime, *, paid: bool) -> Attempt:
    """The buyer clicks within minutes; the webhook lands within a second and the worker
    enrolls 1-4 s later (a decline is quicker: nothing to grant)."""
    received = started + timedelta(seconds=rng.uniform(25, 240) + rng.uniform(0.2, 1.2))
    work = rng.uniform(1.0, 4.0) if paid else rng.uniform(0.05, 0.4)
    charge = f"sbx_ch_{rng.getrandbits(40):010x}" if paid else None
    return Attempt(started, received, received + timedelta(seconds=work), paid, charge)


def _next_hourly_run(after: datetime) -> datetime:
    """When expire_unpaid_orders (cron "5 * * * *") first ran after `after`."""
    run = after.replace(minute=5, second=0, microsecond=0)
    return (run if run > after else run + timedelta(hours=1)) + timedelta(seconds=1.5)


def _write(placed: Sequence[Placed]) -> list[Cart]:
    """Orders first (the other rows need their ids), then payments, sessions, webhooks and
    enrollments in one flush; the orders' carts are returned to be added with the others."""
    db.session.add_all(p.order for p in placed)
    db.session.flush()
    rows = []
    for p in placed:
        rows += payment_rows(p)
        rows += enrollment_rows(p)
    db.session.add_all(rows)
    return [cart_for(p) for p in placed]


def _abandoned_carts(rng: random.Random, products: Sequence[Product], now: datetime) -> list[Cart]:
    """Anonymous carts left with a course or two in them, a few every day."""
    carts = []
    for offset in range(DAYS, -1, -1):
        day = now.date() - timedelta(days=offset)
        for _ in range(rng.randint(*ABANDONED_CARTS_PER_DAY)):
            at, currency = _moment(rng, day), rng.choice(CURRENCIES)
            offered = [p for p in products if currency in p.lines]
            chosen = rng.sample(offered, min(rng.choice((1, 1, 2)), len(offered)))
            touched = at + timedelta(seconds=rng.uniform(10, 900))
            if touched > now - SETTLED:
                continue
            cart = Cart(currency=currency, created_at=at, updated_at=touched, touched_at=touched)
            cart.items = [CartItem(course_id=p.course_id, added_at=at) for p in chosen]
            carts.append(cart)
    return carts


def _refund_some(rng: random.Random, placed: Sequence[Placed], now: datetime) -> None:
    """A few paid orders given back, in full, by one line, or by half a line (an admin's
    goodwill refund), in the order they happened (credit note numbers follow the calendar)."""
    planned = []
    for p in placed:
        paid = p.timeline.paid
        if paid is None or paid.processed > now - timedelta(days=2) or rng.random() >= P_REFUNDED:
            continue
        at = paid.processed + timedelta(hours=rng.uniform(3, 40))
        items, roll = p.order.items, rng.random()
        if roll < 0.45:
            amounts, source = {i.id: i.total_minor for i in items}, RefundSource.STUDENT
        elif len(items) > 1:
            amounts, source = {items[-1].id: items[-1].total_minor}, RefundSource.STUDENT
        else:
            amounts, source = {items[0].id: items[0].total_minor // 2}, RefundSource.ADMIN
        planned.append((at, p, amounts, source))
    for at, p, amounts, source in sorted(planned, key=lambda r: r[0]):
        refund_order(p, amounts, at, source)
    db.session.flush()


def _watch_some(
    rng: random.Random, placed: Sequence[Placed], products: Sequence[Product], now: datetime
) -> None:
    """Most buyers open their first lecture within a day or so; most of those finish it
    (then the enrollment is recounted, as after a heartbeat that completes a lecture)."""
    firsts = {p.course_id: p.first_lecture for p in products}
    rows, done = [], []
    for enrollment in (e for p in placed for e in p.enrollments):
        first = firsts.get(enrollment.course_id)
        if first is None or enrollment.status is not EnrollmentStatus.ACTIVE:
            continue
        at = enrollment.enrolled_at + timedelta(minutes=rng.uniform(2, 1800))
        lecture_id, duration = first
        seconds = duration if rng.random() < 0.7 else rng.randint(1, max(1, duration - 1))
        if rng.random() >= P_WATCHED or at + timedelta(seconds=seconds) > now - SETTLED:
            continue
        end = at + timedelta(seconds=seconds)
        finished = end if seconds >= duration else None
        rows.append(
            LectureProgress(
                enrollment_id=enrollment.id,
                lecture_id=lecture_id,
                position_s=seconds,
                watched_s=seconds,
                completed_at=finished,
                last_heartbeat_at=end,
                created_at=at,
            )
        )
        enrollment.current_lecture_id, enrollment.last_accessed_at = lecture_id, end
        enrollment.last_active_on, enrollment.streak_days = end.date(), 1
        enrollment.total_time_spent_s, enrollment.updated_at = seconds, end
        if finished is not None:
            done.append((enrollment.id, end))
    db.session.add_all(rows)
    db.session.flush()
    for enrollment_id, end in done:
        recount_enrollment(enrollment_id, now=end)


def _interest(placed: Sequence[Placed], carts: Sequence[Cart]) -> Counter[tuple[date, int]]:
    """(day, course id) -> how many carts took the course that day (orders' carts were emptied
    by their orders: their courses are the orders' lines)."""
    carted: Counter[tuple[date, int]] = Counter()
    for p in placed:
        for item in p.order.items:
            carted[(p.timeline.cart_at.date(), item.course_id)] += 1
    for cart in carts:
        for cart_item in cart.items:
            carted[(cart.created_at.date(), cart_item.course_id)] += 1
    return carted


def _record_views(
    rng: random.Random,
    products: Sequence[Product],
    carted: Counter[tuple[date, int]],
    now: datetime,
) -> None:
    """Course page views per day: a steady trickle per course, plus a few visits from everyone
    who put it in a cart, added to any count already there (today's page views)."""
    popularity = {p.course_id: rng.randint(1, 6) for p in products}
    rows = []
    for offset in range(DAYS, -1, -1):
        day = now.date() - timedelta(days=offset)
        share = 1.0 if offset else (now - _midnight(day)) / timedelta(days=1)
        for course_id, weight in popularity.items():
            views = round(rng.randint(0, 3 * weight) * share) + 3 * carted[(day, course_id)]
            if views:
                rows.append({"day": day, "course_id": course_id, "views": views})
    if not rows:
        return
    stmt = insert(CourseViewDay)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "course_id"],
        set_={"views": CourseViewDay.views + stmt.excluded.views},
    )
    db.session.execute(stmt, rows)  # one batched statement (insertmanyvalues)
