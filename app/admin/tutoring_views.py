"""Tutoring allocations: the list (pending ones first shown), an allocation's page with every
candidate's factor scores, and what an admin does to a pending one — approve the suggested
trainer, allocate another by hand, run the automatic assignment again — each worked out and
shown first (or refused before anything changes), confirmed, audited, and done by
app.tutoring.allocations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app.accounts.audit import Diff, Target, record_audit
from app.admin import bp
from app.admin.access import actor, admin_user
from app.admin.allocation_page import get_allocation_page, trainer_options
from app.admin.tutoring_forms import AllocateForm, AllocationActionForm
from app.admin.user_views import run_sensitive
from app.admin.web import CSV_LIMIT, PER_PAGE, confirmed, csv_response, list_args
from app.core.errors import DomainError, NotFound
from app.core.forms import attach_error, text
from app.core.htmx import render
from app.jobs.queues import NOTIFY_RETRY, enqueue_after_commit
from app.tutoring import allocations, substitutes
from app.tutoring.models import TrainerAllocation
from app.tutoring.notices import send_substitutes

STATUSES = (
    ("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected"), ("all", "All"),
)  # fmt: skip
WHEN = "%a %d %b %Y %H:%M"


@bp.get("/allocations")
def allocation_list() -> ResponseReturnValue:
    args = list_args("status")
    chosen = args.get("status") or "pending"  # the list is an admin's queue: pending by default
    status = None if chosen == "all" else chosen
    if args.export:
        rows = allocations.allocation_csv_rows(status, args.q, CSV_LIMIT)
        return csv_response("allocations.csv", allocations.ALLOCATION_CSV_HEADER, rows)
    return render(
        "admin/allocation_list.html",
        "admin/partials/allocation_rows.html",
        args=args,
        chosen=chosen,
        statuses=STATUSES,
        rows=allocations.list_allocations(status, args.q, args.page, PER_PAGE),
        waiting=substitutes.waiting_sessions(),
        substitute_form=AllocationActionForm(formdata=None, prefix="substitute"),
    )


def _trainer_choices() -> list[tuple[int, str]]:
    return [(t.id, t.label) for t in trainer_options()]


def _page(allocation_id: int, status: int = 200, **given: FlaskForm) -> ResponseReturnValue:
    info = get_allocation_page(allocation_id)
    forms: dict[str, FlaskForm] = {
        "approve_form": AllocationActionForm(formdata=None, prefix="approve"),
        "allocate_form": AllocateForm(formdata=None, prefix="allocate"),
        "retry_form": AllocationActionForm(formdata=None, prefix="retry"),
        **given,
    }
    forms["allocate_form"].trainer_id.choices = [(t.id, t.label) for t in info.trainers]
    return render(
        "admin/allocation_detail.html",
        "admin/partials/allocation_body.html",
        status,
        info=info,
        **forms,
    )


@bp.get("/allocations/<int:allocation_id>")
def allocation_detail(allocation_id: int) -> ResponseReturnValue:
    return _page(allocation_id)


@dataclass(frozen=True)
class Action:
    """One sensitive action on the page: its form's name there, what the confirmation says
    (or the refusal), the work (audited) and the message once done."""

    form_name: str
    title: str
    preview: Callable[[], Sequence[str]]
    run: Callable[[], None]
    done: str


def _sensitive(allocation_id: int, form: FlaskForm, action: Action) -> ResponseReturnValue:
    """run_sensitive, with what will happen worked out before the confirmation: a refusal
    (a full trainer, their time taken, already allocated) shows on the page at once."""

    def again() -> ResponseReturnValue:
        return _page(allocation_id, 422, **{action.form_name: form})

    summary: Sequence[str] = ()
    if form.validate_on_submit() and not confirmed():
        try:
            summary = action.preview()
        except DomainError as err:
            attach_error(form, err)
            return again()
    here = url_for("admin.allocation_detail", allocation_id=allocation_id)
    return run_sensitive(
        form, again, (action.title, request.path, summary), action.run, (action.done, here)
    )


def _plan(preview: allocations.Preview) -> list[str]:
    zone = ZoneInfo(preview.timezone)
    first, last = (preview.starts[i].astimezone(zone) for i in (0, -1))
    used, cap = preview.active_students, preview.capacity
    lines = [
        f"{preview.trainer_name} teaches this student: {used} → {used + 1} of {cap} students.",
        f"{len(preview.starts)} sessions are scheduled, the first {first:{WHEN}}, "
        f"the last {last:{WHEN}} ({preview.timezone}).",
    ]
    if preview.overrides:
        lines.append("Filters overridden: " + "; ".join(preview.overrides) + ".")
    return [*lines, "The student and the trainer are told (in-app and by email)."]


def _state(allocation: TrainerAllocation) -> dict[str, object]:
    return {
        "status": allocation.status,
        "trainer_id": allocation.trainer_id,
        "score": allocation.score,
        "decided_by_id": allocation.decided_by_id,
    }


def _audited(
    action: str, allocation: TrainerAllocation, reason: str, act: Callable[[], TrainerAllocation]
) -> None:
    before = _state(allocation)  # copied now: the service changes the same row
    after = act()
    target = Target(
        "allocation", after.id, f"Allocation #{after.id} (purchase {after.purchase_id})"
    )
    record_audit(actor(), action, target, Diff(before, _state(after)), reason)


@bp.post("/allocations/<int:allocation_id>/approve")
def allocation_approve(allocation_id: int) -> ResponseReturnValue:
    allocation = allocations.get_allocation(allocation_id)
    form = AllocationActionForm(prefix="approve")
    reason = text(form.reason)

    def run() -> None:
        approve = allocations.approve
        _audited(
            "allocation.approve",
            allocation,
            reason,
            lambda: approve(allocation_id, admin_user().id),
        )

    return _sensitive(allocation_id, form, Action(
        "approve_form", "Approve the suggested trainer",
        lambda: _plan(allocations.preview_approval(allocation_id)), run,
        "Suggested trainer approved: the sessions are scheduled and both are told.",
    ))  # fmt: skip


@bp.post("/allocations/<int:allocation_id>/allocate")
def allocation_allocate(allocation_id: int) -> ResponseReturnValue:
    allocation = allocations.get_allocation(allocation_id)
    purchase_id = allocation.purchase_id
    form = AllocateForm(prefix="allocate")
    form.trainer_id.choices = _trainer_choices()
    trainer_id, reason = int(form.trainer_id.data or 0), text(form.reason)

    def run() -> None:
        allocate = allocations.allocate
        _audited("allocation.allocate", allocation, reason,
                 lambda: allocate(purchase_id, trainer_id, admin_user().id))  # fmt: skip

    return _sensitive(allocation_id, form, Action(
        "allocate_form", "Allocate a trainer by hand",
        lambda: _plan(allocations.preview(purchase_id, trainer_id)), run,
        "Trainer allocated: the sessions are scheduled and both are told.",
    ))  # fmt: skip


RETRY_PLAN = (
    "The automatic assignment runs again over every accepting trainer, with fresh scores.",
    "The best is approved if their score reaches the minimum (the student and the trainer are "
    "told); otherwise the allocation stays pending with the new scores.",
)


@bp.post("/allocations/<int:allocation_id>/retry")
def allocation_retry(allocation_id: int) -> ResponseReturnValue:
    allocation = allocations.get_allocation(allocation_id)
    purchase_id = allocation.purchase_id
    form = AllocationActionForm(prefix="retry")
    reason = text(form.reason)

    def preview() -> Sequence[str]:
        allocations.check_retry(purchase_id)
        return RETRY_PLAN

    def run() -> None:
        retry = allocations.retry_auto_assign
        _audited("allocation.retry", allocation, reason, lambda: retry(purchase_id))

    return _sensitive(allocation_id, form, Action(
        "retry_form", "Retry auto-assignment", preview, run,
        "Auto-assignment ran again: the allocation below shows the outcome.",
    ))  # fmt: skip


@bp.post("/sessions/<int:session_id>/substitute")
def session_substitute(session_id: int) -> ResponseReturnValue:
    """Look again for a substitute for a session awaiting a trainer (confirmed, audited)."""
    waiting = {w.session_id: w for w in substitutes.waiting_sessions(limit=500)}
    if session_id not in waiting:
        raise NotFound("That session is not waiting for a trainer.")
    session = waiting[session_id]
    form = AllocationActionForm(prefix="substitute")
    back = url_for("admin.allocation_list")

    def run() -> None:
        trainer = substitutes.find_substitute(session_id)
        if trainer is None:
            raise substitutes.NoSubstitute("Nobody is free at that hour yet: try again later.")
        target = Target("session", session_id, f"Session {session.number} of {session.student}")
        diff = Diff({"trainer": session.away}, {"trainer_id": trainer.id})
        record_audit(actor(), "session.substitute", target, diff, text(form.reason))
        enqueue_after_commit(send_substitutes, {session_id: trainer.id}, retry=NOTIFY_RETRY)

    summary = [
        f"Session {session.number} of {session.student}, {session.course}, "
        f"{session.starts_at:{WHEN}} UTC, booked with {session.away}.",
        "The best free trainer at that hour takes it; the student and the trainer are told.",
    ]
    action = url_for("admin.session_substitute", session_id=session_id)

    def again() -> ResponseReturnValue:  # a refusal comes back as a message on the list
        for message in form.form_errors or ["Nothing was changed."]:
            flash(message, "error")
        return redirect(back, 303)

    return run_sensitive(
        form,
        again,
        ("Find a substitute", action, summary),
        run,
        ("The session has a substitute.", back),
    )
