"""The admin's side of allocations: a pending allocation's page with every candidate's factors;
approving a low-scoring suggestion (sessions written, both told for real by the notice job),
allocating another trainer by hand, a full or fully booked trainer refused with nothing
changed, retrying the automatic assignment once a trainer qualifies; each confirmed first and
audited, and the console closed to students."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, Role, User
from app.core.models import utcnow
from app.extensions import db
from app.notifications.models import Notification, NotificationKind
from app.tutoring import allocations
from app.tutoring.assignment import auto_assign
from app.tutoring.models import (
    AllocationStatus,
    PurchaseSource,
    Trainer,
    TrainerAllocation,
    TrainerTimeOff,
    TutoringSession,
)
from app.tutoring.purchases import PurchaseRequest, create_purchase, parse_choice
from tests.admin.conftest import client_as
from tests.conftest import QueryCounter
from tests.factories import make_user
from tests.payments.conftest import run_jobs
from tests.tutoring.conftest import next_weekday, sunday_choice, trainer, tutoring_course

_keys = itertools.count(1)


@pytest.fixture
def console(app: Flask, db_session: Session) -> tuple[FlaskClient, User]:
    return client_as(app, Role.ADMIN)


def _pending(course_id: int, student: User | None = None) -> TrainerAllocation:
    """A 10-session Sunday 18:00 (London) purchase made by an admin, assigned automatically."""
    today = utcnow().date()
    purchase, _ = create_purchase(
        PurchaseRequest(
            key=f"admin:alloc-test-{next(_keys)}",
            user_id=(student or make_user(name="Sam Student")).id,
            course_id=course_id,
            tier=10,
            choice=parse_choice(sunday_choice(next_weekday(today, 7)), "Europe/London", today),
            source=PurchaseSource.ADMIN,
        )
    )
    return auto_assign(purchase.id)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _sessions(purchase_id: int) -> list[TutoringSession]:
    return list(
        db.session.scalars(
            sa.select(TutoringSession).where(TutoringSession.purchase_id == purchase_id)
        )
    )


def _post(client: FlaskClient, allocation: TrainerAllocation, verb: str, **data: object) -> str:
    """The confirmation first (nothing changes), then the confirmed POST; its Location."""
    url = f"/admin/allocations/{allocation.id}/{verb}"
    first = client.post(url, data=data)
    assert first.status_code == 200 and "Confirm" in first.get_data(as_text=True)
    done = client.post(url, data={**data, "confirmed": "yes"})
    assert done.status_code == 303, done.get_data(as_text=True)
    db.session.expire_all()
    return str(done.headers["Location"])


def test_no_qualifying_trainer_is_pending_and_its_page_shows_every_candidate(
    console: tuple[FlaskClient, User],
) -> None:
    client, _admin = console
    course, _ = tutoring_course()
    trainer(["painting"], name="Wrong Wes")
    student = make_user(email="sam.pending@example.com", name="Sam Pending")
    allocation = _pending(course.id, student)
    assert allocation.status is AllocationStatus.PENDING and allocation.trainer_id is None

    listed = client.get("/admin/allocations").get_data(as_text=True)  # pending by default
    assert "sam.pending@example.com" in listed and "Algebra Tutoring" in listed
    assert "Tutoring</a>" in listed  # the console's nav
    assert "sam.pending" not in client.get("/admin/allocations?status=approved").get_data(
        as_text=True
    )
    found = client.get("/admin/allocations?status=all&q=algebra").get_data(as_text=True)
    assert "sam.pending@example.com" in found
    assert "sam.pending" not in client.get("/admin/allocations?q=nobody").get_data(as_text=True)
    fragment = client.get("/admin/allocations", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="allocation-rows">')
    csv = client.get("/admin/allocations?format=csv").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("id,status") and "sam.pending@example.com" in csv

    page = client.get(f"/admin/allocations/{allocation.id}").get_data(as_text=True)
    assert "Wrong Wes" in page and "does not teach" in page and "0 of 1 qualified" in page
    assert "Sundays at 18:00" in page and "Europe/London" in page
    for factor in ("specialty", "slot", "capacity", "distance"):
        assert f"<td>{factor}</td>" in page
    body = client.get(f"/admin/allocations/{allocation.id}", headers={"HX-Request": "true"})
    assert body.get_data(as_text=True).lstrip().startswith('<div id="allocation-body">')

    # Nothing to approve: refused before any confirmation.
    refused = client.post(f"/admin/allocations/{allocation.id}/approve", data={})
    assert refused.status_code == 422 and "No trainer was suggested" in refused.get_data(
        as_text=True
    )


def test_an_admin_approves_a_low_scoring_suggestion_and_both_are_told(
    app: Flask, console: tuple[FlaskClient, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, admin = console
    course, category = tutoring_course()
    fay = trainer([category.slug], name="Fay Suggested", active=3)  # scores under 0.99
    monkeypatch.setitem(app.config, "TUTORING_MIN_SCORE", 0.99)  # qualified, but only suggested
    allocation = _pending(course.id)
    assert allocation.status is AllocationStatus.PENDING and allocation.trainer_id == fay.id
    assert "under 0.99" in allocation.note
    suggested_score = allocation.score
    page = client.get(f"/admin/allocations/{allocation.id}").get_data(as_text=True)
    assert "Approve Fay Suggested" in page and "1 of 1 qualified" in page
    assert "load" in page and "slot fit" in page and "0.50" in page  # a weight

    where = _post(client, allocation, "approve", **{"approve-reason": "score is fine"})
    assert where.endswith(f"/admin/allocations/{allocation.id}")
    db.session.refresh(allocation)
    assert allocation.status is AllocationStatus.APPROVED and allocation.trainer_id == fay.id
    assert allocation.decided_by_id == admin.id and allocation.score == suggested_score
    sessions = _sessions(allocation.purchase_id)
    assert len(sessions) == 10 and {s.trainer_id for s in sessions} == {fay.id}
    db.session.refresh(fay)
    assert fay.active_students == 4
    (row,) = _audit("allocation.approve")
    assert row.before["status"] == "pending" and row.after["status"] == "approved"
    assert (row.actor_id, row.reason) == (admin.id, "score is fine")

    run_jobs()  # the notice job, on a real worker
    told = {
        tuple(r) for r in db.session.execute(sa.select(Notification.user_id, Notification.kind))
    }
    assert (sessions[0].student_id, NotificationKind.TRAINER_ASSIGNED.value) in told
    assert (fay.user_id, NotificationKind.NEW_STUDENT.value) in told

    again = client.post(f"/admin/allocations/{allocation.id}/approve", data={"confirmed": "yes"})
    assert again.status_code == 422 and "only a pending one" in again.get_data(as_text=True)
    shown = client.post(f"/admin/allocations/{allocation.id}/allocate", data={
        "allocate-trainer_id": str(fay.id), "allocate-reason": "again"})  # fmt: skip
    assert shown.status_code == 422 and "already allocated to Fay" in shown.get_data(as_text=True)


def test_an_admin_allocates_another_trainer_overriding_a_filter(
    app: Flask, console: tuple[FlaskClient, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, admin = console
    course, category = tutoring_course()
    trainer([category.slug], name="Fay Suggested", active=3)  # scores under 0.99
    other = trainer(["painting"], name="Pat Painter")
    monkeypatch.setitem(app.config, "TUTORING_MIN_SCORE", 0.99)
    allocation = _pending(course.id)

    data = {"allocate-trainer_id": str(other.id), "allocate-reason": "student asked for Pat"}
    shown = client.post(f"/admin/allocations/{allocation.id}/allocate", data=data)
    text = shown.get_data(as_text=True)
    assert "Pat Painter teaches this student" in text and "does not teach" in text  # override
    _post(client, allocation, "allocate", **data)
    db.session.refresh(allocation)
    assert allocation.status is AllocationStatus.APPROVED and allocation.trainer_id == other.id
    assert allocation.decided_by_id == admin.id and "over: does not teach" in allocation.note
    assert {s.trainer_id for s in _sessions(allocation.purchase_id)} == {other.id}
    (row,) = _audit("allocation.allocate")
    assert row.after["trainer_id"] == other.id and row.reason == "student asked for Pat"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainerAllocation)) == 1


def test_allocating_to_a_full_trainer_is_refused_and_nothing_changes(
    console: tuple[FlaskClient, User],
) -> None:
    client, _admin = console
    course, category = tutoring_course()
    full = trainer([category.slug], name="Full Fran", capacity=2, active=2)
    allocation = _pending(course.id)
    assert allocation.status is AllocationStatus.PENDING

    data = {"allocate-trainer_id": str(full.id), "allocate-reason": "try", "confirmed": "yes"}
    for sent in (data, {k: v for k, v in data.items() if k != "confirmed"}):
        refused = client.post(f"/admin/allocations/{allocation.id}/allocate", data=sent)
        assert refused.status_code == 422
        assert "Full Fran is full (2 of 2 students)" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainerAllocation, allocation.id).status is AllocationStatus.PENDING  # type: ignore[union-attr]
    assert db.session.get(Trainer, full.id).active_students == 2  # type: ignore[union-attr]
    assert _sessions(allocation.purchase_id) == [] and not _audit("allocation.allocate")


def test_a_trainer_whose_time_is_taken_is_refused(db_session: Session) -> None:
    course, _ = tutoring_course()
    booked = trainer(["painting"], name="Booked Bea")
    start = utcnow() - timedelta(days=1)
    db.session.add(
        TrainerTimeOff(trainer_id=booked.id, starts_at=start, ends_at=start + timedelta(days=800))
    )
    allocation = _pending(course.id)
    admin = make_user(Role.ADMIN)
    with pytest.raises(allocations.AllocationConflict) as err:
        allocations.allocate(allocation.purchase_id, booked.id, admin.id)
    assert err.value.status == 409 and "time is taken" in err.value.message
    with pytest.raises(allocations.AllocationRefused):
        allocations.approve(allocation.id, admin.id)  # no suggestion


def test_retry_auto_assign_succeeds_once_a_trainer_qualifies(
    console: tuple[FlaskClient, User],
) -> None:
    client, _admin = console
    course, category = tutoring_course()
    allocation = _pending(course.id)
    assert allocation.status is AllocationStatus.PENDING and allocation.candidates == []
    newcomer = trainer([category.slug], name="New Nia")

    _post(client, allocation, "retry", **{"retry-reason": "Nia joined"})
    db.session.refresh(allocation)
    assert allocation.status is AllocationStatus.APPROVED and allocation.trainer_id == newcomer.id
    assert allocation.decided_by_id is None  # the automatic assignment chose
    assert len(_sessions(allocation.purchase_id)) == 10
    (row,) = _audit("allocation.retry")
    assert row.after["trainer_id"] == newcomer.id and row.reason == "Nia joined"
    with pytest.raises(allocations.AllocationConflict) as err:
        allocations.retry_auto_assign(allocation.purchase_id)
    assert err.value.code == "already_allocated" and err.value.status == 409


def test_students_and_trainers_cannot_see_allocations(app: Flask, db_session: Session) -> None:
    course, _ = tutoring_course()
    allocation = _pending(course.id)
    for role in (Role.STUDENT, Role.TRAINER):
        client, _user = client_as(app, role)
        assert client.get("/admin/allocations").status_code == 403
        assert client.get(f"/admin/allocations/{allocation.id}").status_code == 403
        retry = client.post(f"/admin/allocations/{allocation.id}/retry", data={"confirmed": "yes"})
        assert retry.status_code == 403


def test_the_list_runs_the_same_queries_however_many_rows(
    console: tuple[FlaskClient, User], count_queries: QueryCounter
) -> None:
    client, _admin = console
    course, _ = tutoring_course()
    trainer(["painting"], name="Wrong Wes")

    def listed() -> int:
        before = count_queries.count
        assert client.get("/admin/allocations?status=all").status_code == 200
        return count_queries.count - before

    _pending(course.id)
    one = listed()
    assert one > 2  # the counter sees the request's queries
    for _ in range(4):
        _pending(course.id)
    assert listed() == one
