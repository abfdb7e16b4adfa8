"""Jobs console: each RQ queue's depth and registries, the workers alive, a registry's jobs
(searched by function or id, exported as CSV), one job's details (function, arguments,
exception), and retry or delete from the browser, each confirmed first and audited (what
rq-dashboard shows, behind the console's own login)."""

from __future__ import annotations

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app.admin import bp, job_actions, job_lists, jobs_console
from app.admin.access import actor
from app.admin.jobs_console import REGISTRIES, JobView
from app.admin.order_forms import ReasonedForm
from app.admin.user_views import run_sensitive
from app.admin.web import PER_PAGE, csv_response, list_args
from app.core.forms import attach_error, text
from app.core.htmx import render
from app.jobs.queues import WORKER_QUEUES


@bp.get("/jobs")
def job_list() -> ResponseReturnValue:
    args = list_args("queue", "registry")
    counts = jobs_console.queue_counts()
    queue, registry = jobs_console.choose_filters(
        args.get("queue") or "", args.get("registry") or "", counts
    )
    if args.export:
        rows = job_lists.job_csv_rows(queue, registry, args.q)
        return csv_response(f"jobs-{queue.value}-{registry}.csv", job_lists.JOB_CSV_HEADER, rows)
    return render(
        "admin/job_list.html",
        "admin/partials/job_rows.html",
        args=args,
        queue=queue.value,
        registry=registry,
        jobs=job_lists.list_jobs(queue, registry, args.page, PER_PAGE, args.q),
        size=job_lists.registry_size(counts, queue, registry),
        scan_limit=job_lists.SEARCH_SCAN,
        counts=counts,
        workers=jobs_console.list_workers(),
        queues=[q.value for q in WORKER_QUEUES],
        registries=REGISTRIES,
    )


def _job_page(job: JobView, status: int = 200, **forms: FlaskForm) -> ResponseReturnValue:
    context: dict[str, FlaskForm] = {
        "retry_form": ReasonedForm(formdata=None, prefix="retry"),
        "delete_form": ReasonedForm(formdata=None, prefix="delete"),
        **forms,
    }
    page = render_template("admin/job_detail.html", job=job, back=_list_url(job), **context)
    return page, status


def _again(job_id: str, form: FlaskForm, name: str) -> ResponseReturnValue:
    """The job page again with the form's error: 409 when the job's state refused the action
    (someone acted first), 422 when the form itself did not validate."""
    status = 409 if form.form_errors else 422
    return _job_page(job_actions.find_job(job_id), status, **{name: form})


def _about(job: JobView) -> str:
    arguments = ", ".join(part for part in (job.args, job.kwargs) if part)
    return f"Job {job.id}: {job.func}({arguments}) on {job.queue}, {job.status}."


@bp.get("/jobs/<job_id>")
def job_detail(job_id: str) -> ResponseReturnValue:
    return _job_page(job_actions.find_job(job_id))


@bp.post("/jobs/<job_id>/retry")
def job_retry(job_id: str) -> ResponseReturnValue:
    job = job_actions.find_job(job_id)
    form = ReasonedForm(prefix="retry")
    if not job.retryable:  # refused at once: there is nothing to confirm
        attach_error(form, job_actions.refusal(job))
        return _job_page(job, 409, retry_form=form)
    effect = f"It goes back on the {job.queue} queue; a worker runs it again, same arguments."
    return run_sensitive(
        form,
        lambda: _again(job_id, form, "retry_form"),
        ("Retry job", url_for("admin.job_retry", job_id=job_id), [_about(job), effect]),
        lambda: job_actions.retry_job(job_id, actor(), text(form.reason)),
        (f"Job {job_id} is queued again.", url_for("admin.job_detail", job_id=job_id)),
    )


@bp.post("/jobs/<job_id>/delete")
def job_delete(job_id: str) -> ResponseReturnValue:
    job = job_actions.find_job(job_id)
    form = ReasonedForm(prefix="delete")
    effect = "Its queue entry, registry entries, arguments and exception are removed for good."
    return run_sensitive(
        form,
        lambda: _again(job_id, form, "delete_form"),
        ("Delete job", url_for("admin.job_delete", job_id=job_id), [_about(job), effect]),
        lambda: job_actions.delete_job(job_id, actor(), text(form.reason)),
        (f"Job {job_id} deleted.", _list_url(job)),
    )


def _list_url(job: JobView) -> str:
    """The list the job is shown in (its status names the registry), for the way back."""
    registry = job.status if job.status in REGISTRIES else None
    return url_for("admin.job_list", queue=job.queue, registry=registry)
