"""The demo's tutoring: two courses sold as packages of 10, 20 or 30 live sessions, the two
trainer accounts with profiles and weekly availability, and one student who has paid for a
package through the sandbox, so on the first start the worker assigns a trainer (with its
reasons) and writes the sessions, as for any purchase. Written once; safe to run again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.queries import get_user_by_email
from app.cart.models import Cart
from app.cart.services import add_package
from app.catalog.models import Category, Course, CourseKind
from app.catalog.queries import get_course_by_slug
from app.catalog.services import (
    CourseDraft,
    add_chapter,
    add_lecture,
    create_course,
    publish_course,
    set_price,
    slugify,
)
from app.checkout.models import Order, OrderItem
from app.core.models import utcnow
from app.core.money import Money
from app.demo.orders import buy_with_sandbox
from app.extensions import db
from app.tutoring.areas import area
from app.tutoring.models import (
    Trainer,
    TrainerSlot,
    TutoringPackage,
    TutoringPackagePrice,
    TutoringPurchase,
)


@dataclass(frozen=True)
class TutoringSpec:
    title: str
    subtitle: str
    description: str
    category: str  # a demo category's slug: the trainers' specialty
    teacher: str
    prices: dict[int, dict[str, int]]  # sessions -> currency -> minor units


COURSES = (
    TutoringSpec(
        "Python 1:1 Coaching",
        "Live sessions with a trainer who reviews your code as you write it",
        "Book 10, 20 or 30 live sessions. Bring your own project or follow ours: each session "
        "is one hour of pair programming, review and questions, at the time you choose.",
        "programming",
        "teacher1@example.com",
        {
            10: {"USD": 24900, "INR": 1499900},
            20: {"USD": 45900, "INR": 2799900},
            30: {"USD": 64900, "INR": 3899900},
        },
    ),
    TutoringSpec(
        "Spoken English Coaching",
        "Speak with confidence at work: conversation, presentations and interviews",
        "A trainer listens, corrects and coaches you through real situations, online or in "
        "person in Bengaluru. Choose Sundays or the weekdays that suit you.",
        "personal-development",
        "teacher3@example.com",
        {
            10: {"USD": 14900, "INR": 899900},
            20: {"USD": 27900, "INR": 1699900},
            30: {"USD": 39900, "INR": 2399900},
        },
    ),
)


@dataclass(frozen=True)
class TrainerSpec:
    gender: str
    timezone: str
    area: str | None  # where they also teach in person
    capacity: int
    windows: tuple[tuple[int, int, int], ...]  # (ISO weekday, from hour, to hour), their clock
    specialties: tuple[str, ...] = ("programming", "personal-development")


TRAINERS = {
    "trainer1@example.com": TrainerSpec(
        "male", "Europe/London", None, 8, ((7, 16, 21), (2, 17, 21), (4, 17, 21))
    ),
    "trainer2@example.com": TrainerSpec(
        "female",
        "Asia/Kolkata",
        "bengaluru-indiranagar",
        10,
        ((7, 9, 13), (1, 18, 22), (3, 18, 22), (5, 18, 22)),
    ),
}
TUTEE = "student2@example.com"  # buys 10 Python sessions, Sundays at 17:00 London time
TUTEE_ZONE = "Europe/London"


def seed_tutoring() -> int:
    """Courses, packages and trainers that are missing; the tutee's order once. How many
    courses were created."""
    created = 0
    for spec in COURSES:
        if get_course_by_slug(slugify(spec.title)) is None:
            _course(spec)
            created += 1
    for email, trainer_spec in TRAINERS.items():
        user = get_user_by_email(email)
        if user is not None:
            _trainer(user, trainer_spec)
    db.session.flush()
    _tutee_order()
    return created


def _course(spec: TutoringSpec) -> Course:
    teacher = get_user_by_email(spec.teacher)
    category = db.session.scalars(select(Category).where(Category.slug == spec.category)).one()
    assert teacher is not None
    draft = CourseDraft(
        title=spec.title,
        subtitle=spec.subtitle,
        description_md=spec.description,
        category=category,
    )
    course = create_course(teacher, draft)
    course.kind = CourseKind.TUTORING
    chapter = add_chapter(course, "How the sessions work")
    add_lecture(chapter, "Meet your trainer and plan the sessions", 240, is_preview=True)
    for currency, amount in spec.prices[10].items():  # the course's own price: "from"
        set_price(course, Money(amount, currency))
    for sessions, prices in spec.prices.items():
        package = TutoringPackage(course_id=course.id, sessions=sessions)
        package.prices = [
            TutoringPackagePrice(currency=c, amount_minor=a) for c, a in prices.items()
        ]
        db.session.add(package)
    publish_course(course)
    db.session.flush()
    return course


def _trainer(user: User, spec: TrainerSpec) -> None:
    if db.session.scalar(select(Trainer.id).where(Trainer.user_id == user.id)) is not None:
        return
    where = area(spec.area)
    trainer = Trainer(
        user_id=user.id,
        specialties=list(spec.specialties),
        languages=["en"],
        gender=spec.gender,
        timezone=spec.timezone,
        online=True,
        in_person=where is not None,
        area=where.key if where else None,
        latitude=where.latitude if where else None,
        longitude=where.longitude if where else None,
        max_distance_km=20.0 if where else None,
        capacity=spec.capacity,
        bio=f"{user.name} has coached learners one to one for years.",
    )
    trainer.slots = [
        TrainerSlot(weekday=d, starts=time(a), ends=time(b)) for d, a, b in spec.windows
    ]
    db.session.add(trainer)


def _tutee_order() -> None:
    student = get_user_by_email(TUTEE)
    course = get_course_by_slug(slugify(COURSES[0].title))
    if student is None or course is None:
        return
    has = select(TutoringPurchase.id).where(TutoringPurchase.user_id == student.id).limit(1)
    package_id = db.session.scalar(
        select(TutoringPackage.id).where(
            TutoringPackage.course_id == course.id, TutoringPackage.sessions == 10
        )
    )
    if db.session.scalar(has) is not None or package_id is None or _ordered(student, course):
        return
    today = utcnow().date()
    first_sunday = today + timedelta(days=(7 - today.isoweekday()) or 7)
    choices = {
        "timeSlot": "17:00",
        "date": first_sunday.isoformat(),
        "isSundayOnly": True,
        "sessionDuration": 60,
    }

    def fill(cart: Cart) -> None:
        add_package(cart, package_id, choices, TUTEE_ZONE, today)

    buy_with_sandbox(student, "USD", fill)


def _ordered(student: User, course: Course) -> bool:
    stmt = (
        select(OrderItem.id)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.user_id == student.id, OrderItem.course_id == course.id)
        .limit(1)
    )
    return db.session.scalar(stmt) is not None
