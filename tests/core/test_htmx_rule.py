"""The HTMX rule (DESIGN.md): a partial's root element id is its file name, every hx-target /
outerHTML swap aims at such an id, and the fragment a route answers is the element its trigger
replaces.

Three checks:
- static, over templates/**/partials/*.html: the root element carries the file name's id (or, for
  an innerHTML swap, the element that includes the partial does);
- static, over every template: each trigger (hx-get/post/...) swaps into an element carrying a
  partial's id;
- a walk over every rule in app.url_map (static aside), with a student, a guest, courses, a cart
  with items and a coupon, orders awaiting payment / paid / canceled, a refund form and
  notifications. Every GET route is requested plainly and with HX-Request; every trigger found in
  the rendered pages is replayed as htmx would send it (method, URL, form values, HX-Target); the
  POST routes no page triggers are sent with HX-Request and a valid-ish form.

Every route (static aside) answers HX-Request with a fragment (FRAGMENT_ROUTES, all walked, most
through the triggers the pages carry), with its whole page, which no trigger aims at
(PAGE_ROUTES), or with a redirect (303, or 204 with HX-Redirect), JSON, a PDF or an error htmx
does not swap. A route missing from the walk, or
moving between those groups, fails the test, so a new route gets checked too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app.accounts import tokens
from app.accounts.models import Role, User
from app.catalog.models import CourseStatus
from app.config import ROOT
from app.tutoring.calendar import feed_token
from tests.admin.jobs_fixture import failed_job
from tests.cart.conftest import make_coupon
from tests.conftest import IsolatedClient, login_as
from tests.factories import PASSWORD, make_course, make_user
from tests.payments.conftest import checkout, order_of, payment_token, run_jobs
from tests.teaching.conftest import lectures_of

TEMPLATES = ROOT / "templates"
NO_UPLOAD = "00000000-0000-4000-8000-000000000000"
HX = {"HX-Request": "true"}
EXPR = "__expr__"  # what a {{ ... }} leaves behind: an id containing it is not a fixed name
INCLUDE_TAG = "jinja-include"
REQUEST_ATTRS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr", "param"}

# The routes whose HX-Request answer is a fragment, and those answering their whole page (no
# trigger aims at them). A route moving between the two, or a new one, must be listed here.
FRAGMENT_ROUTES = {
    "GET /admin/",
    "GET /admin/reports",
    "GET /admin/courses",
    "GET /admin/courses/<int:course_id>",
    "GET /admin/users",
    "GET /admin/users/<int:user_id>",
    "POST /admin/courses/<int:course_id>/archive",
    "POST /admin/courses/<int:course_id>/feature",
    "POST /admin/courses/<int:course_id>/teacher",
    "POST /admin/courses/<int:course_id>/unpublish",
    "POST /admin/users/<int:user_id>/active",
    "POST /admin/users/<int:user_id>/enrollments",
    "POST /admin/users/<int:user_id>/enrollments/revoke",
    "POST /admin/users/<int:user_id>/role",
    "GET /admin/alerts",
    "GET /admin/audit",
    "GET /admin/coupons",
    "GET /admin/sales",
    "GET /admin/orders",
    "GET /admin/orders/<token>",
    "GET /admin/webhooks",
    "GET /admin/webhooks/<int:event_id>",
    "GET /admin/jobs",
    "GET /admin/allocations",
    "GET /admin/allocations/<int:allocation_id>",
    "POST /admin/allocations/<int:allocation_id>/allocate",
    "POST /admin/allocations/<int:allocation_id>/approve",
    "GET POST /studio/courses/<int:course_id>",
    "GET /studio/courses/<int:course_id>/curriculum",
    "GET /studio/lectures/<int:lecture_id>/status",
    "GET POST /studio/lectures/<int:lecture_id>",
    "POST /studio/attachments/<uuid:token>/delete",
    "POST /studio/chapters/<int:chapter_id>/delete",
    "POST /studio/chapters/<int:chapter_id>/lectures",
    "POST /studio/chapters/<int:chapter_id>/move",
    "POST /studio/chapters/<int:chapter_id>/rename",
    "POST /studio/courses/<int:course_id>/chapters",
    "POST /studio/courses/<int:course_id>/cover",
    "POST /studio/courses/<int:course_id>/order",
    "POST /studio/courses/<int:course_id>/publish",
    "POST /studio/courses/<int:course_id>/unpublish",
    "POST /studio/lectures/<int:lecture_id>/attachments",
    "POST /studio/lectures/<int:lecture_id>/delete",
    "POST /studio/lectures/<int:lecture_id>/move",
    "POST /studio/lectures/<int:lecture_id>/preview",
    "POST /studio/lectures/<int:lecture_id>/rename",
    "POST /studio/markdown-preview",
    "GET /cart",
    "GET /cart/badge",
    "GET /courses",
    "GET /notifications",
    "GET /notifications/badge",
    "GET /orders/<token>",
    "GET /learning/<course_slug>/<int:lecture_id>",
    "POST /learning/<course_slug>/<int:lecture_id>/done",
    "GET /certificates/<code>",
    "POST /checkout",
    "GET POST /account",
    "GET POST /account/password",
    "GET POST /login",
    "GET POST /orders/<token>/refund",
    "GET POST /password/forgot",
    "GET POST /register",
    "POST /account/verify/resend",
    "POST /cart/country",
    "POST /cart/coupon",
    "POST /cart/coupon/delete",
    "POST /cart/items",
    "POST /cart/packages",
    "POST /cart/items/<int:course_id>/delete",
    "POST /notifications/<uuid:token>/read",
    "POST /notifications/read-all",
    "GET POST /tutoring/profile",
    "GET POST /tutoring/time-off",
    "POST /tutoring/sessions/<int:session_id>/mark",
    "POST /tutoring/time-off/<int:time_off_id>/delete",
}
PAGE_ROUTES = {
    "GET /api/v1/docs",  # the API's docs page: no fragments
    "POST /admin/allocations/<int:allocation_id>/retry",
    "GET POST /admin/coupons/<int:coupon_id>",
    "GET POST /admin/coupons/new",
    "GET POST /admin/sales/<int:sale_id>",
    "GET POST /admin/sales/new",
    "POST /admin/coupons/<int:coupon_id>/active",
    "POST /admin/sales/<int:sale_id>/active",
    "GET /admin/jobs/<job_id>",
    "POST /admin/jobs/<job_id>/delete",
    "POST /admin/jobs/<job_id>/retry",
    "POST /admin/orders/<token>/receipt",
    "POST /admin/orders/<token>/reconcile",
    "POST /admin/orders/<token>/refund",
    "POST /admin/webhooks/<int:event_id>/replay",
    "POST /admin/webhooks/replay",
    "GET /studio/",
    "GET POST /studio/courses/new",
    "GET /",
    "GET /checkout",
    "GET /courses/<slug>",
    "GET /learning",
    "GET /certificates/<code>.pdf",  # 202 "being prepared" until the worker renders it
    "GET /orders",
    "GET /pay/<token>",
    "GET /pay/<token>/authenticate",
    "GET POST /logout",
    "GET POST /password/reset/<token>",
    "GET /tutoring/",
    "GET /tutoring/sessions/<int:session_id>",
}

# Known violations the lead can remove once the owning stream fixes them: (route, id) -> why.
EXPECTED_VIOLATIONS: dict[tuple[str, str], str] = {}


# --- parsing templates and pages -------------------------------------------------------------


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    ids: tuple[str, ...]  # every id the element may carry (one per Jinja branch)
    parent: Node | None
    line: int
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            yield child
            yield from child.walk()

    def inherited(self, attr: str) -> str | None:
        node: Node | None = self
        while node is not None:
            if attr in node.attrs:
                return node.attrs[attr]
            node = node.parent
        return None

    def closest(self, tag: str) -> Node | None:
        node: Node | None = self
        while node is not None and node.tag != tag:
            node = node.parent
        return node

    def label(self) -> str:
        return f"<{self.tag} id={'|'.join(self.ids) or '(none)'}> line {self.line}"


class _Tree(HTMLParser):
    """A forgiving tree: void elements close themselves, a stray end tag closes up to its match."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, (), None, 0)
        self.stack = [self.root]

    def _node(self, tag: str, attrs: list[tuple[str, str | None]]) -> Node:
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")
        ids = tuple(dict.fromkeys(v for k, v in attrs if k == "id" and v))
        node = Node(tag, values, ids, self.stack[-1], self.getpos()[0])
        self.stack[-1].children.append(node)
        return node

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._node(tag, attrs)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._node(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return


def parse(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.root


INCLUDE = re.compile(r"""{%-?\s*include\s+["']([^"']+)["'].*?%}""", re.S)
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
IMPORT = re.compile(r"""{%-?\s*from\s+["']([^"']+)["']\s+import\s+(.*?)\s*-?%}""", re.S)
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\(.*?%}(.*?){%-?\s*endmacro\s*-?%}", re.S)
CALL = re.compile(r"{{-?\s*(\w+)\(.*?}}", re.S)


def strip_jinja(source: str) -> str:
    """HTML with the Jinja gone: includes become marker elements, expressions a placeholder,
    and both branches of a conditional stay (so every id an element may carry is seen)."""
    source = INCLUDE.sub(lambda m: f'<{INCLUDE_TAG} src="{m[1]}"></{INCLUDE_TAG}>', source)
    return JINJA.sub(lambda m: EXPR if m[0].startswith("{{") else "", source)


def expand_macros(source: str) -> str:
    """Calls of imported macros replaced by the macro's body (a partial's root may be one)."""
    macros: dict[str, str] = {}
    for found in IMPORT.finditer(source):
        bodies = dict(MACRO.findall((TEMPLATES / found[1]).read_text()))
        for name in found[2].split(","):
            original, _, alias = name.strip().partition(" as ")
            if original in bodies:
                macros[alias or original] = bodies[original]
    return CALL.sub(lambda m: macros.get(m[1], m[0]), source)


def template_tree(path: Path, *, macros: bool = False) -> Node:
    source = path.read_text()
    return parse(strip_jinja(expand_macros(source) if macros else source))


def partial_id(path: Path) -> str:
    return path.stem.replace("_", "-")


def rel(path: Path) -> str:
    return str(path.relative_to(TEMPLATES))


def partials() -> list[Path]:
    return sorted(TEMPLATES.glob("**/partials/*.html"))


def page_templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.glob("**/*.html") if "email" not in p.parts)


def roots(tree: Node) -> list[Node]:
    """The elements a swap puts in place: top-level ones, out-of-band swaps aside."""
    return [n for n in tree.children if n.tag != INCLUDE_TAG and "hx-swap-oob" not in n.attrs]


# --- (a) and (b): the templates ----------------------------------------------------------------


def includers(partial: Path) -> list[Node]:
    """The element around each `{% include %}` of the partial, in every template."""
    name = rel(partial)
    found = []
    for path in page_templates():
        for node in template_tree(path).walk():
            if node.tag == INCLUDE_TAG and node.attrs.get("src") == name and node.parent:
                found.append(node.parent)
    return found


def root_problem(partial: Path) -> str | None:
    want = partial_id(partial)
    top = roots(template_tree(partial, macros=True))
    if top and all(set(n.ids) == {want} for n in top):
        return None  # the root is what an outerHTML swap replaces
    around = includers(partial)
    if around and all(set(n.ids) == {want} for n in around):
        return None  # innerHTML: the element including it carries the id
    seen = ", ".join(n.label() for n in top) or "no element"
    return f'{rel(partial)}: root {seen}, want id="{want}" (or on the element including it)'


def target_of(node: Node) -> tuple[str, Node | str | None]:
    """What the trigger swaps: the hx-target text and the element (or "#id") it names."""
    target = node.inherited("hx-target") or "this"
    if target == "this":
        return target, node
    if target.startswith("closest "):
        return target, node.closest(target.removeprefix("closest ").strip())
    if target.startswith("#"):
        return target, target
    return target, None


def trigger_problem(path: Path, node: Node, ids: set[str]) -> str | None:
    swap = (node.inherited("hx-swap") or "innerHTML").split()[0]
    if swap == "none":
        return None
    target, aimed = target_of(node)
    where = f"{rel(path)} {node.label()} hx-target={target!r} hx-swap={swap}"
    if isinstance(aimed, str):
        name = aimed.removeprefix("#")
        return None if name in ids else f"{where}: #{name} is not a partial's id"
    if aimed is None:
        return f"{where}: a target the rule cannot check (use #id, this or closest <tag>)"
    if aimed.ids and set(aimed.ids) <= ids:
        return None
    return f"{where}: the element swapped ({aimed.label()}) carries no partial's id"


def test_every_partial_root_id_is_its_file_name() -> None:
    found = partials()
    assert len(found) >= 18, [rel(p) for p in found]
    problems = [p for p in map(root_problem, found) if p]
    assert not problems, "\n".join(problems)


def test_every_trigger_swaps_an_element_carrying_a_partial_id() -> None:
    ids = {partial_id(p) for p in partials()}
    problems, count = [], 0
    for path in page_templates():
        for node in template_tree(path).walk():
            if any(attr in node.attrs for attr in REQUEST_ATTRS):
                count += 1
                problems.append(trigger_problem(path, node, ids))
    assert count >= 19  # the walk must see the triggers (hx-get/post) at all
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("a_root_without_the_id", '<div id="something-else"></div>'),
        ("a_dynamic_id", '<div id="thing-{{ x.id }}"></div>'),
        ("a_second_root", '{% if a %}<p id="x-y">a</p>{% endif %}<p id="other">b</p>'),
    ],
)
def test_the_root_check_fails_on_a_broken_partial(
    name: str, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "demo" / "partials"
    folder.mkdir(parents=True)
    (folder / "x_y.html").write_text(source)
    monkeypatch.setattr(f"{__name__}.TEMPLATES", tmp_path)
    assert root_problem(folder / "x_y.html") is not None, name


def test_the_root_check_reads_jinja_conditionals_and_macros(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "_macros").mkdir()
    (tmp_path / "_macros" / "m.html").write_text(
        '{% macro box(a) -%}<div id="x-y" {% if a %}hx-get="/a"{% endif %}></div>{%- endmacro %}'
    )
    folder = tmp_path / "demo" / "partials"
    folder.mkdir(parents=True)
    (folder / "x_y.html").write_text(
        '{% from "_macros/m.html" import box %}{{ box(1) }}<p id="n" hx-swap-oob="true"></p>'
    )
    (folder / "y_z.html").write_text(
        '{% if a %}<div id="y-z" class="{% if b %}on{% endif %}">{% else %}<form id="y-z">'
        "{% endif %}</div>"
    )
    monkeypatch.setattr(f"{__name__}.TEMPLATES", tmp_path)
    assert root_problem(folder / "x_y.html") is None
    assert root_problem(folder / "y_z.html") is None


# --- (c) the walk ------------------------------------------------------------------------------


@dataclass
class Shop:
    client: FlaskClient  # the student, signed in, email not verified (so the banner shows)
    guest: FlaskClient
    student: User
    course: str  # a paid course's slug, not in the cart
    free: str
    cart_course: int
    awaiting: str  # order tokens
    paid: str
    canceled: str
    pay: str  # the awaiting order's payment token
    reset: str
    verify: str
    teacher: FlaskClient  # a teacher, signed in, with a draft course in the studio
    studio_course: int
    studio_lecture: int
    attachment: str  # an attachment's token on that lecture
    learn_course: str  # the paid course's slug and its first lecture: the student's player
    learn_lecture: int
    certificate: str  # a certificate's code
    admin: FlaskClient  # an admin, signed in: the console's routes
    webhook_event: int  # the paid order's webhook event (the console's inbox)
    coupon: int  # the console's coupon and sale pages
    sale: int
    job: str  # a job that failed on a real worker (the jobs console's detail page)
    allocation: int  # a pending tutoring allocation no trainer qualified for
    tutoring: str  # a tutoring course's slug: its page has the package form
    package: int  # its 10-session package
    trainer: FlaskClient  # a trainer, signed in, with a student's package: the desk's routes
    trainer_session: int  # one of their sessions, started and waiting to be marked


def _studio(app: Flask) -> tuple[FlaskClient, int, int, str]:
    """A teacher's client and draft course, with one attachment (so its triggers show)."""
    import uuid

    from app.extensions import db
    from app.learning.models import EnrollmentSource
    from app.learning.services import grant_enrollment
    from app.media.models import MediaFile, MediaKind, MediaStatus

    teacher = make_user(Role.TEACHER, name="Tess Walker")
    course = make_course("Walk studio", teacher=teacher, status=CourseStatus.DRAFT)
    lecture = lectures_of(course)[0]
    media = MediaFile(
        kind=MediaKind.ATTACHMENT,
        status=MediaStatus.READY,
        owner_id=teacher.id,
        lecture_id=lecture.id,
        file_name="notes.pdf",
        content_type="application/pdf",
        size_bytes=10,
        storage_key=f"att/{uuid.uuid4().hex}",
        part_size=0,
        progress=100,
    )
    db.session.add(media)
    db.session.flush()
    # A student is enrolled, so deleting a lecture or chapter answers its refusal instead of
    # taking away what the other triggers on the page need.
    grant_enrollment(make_user().id, course.id, EnrollmentSource.FREE)
    client = _new_client(app)
    login_as(client, teacher)
    return client, course.id, lecture.id, str(media.token)


def _tutoring() -> dict[str, Any]:
    """A tutoring course with a package and a trainer free on Sunday evenings."""
    from tests.tutoring.conftest import package, trainer, tutoring_course

    course, category = tutoring_course("Walk tutoring")
    trainer([category.slug], name="Walk Trainer")
    return {"tutoring": course.slug, "package": package(course, 10).id}


def _trainer_desk(app: Flask) -> tuple[FlaskClient, int]:
    """A trainer with a student's sessions (two started, so the mark forms show) and a day off
    (so the time-off page's remove form shows)."""
    from app.extensions import db
    from tests.tutoring.desk_fixture import started_desk

    teacher, session_ids = started_desk("Tia Walker", "Sid Walker", time_off=True)
    client = _new_client(app)
    login_as(client, db.session.get(User, teacher.user_id))
    return client, session_ids[0]


def _new_client(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def shop(app: Flask, client: FlaskClient, db_session: Session) -> Iterator[Shop]:
    old = app.config["CATALOG_PAGE_SIZE"]
    app.config["CATALOG_PAGE_SIZE"] = 2  # so the catalog has "load more" and pages
    student = make_user(email="walker@example.com", name="Walt Walker")
    login_as(client, student)
    courses = [make_course(f"Walk {n}", prices={"USD": 1000 + n}) for n in range(6)]
    free = make_course("Walk free", prices={"USD": 0})

    def buy(*course_ids: int) -> None:  # through the view: the student's one cart, reused
        for course_id in course_ids:
            client.post("/cart/items", data={"course_id": course_id})

    buy(courses[0].id)
    paid_pay = payment_token(checkout(client, key="walk-key-0001").headers["Location"])
    client.post(f"/pay/{paid_pay}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    paid = order_of(db_session, student)
    buy(courses[1].id)
    cancel_pay = payment_token(checkout(client, key="walk-key-0002").headers["Location"])
    client.post(f"/pay/{cancel_pay}/sandbox", data={"action": "cancel"})
    run_jobs()
    canceled = order_of(db_session, student)
    buy(courses[2].id)
    pay = payment_token(checkout(client, key="walk-key-0003").headers["Location"])
    awaiting = order_of(db_session, student)
    coupon = make_coupon("WALK10")
    buy(courses[3].id, courses[4].id)
    client.post("/cart/coupon", data={"code": "WALK10"})
    teacher, studio_course, studio_lecture, attachment = _studio(app)
    learn_lecture = lectures_of(courses[0])[0]
    certificate = _certificate(student, courses[1])
    trainer, trainer_session = _trainer_desk(app)
    yield Shop(
        client=client,
        guest=_new_client(app),
        student=student,
        course=courses[5].slug,
        free=free.slug,
        cart_course=courses[3].id,
        awaiting=awaiting.token,
        paid=paid.token,
        canceled=canceled.token,
        pay=pay,
        reset=tokens.password_reset_token(student),
        verify=tokens.email_verify_token(student),
        teacher=teacher,
        studio_course=studio_course,
        studio_lecture=studio_lecture,
        attachment=attachment,
        learn_course=courses[0].slug,
        learn_lecture=learn_lecture.id,
        certificate=certificate,
        admin=_admin(app),
        webhook_event=_first_webhook_event(),
        coupon=coupon.id,
        sale=_future_sale(),
        job=failed_job("walk"),
        allocation=_pending_allocation(),
        **_tutoring(),
        trainer=trainer,
        trainer_session=trainer_session,
    )
    app.config["CATALOG_PAGE_SIZE"] = old


def _first_webhook_event() -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.payments.models import WebhookEvent

    return db.session.scalar(select(func.min(WebhookEvent.id))) or 1


def _future_sale() -> int:
    """A sale that starts next month: its console pages show, the shop's prices don't change."""
    from datetime import timedelta

    from app.cart.models import Sale
    from app.core.models import utcnow
    from app.extensions import db

    start = utcnow() + timedelta(days=30)
    sale = Sale(
        slug="walk-sale",
        name="Walk sale",
        percent_off_bp=1000,
        all_courses=True,
        starts_at=start,
        ends_at=start + timedelta(days=3),
    )
    db.session.add(sale)
    db.session.flush()
    return sale.id


def _pending_allocation() -> int:
    """A tutoring purchase no trainer qualifies for: its pending allocation, with nobody
    suggested (approve answers its refusal on the page; allocate without a trainer, the form)."""
    from app.core.models import utcnow
    from app.tutoring.assignment import auto_assign
    from app.tutoring.models import PurchaseSource
    from app.tutoring.purchases import PurchaseRequest, create_purchase, parse_choice
    from tests.tutoring.conftest import next_weekday, sunday_choice, trainer, tutoring_course

    course, _ = tutoring_course("Console tutoring")
    trainer(["painting"], name="Tori Trainer")
    today = utcnow().date()
    purchase, _ = create_purchase(
        PurchaseRequest(
            key="admin:walk-tutoring",
            user_id=make_user(name="Tam Tutored").id,
            course_id=course.id,
            tier=10,
            choice=parse_choice(sunday_choice(next_weekday(today, 7)), "Europe/London", today),
            source=PurchaseSource.ADMIN,
        )
    )
    return auto_assign(purchase.id).id


def _admin(app: Flask) -> FlaskClient:
    client = _new_client(app)
    login_as(client, make_user(Role.ADMIN, name="Ada Walker"))
    return client


def _certificate(student: User, course: Any) -> str:
    """A certificate of a course the student finished (rendered or not: its page shows)."""
    from app.extensions import db
    from app.learning.models import Certificate, EnrollmentSource, EnrollmentStatus
    from app.learning.services import grant_enrollment

    enrollment = grant_enrollment(student.id, course.id, EnrollmentSource.ADMIN)
    enrollment.status = EnrollmentStatus.COMPLETED
    certificate = Certificate(
        code="CF-WALK-WALK-WALK",
        enrollment_id=enrollment.id,
        user_id=student.id,
        course_id=course.id,
        student_name=student.name,
        course_title=course.title,
        teacher_name="Tess Walker",
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate.code


@dataclass
class Call:
    path: str
    method: str = "GET"
    data: dict[str, Any] = field(default_factory=dict)
    who: str = "client"  # "client" (the student), "guest", "teacher", "trainer", "admin", "fresh"


def _admin_calls(s: Shop) -> list[Call]:
    """The console, as an admin; its POSTs without confirmed=yes answer the confirmation."""
    course, user, order, event = s.studio_course, s.student.id, s.paid, s.webhook_event
    allocation = s.allocation
    gets = [
        "/admin/",
        "/admin/orders",
        f"/admin/orders/{order}",
        "/admin/webhooks",
        f"/admin/webhooks/{event}",
        "/admin/jobs",
        "/admin/jobs?registry=failed",
        f"/admin/jobs/{s.job}",
        "/admin/alerts",
        "/admin/audit",
        "/admin/coupons",
        "/admin/coupons/new",
        f"/admin/coupons/{s.coupon}",
        "/admin/sales",
        "/admin/sales/new",
        f"/admin/sales/{s.sale}",
        "/admin/courses",
        f"/admin/courses/{course}",
        "/admin/users",
        f"/admin/users/{user}",
        "/admin/reports",
        "/admin/allocations",
        "/admin/allocations?status=all&q=tam",
        f"/admin/allocations/{allocation}",
        "/metrics",
    ]
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/admin/courses/{course}/feature", {}),
        (f"/admin/courses/{course}/unpublish", {"reason": "walk"}),
        (f"/admin/courses/{course}/archive", {"reason": "walk"}),
        (f"/admin/courses/{course}/teacher", {"reason": "walk"}),
        (f"/admin/users/{user}/role", {"role": "teacher", "reason": "walk"}),
        (f"/admin/users/{user}/active", {"reason": "walk"}),
        (f"/admin/users/{user}/enrollments", {"reason": "walk"}),
        (f"/admin/users/{user}/enrollments/revoke", {"reason": "walk"}),
        (f"/admin/orders/{order}/refund", {"reason": "walk"}),
        (f"/admin/orders/{order}/receipt", {}),
        (f"/admin/orders/{order}/reconcile", {}),
        (f"/admin/webhooks/{event}/replay", {}),
        ("/admin/webhooks/replay", {"ids": event}),
        (f"/admin/jobs/{s.job}/retry", {}),
        (f"/admin/jobs/{s.job}/delete", {}),
        ("/admin/coupons/new", {"code": ""}),
        (f"/admin/coupons/{s.coupon}", {"max_uses": "x"}),
        (f"/admin/coupons/{s.coupon}/active", {"reason": "walk"}),
        ("/admin/sales/new", {"name": ""}),
        (f"/admin/sales/{s.sale}", {"name": ""}),
        (f"/admin/sales/{s.sale}/active", {"reason": "walk"}),
        (f"/admin/allocations/{allocation}/approve", {}),
        (f"/admin/allocations/{allocation}/allocate", {"allocate-reason": "walk"}),
        (f"/admin/allocations/{allocation}/retry", {"retry-reason": "walk"}),
        (f"/admin/sessions/{s.trainer_session}/substitute", {}),  # not waiting: a 404
    ]
    return [Call(p, who="admin") for p in gets] + [
        Call(p, "POST", data, "admin") for p, data in posts
    ]


def _calls(s: Shop) -> list[Call]:
    """Realistic requests covering every route; what the pages trigger is replayed from them."""
    login = {"email": s.student.email, "password": PASSWORD}
    order = {"provider": "sandbox", "accept_terms": "y", "idempotency_key": "k" * 12}
    return [
        # catalog and cart
        Call("/"),
        Call("/courses"),
        Call("/courses?q=walk&page=2"),
        Call(f"/courses/{s.course}"),
        Call(f"/courses/{s.free}"),
        Call(f"/courses/{s.tutoring}"),
        Call("/cart/packages", "POST", {"package_id": s.package, "timeSlot": "18:00"}),
        Call("/cart"),
        Call("/cart/badge"),
        Call("/cart/items", "POST", {"course_id": s.cart_course}),
        Call(f"/cart/items/{s.cart_course}/delete", "POST"),
        Call("/cart/coupon", "POST", {"code": "WALK10"}),
        Call("/cart/coupon/delete", "POST"),
        Call("/cart/country", "POST", {"country": "DE"}),
        Call("/currency", "POST", {"currency": "USD", "next": "/cart"}),
        # checkout, orders, payments, learning
        Call("/checkout"),
        Call("/checkout", "POST", order),
        Call(f"/courses/{s.free}/enroll", "POST"),
        Call("/orders"),
        *(Call(f"/orders/{token}") for token in (s.awaiting, s.paid, s.canceled)),
        Call(f"/orders/{s.paid}/refund"),
        Call(f"/orders/{s.paid}/refund", "POST", {"request_key": "walk-refund-0001"}),
        Call(f"/orders/{s.canceled}/retry", "POST", {"provider": "sandbox"}),
        Call(f"/pay/{s.pay}"),
        Call(f"/pay/{s.pay}/authenticate"),
        Call(f"/pay/{s.pay}/sandbox", "POST", {"action": "cancel"}),
        Call("/checkout/return/sandbox?session_id=nope"),
        Call("/webhooks/sandbox", "POST", {"x": "y"}),
        Call("/learning"),
        Call(f"/learning/{s.learn_course}/{s.learn_lecture}"),
        Call(f"/learning/progress/{s.learn_lecture}", "POST", {"position": "1", "watched": "0"}),
        Call(f"/certificates/{s.certificate}", who="guest"),
        Call(f"/certificates/{s.certificate}.pdf", who="guest"),
        Call(f"/orders/{s.paid}/receipt.pdf"),
        Call(f"/orders/{s.paid}/credit-notes/CN-2026-999999.pdf"),
        # notifications (marking one read: its token comes from the page, replayed from there)
        Call("/notifications"),
        Call("/notifications/badge"),
        Call("/notifications/read-all", "POST"),
        # accounts
        Call("/login", who="guest"),
        Call("/login", "POST", login, "guest"),
        Call("/register", who="guest"),
        Call("/password/forgot", who="guest"),
        Call(f"/password/reset/{s.reset}", who="guest"),
        Call(f"/account/verify/{s.verify}x", who="guest"),  # a bad link: its own 400 page
        Call(f"/account/verify/{s.verify}", who="guest"),
        Call("/account/verify/resend", "POST"),
        Call("/account"),
        Call("/account/password"),
        Call("/logout"),
        Call("/logout", "POST", who="fresh"),
        Call("/account/sessions/logout-all", "POST", who="fresh"),
        # JSON and operations
        Call("/cart/open/nope"),  # a tampered cart link: the error page
        Call("/api/v1/cart", "POST"),
        Call("/api/v1/cart/estimate", "POST"),
        Call("/api/v1/cart/nope/coupon", "POST"),
        Call("/api/v1/cart/nope/coupon", "DELETE"),
        Call("/api/v1/purchases", "POST", who="admin"),
        Call("/api/v1/admin/allocations/allocate", "POST", who="admin"),
        Call("/api/v1/admin/allocations/retry-auto-assign", "POST", who="admin"),
        Call(f"/api/v1/admin/allocations/{s.allocation}/approve", "POST", who="admin"),
        Call("/api/v1/order", "POST"),
        Call("/healthz"),
        Call("/readyz"),
        # the studio (its POST routes are reached through the triggers on these pages)
        *_admin_calls(s),
        Call("/studio/", who="teacher"),
        Call("/studio/courses/new", who="teacher"),
        Call("/studio/courses/new", "POST", {"title": "Walk new"}, "teacher"),
        Call(f"/studio/courses/{s.studio_course}", who="teacher"),
        Call(f"/studio/courses/{s.studio_course}/curriculum", who="teacher"),
        Call(f"/studio/lectures/{s.studio_lecture}", who="teacher"),
        Call(f"/studio/attachments/{s.attachment}", who="teacher"),
        Call(
            f"/studio/courses/{s.studio_course}/unpublish", "POST", {"status": "draft"}, "teacher"
        ),
        Call(f"/studio/covers/covers/{'0' * 32}/320.webp", who="guest"),
        # lecture video uploads (JSON for the uploader) and their status partial
        Call(f"/studio/lectures/{s.studio_lecture}/status", who="teacher"),
        Call(f"/studio/lectures/{s.studio_lecture}/upload", "POST", who="teacher"),
        Call(f"/studio/lectures/{s.studio_lecture}/confirm-upload", "POST", who="teacher"),
        Call(f"/studio/uploads/{NO_UPLOAD}", who="teacher"),
        Call(f"/studio/uploads/{NO_UPLOAD}", "DELETE", who="teacher"),
        Call(f"/studio/uploads/{NO_UPLOAD}/parts", "POST", who="teacher"),
        Call(f"/studio/uploads/{NO_UPLOAD}/retry", "POST", who="teacher"),
        # the trainer's desk (its mark and time-off POSTs are replayed from these pages' triggers)
        Call("/tutoring/", who="trainer"),
        Call(f"/tutoring/sessions/{s.trainer_session}", who="trainer"),
        Call("/tutoring/profile", who="trainer"),
        Call("/tutoring/time-off", who="trainer"),
        # a student's session changes (someone else's session: refused, back to the page)
        Call(f"/tutoring/sessions/{s.trainer_session}/cancel", "POST", {"next": "/orders"}),
        Call(f"/tutoring/sessions/{s.trainer_session}/move", "POST", {"next": "/orders"}),
        # the student's calendar feed (a secret URL, no login: text/calendar, never a page)
        Call(f"/tutoring/calendar/{feed_token(s.student.id)}.ics", who="guest"),
        # playback (JSON and playlists: never a page)
        Call("/lectures/0/play"),
        Call("/lectures/0/hls/master.m3u8"),
        Call("/lectures/0/thumbnail"),
        Call("/lectures/0"),
        Call(f"/lectures/0/attachments/{NO_UPLOAD}"),
        # local media storage's signed URLs (a bad signature: 403 JSON, never a page)
        Call("/media/parts/nope/1?size=1&exp=1&sig=x", "PUT"),
        Call("/media/files/src/nope?exp=1&sig=x"),
    ]


# JSON routes: the API's operations, the seeds' alias paths and /internal. They never answer
# HTML, so each is asked once with placeholder arguments (as a stranger and as the student), and
# the walk checks no HX-Request gets a fragment back from them.
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


def _placeholder(match: re.Match[str]) -> str:
    return {"int": "999999", "path": "index.m3u8"}.get(match[1] or "", "nope")


def _api_calls(app: Flask) -> list[Call]:
    calls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/internal/")):
            continue
        path = _PLACEHOLDER.sub(_placeholder, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            calls.append(Call(path, method, who="guest"))
            calls.append(Call(path, method))
    return calls


def route_key(rule: Rule) -> str:
    """A route by its URL rule and methods ("GET POST /login"): stable when views move."""
    return " ".join([*sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}), rule.rule])


@dataclass
class Answer:
    route: str
    kind: str  # fragment, page, redirect, other
    status: int
    root: list[Node]
    tree: Node


def classify(route: str, response: Any) -> Answer:
    binary = response.mimetype in ("application/pdf", "application/octet-stream")
    text = "" if binary else response.get_data(as_text=True)
    tree = parse(text)
    status = response.status_code
    if 300 <= status < 400 or status == 204 or "HX-Redirect" in response.headers:
        kind = "redirect"
    elif response.mimetype != "text/html" or not swapped(status):
        kind = "other"
    else:
        kind = "page" if re.search(r"<html[\s>]", text, re.I) else "fragment"
    return Answer(route, kind, status, roots(tree), tree)


# What htmx swaps: the responseHandling of base.html's htmx-config (2xx but 204, 422, 429).
HTMX_CONFIG = re.search(
    r"""name="htmx-config" content='([^']*)'""", (TEMPLATES / "base.html").read_text()
)
RESPONSE_HANDLING = json.loads(HTMX_CONFIG[1])["responseHandling"] if HTMX_CONFIG else []


def swapped(status: int) -> bool:
    rule = next((r for r in RESPONSE_HANDLING if re.fullmatch(r["code"], str(status))), None)
    return bool(rule and rule["swap"])


@dataclass
class Trigger:
    page: str
    method: str
    url: str
    target: Node
    swap: str
    data: dict[str, Any]
    who: str = "client"  # who saw the page: the trigger is replayed as them


def form_values(form: Node | None) -> dict[str, Any]:
    """What a browser sends from a form: named inputs with values, checked boxes, selections."""
    values: dict[str, Any] = {}
    for node in form.walk() if form else ():
        name = node.attrs.get("name")
        if not name or node.tag not in ("input", "select"):
            continue
        if node.tag == "select":
            options = [n for n in node.walk() if n.tag == "option"]
            chosen = [o for o in options if "selected" in o.attrs] or options
            values[name] = chosen[0].attrs.get("value", "") if chosen else ""
        elif node.attrs.get("type") in ("checkbox", "radio"):
            if "checked" in node.attrs:
                values[name] = node.attrs.get("value", "on")
        elif node.attrs.get("type") != "submit":
            values[name] = node.attrs.get("value", "")
    return values


def page_triggers(path: str, page: Node, missing: list[str]) -> Iterator[Trigger]:
    for node in page.walk():
        verb = next((a for a in REQUEST_ATTRS if a in node.attrs), None)
        if verb is None:
            continue
        target, aimed = target_of(node)
        if isinstance(aimed, str):
            aimed = next((n for n in page.walk() if aimed.removeprefix("#") in n.ids), None)
        if aimed is None:
            missing.append(f"{path}: {node.label()} targets {target!r}, not on the page")
            continue
        method = verb.removeprefix("hx-").upper()
        include = node.attrs.get("hx-include", "")
        form = node.closest("form") if method != "GET" else None
        if include.startswith("closest "):
            form = node.closest(include.removeprefix("closest ").strip())
        swap = (node.inherited("hx-swap") or "innerHTML").split()[0]
        yield Trigger(path, method, node.attrs[verb], aimed, swap, form_values(form))


class Walk:
    def __init__(self, app: Flask, shop: Shop) -> None:
        self.app, self.shop = app, shop
        self.adapter = app.url_map.bind("localhost")
        self.pages: dict[str, Node] = {}  # path -> the rendered page
        self.viewers: dict[str, str] = {}  # path -> who the page was rendered for
        self.answers: dict[str, list[Answer]] = {}
        self.violations: list[str] = []
        self.replayed: set[tuple[str, str, str]] = set()

    def route(self, url: str, method: str) -> str:
        rule, _ = self.adapter.match(urlsplit(url).path, method=method, return_rule=True)
        return route_key(rule)

    def client(self, who: str) -> FlaskClient:
        if who == "fresh":
            fresh = _new_client(self.app)
            login_as(fresh, self.shop.student)
            return fresh
        if who == "teacher":
            return self.shop.teacher
        if who == "admin":
            return self.shop.admin
        if who == "trainer":
            return self.shop.trainer
        return self.shop.guest if who == "guest" else self.shop.client

    def send(self, call: Call, headers: dict[str, str]) -> Answer:
        client = self.client(call.who)
        route = self.route(call.path, call.method)
        response = client.open(call.path, method=call.method, data=call.data, headers=headers)
        answer = classify(route, response)
        if headers:
            self.answers.setdefault(route, []).append(answer)
        return answer

    def visit(self, call: Call) -> None:
        """A GET route plainly (keeping the page) and as htmx asks for it."""
        page = self.send(call, {})
        if page.kind == "page":
            self.pages[call.path] = page.tree
            self.viewers[call.path] = call.who
        answer = self.send(call, HX)
        if answer.kind == "fragment":
            self.check_fragment(call.path, answer, None)

    def check_fragment(self, url: str, answer: Answer, trigger: Trigger | None) -> None:
        """One root element, carrying the id of what the trigger swaps (or of an element on
        the route's own page, or on some page, when no trigger was replayed)."""
        if len(answer.root) != 1:
            seen = ", ".join(n.label() for n in answer.root) or "none"
            self.violate(answer, url, "", f"answers {len(answer.root)} root elements: {seen}")
            return
        root_id = "|".join(answer.root[0].ids)
        if trigger is not None:
            want = "|".join(trigger.target.ids)
            if trigger.swap == "outerHTML" and root_id != want:
                self.violate(answer, url, root_id, f"the trigger on {trigger.page} targets #{want}")
            self.check_oob(url, answer, self.pages[trigger.page])
            return
        holders = {
            urlsplit(path).path
            for path, tree in self.pages.items()
            if root_id and any(root_id in n.ids for n in tree.walk())
        }
        if not holders:
            self.violate(answer, url, root_id, "no page has an element with this id")

    def check_oob(self, url: str, answer: Answer, page: Node) -> None:
        for node in answer.tree.children:
            oob = node.attrs.get("hx-swap-oob")
            if oob is None:
                continue
            name = oob.partition(":")[2].removeprefix("#") or "|".join(node.ids)
            if not any(name in n.ids for n in page.walk()):
                self.violate(answer, url, name, "an out-of-band swap aims at an id the page lacks")

    def violate(self, answer: Answer, url: str, root_id: str, problem: str) -> None:
        if (answer.route, root_id) not in EXPECTED_VIOLATIONS:
            shown = f"#{root_id}" if root_id else "(no id)"
            self.violations.append(f"{answer.route} ({url}): fragment root {shown}: {problem}")

    def replay(self, trigger: Trigger) -> None:
        """The request htmx sends for the trigger, with the target's id in HX-Target."""
        target = "|".join(trigger.target.ids)
        key = (trigger.method, trigger.url, target)
        if key in self.replayed:
            return
        self.replayed.add(key)
        url, data = trigger.url, dict(trigger.data)
        if trigger.method == "GET" and data:  # htmx puts a GET's values in the query string
            parts = urlsplit(url)
            url = f"{parts.path}?{urlencode({**dict(parse_qsl(parts.query)), **data})}"
            data = {}
        headers = {**HX, "HX-Target": target, "HX-Current-URL": f"http://localhost{trigger.page}"}
        answer = self.send(Call(url, trigger.method, data, trigger.who), headers)
        if answer.kind == "page":
            self.violate(answer, url, "", f"a whole page, for #{target} on {trigger.page}")
        elif answer.kind == "fragment":
            self.check_fragment(url, answer, trigger)


def _replay_order(trigger: Trigger) -> tuple[int, int]:
    """Reads first, then writes, removals last (they take away what other triggers need)."""
    removing = trigger.url.endswith(("/delete", "/read-all"))
    return (trigger.method != "GET", removing)


def test_every_route_answering_htmx_returns_the_element_its_trigger_swaps(
    app: Flask, shop: Shop
) -> None:
    assert RESPONSE_HANDLING, "base.html lost its htmx-config: which answers htmx swaps is unknown"
    walk = Walk(app, shop)
    calls = _calls(shop) + _api_calls(app)
    for call in (c for c in calls if c.method == "GET"):
        walk.visit(call)
    pages = walk.pages.items()
    triggers = [
        replace(t, who=walk.viewers[path])
        for path, page in pages
        for t in page_triggers(path, page, walk.violations)
    ]
    for trigger in sorted(triggers, key=_replay_order):
        walk.replay(trigger)
    for call in (c for c in calls if c.method != "GET"):
        answer = walk.send(call, HX)
        if answer.kind == "fragment":
            walk.check_fragment(call.path, answer, None)

    kinds = {route: {a.kind for a in answers} for route, answers in walk.answers.items()}
    assert not walk.violations, "\n".join(walk.violations)
    rules = {route_key(r) for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert rules <= kinds.keys(), (
        f"routes the walk never asks with HX-Request: {rules - kinds.keys()}"
    )
    fragments = {route for route, kind in kinds.items() if "fragment" in kind}
    pages_only = {route for route, kind in kinds.items() if "page" in kind}
    assert fragments == FRAGMENT_ROUTES, (fragments - FRAGMENT_ROUTES, FRAGMENT_ROUTES - fragments)
    assert pages_only == PAGE_ROUTES, (pages_only - PAGE_ROUTES, PAGE_ROUTES - pages_only)
