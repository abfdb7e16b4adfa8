"""The jobs console against real Redis and real RQ workers (burst, in this process): a job that
fails lands in the failed registry and shows with its function and exception; retry (confirmed,
audited) makes a worker run it to completion; delete removes it; bad filters and ids are refused.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, SimpleWorker
from rq.job import JobStatus

from app.accounts.models import AuditEntry, Role
from app.extensions import db, get_redis
from app.jobs.context import AppJob
from app.jobs.queues import QueueName, get_queue
from tests.admin import jobs_fixture
from tests.admin.conftest import client_as
from tests.admin.jobs_fixture import FLAKY, PEEK, failed_job, work
from tests.conftest import IsolatedClient

HX = {"HX-Request": "true"}


def _queue(name: QueueName = QueueName.DEFAULT) -> Queue:
    return get_queue(name, get_redis())


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _status(job_id: str) -> JobStatus:
    return AppJob.fetch(job_id, connection=get_redis()).get_status()


def _routes(job_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", "/admin/jobs"),
        ("GET", "/admin/jobs?registry=failed"),
        ("GET", f"/admin/jobs/{job_id}"),
        ("POST", f"/admin/jobs/{job_id}/retry"),
        ("POST", f"/admin/jobs/{job_id}/delete"),
    ]


def test_only_admins_reach_the_jobs_console(app: Flask, db_session: object) -> None:
    job_id = failed_job()
    student, _user = client_as(app, Role.STUDENT)
    app.test_client_class = IsolatedClient
    visitor = app.test_client()
    for method, url in _routes(job_id):
        refused = student.open(url, method=method, data={"confirmed": "yes"})
        assert refused.status_code == 403, (method, url)
        sent = visitor.open(url, method=method, data={"confirmed": "yes"})
        assert sent.status_code in (302, 303) and "/login" in sent.headers["Location"], url
    assert _status(job_id) == JobStatus.FAILED  # nobody retried or deleted it
    assert _audit("job.retry") == [] and _audit("job.delete") == []


def test_a_failed_job_shows_and_retry_runs_it_to_completion(admin_client: FlaskClient) -> None:
    job_id = failed_job("retry", 21)

    # No queue named: the list opens on the queue that has failed jobs.
    listing = admin_client.get("/admin/jobs?registry=failed")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert FLAKY in page and job_id[:8] in page
    assert "fails on its first run" in page  # the exception's last line, in the row
    assert re.search(r'aria-label="default failed: 1"[^>]*aria-current="true"', page)

    detail = admin_client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert FLAKY in detail and "&#39;retry&#39;, 21" in detail  # arguments, repr'd
    trace = re.search(r'<pre class="admin-json jobs-trace">(.*?)</pre>', detail, re.S)
    assert trace and "Traceback" in trace[1]
    assert "RuntimeError: flaky job retry fails on its first run" in trace[1]

    confirm = admin_client.post(f"/admin/jobs/{job_id}/retry", data={"retry-reason": "fixed"})
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Check what will happen" in text and job_id in text and FLAKY in text
    assert 'name="confirmed" value="yes"' in text and 'value="fixed"' in text
    assert _status(job_id) == JobStatus.FAILED and _audit("job.retry") == []  # nothing changed

    data = {"retry-reason": "fixed", "confirmed": "yes"}
    done = admin_client.post(f"/admin/jobs/{job_id}/retry", data=data)
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/admin/jobs/{job_id}")
    assert _status(job_id) == JobStatus.QUEUED
    assert _queue().get_job_ids() == [job_id] and _queue().failed_job_registry.count == 0
    (entry,) = _audit("job.retry")
    assert (entry.target_type, entry.target_id, entry.reason) == ("job", job_id, "fixed")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["status"], entry.after["status"]) == ("failed", "queued")
    assert entry.before["func"] == FLAKY and entry.actor_email

    work(_queue())  # a real worker runs it again: the second run succeeds
    job = AppJob.fetch(job_id, connection=get_redis())
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 42
    assert int(get_redis().get(jobs_fixture.runs_key("retry")) or 0) == 2
    after = admin_client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "status-finished" in after and "Retry…" not in after  # nothing left to retry
    assert f"Job {job_id} is queued again." in after  # the flash, shown on the next page


def test_delete_with_confirmation_removes_the_job(admin_client: FlaskClient) -> None:
    job_id = failed_job("delete")
    confirm = admin_client.post(f"/admin/jobs/{job_id}/delete")
    assert confirm.status_code == 200 and "Confirm: delete job" in confirm.get_data(as_text=True)
    assert _status(job_id) == JobStatus.FAILED and _audit("job.delete") == []

    done = admin_client.post(f"/admin/jobs/{job_id}/delete", data={"confirmed": "yes"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/admin/jobs?queue=default&registry=failed")
    assert admin_client.get(f"/admin/jobs/{job_id}").status_code == 404
    assert _queue().failed_job_registry.count == 0
    (entry,) = _audit("job.delete")
    assert entry.target_id == job_id and entry.before is not None
    assert entry.before["status"] == "failed" and entry.after == {"status": "deleted"}
    listing = admin_client.get("/admin/jobs?queue=default&registry=failed")
    assert job_id[:8] not in listing.get_data(as_text=True)


def test_a_job_that_has_not_failed_cannot_be_retried(admin_client: FlaskClient) -> None:
    job_id = _queue(QueueName.LOW).enqueue(FLAKY, "waiting", 1).id  # queued; no worker runs it
    for data in ({}, {"confirmed": "yes"}):
        refused = admin_client.post(f"/admin/jobs/{job_id}/retry", data=data)
        assert refused.status_code == 409
        assert "only a failed, canceled or stopped job can be retried" in refused.get_data(
            as_text=True
        )
    assert _status(job_id) == JobStatus.QUEUED and _queue(QueueName.LOW).count == 1
    assert _audit("job.retry") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("queue=nope", "Unknown queue &#39;nope&#39;: use one of critical, default, media, low."),
        ("registry=lost", "Unknown registry &#39;lost&#39;"),
        ("queue=default&registry=", ""),  # an empty value is the default, not an error
    ],
)
def test_bad_filters_are_refused(admin_client: FlaskClient, query: str, message: str) -> None:
    response = admin_client.get(f"/admin/jobs?{query}")
    if not message:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="job-rows"' not in page  # the message, nothing else


def test_an_unknown_job_is_not_found(admin_client: FlaskClient) -> None:
    for job_id in ("0123456789abcdef", "bad%20id%3Cx%3E"):
        assert admin_client.get(f"/admin/jobs/{job_id}").status_code == 404
        assert admin_client.post(f"/admin/jobs/{job_id}/retry").status_code == 404
        assert admin_client.post(f"/admin/jobs/{job_id}/delete").status_code == 404


def test_the_list_pages_and_answers_htmx_with_its_rows(
    admin_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.admin.job_views.PER_PAGE", 1)
    ids = {failed_job("one"), failed_job("two")}
    page1 = admin_client.get("/admin/jobs?queue=default&registry=failed").get_data(as_text=True)
    # Newest first, by RQ's score: whole seconds, so two jobs failing together may tie.
    (shown,) = [job_id for job_id in ids if job_id[:8] in page1]
    assert "/admin/jobs?queue=default&amp;registry=failed&amp;page=2" in page1

    partial = admin_client.get("/admin/jobs?queue=default&registry=failed&page=2", headers=HX)
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "HX-Request" in partial.headers["Vary"]
    assert body.lstrip().startswith('<div id="job-rows">') and "<html" not in body
    (other,) = ids - {shown}
    assert other[:8] in body and shown[:8] not in body
    assert "&amp;page=2" not in body and 'rel="prev"' in body


def test_the_workers_table_shows_a_live_worker_and_its_job(
    admin_client: FlaskClient,
) -> None:
    queue = _queue(QueueName.MEDIA)
    idle = SimpleWorker([queue], connection=queue.connection, name="console-idle-worker")
    idle.register_birth()
    idle.set_state("idle")
    try:
        page = admin_client.get("/admin/jobs").get_data(as_text=True)
        assert "console-idle-worker" in page and "status-idle" in page
        # While a real worker runs a job, the page shows that worker busy with it.
        jobs_fixture.console["client"] = admin_client
        job = queue.enqueue(PEEK)
        SimpleWorker([queue], connection=queue.connection, job_class=AppJob, name="peeker").work(
            burst=True
        )
        seen = jobs_fixture.console.pop("page")
        assert AppJob.fetch(job.id, connection=get_redis()).get_status() == JobStatus.FINISHED
    finally:
        jobs_fixture.console.clear()
        idle.register_death()
    row = re.search(r"<tr>\s*<td class=\"jobs-id\">peeker</td>(.*?)</tr>", seen, re.S)
    assert row, "the busy worker's row"
    assert "status-busy" in row[1] and job.id[:8] in row[1] and PEEK in row[1]
    assert "media" in row[1]


def _job_csv(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/admin/jobs?format=csv&{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == (
        "id,queue,status,function,args,kwargs,enqueued,started,ended,exception"
    )
    return list(csv.DictReader(io.StringIO(text)))


def test_search_by_function_name_or_job_id(admin_client: FlaskClient) -> None:
    low = _queue(QueueName.LOW)  # no worker runs these: they wait in the queue
    flaky = low.enqueue(FLAKY, "waiting", 1).id
    peek = low.enqueue(PEEK).id
    base = "/admin/jobs?queue=low&registry=queued"
    for q, shown in (
        ("PEEK_console", {peek}),  # any case, part of the dotted name
        ("jobs_fixture", {flaky, peek}),
        (flaky[:10].upper(), {flaky}),  # part of the id
        ("nothing-like-it", set()),
    ):
        page = admin_client.get(f"{base}&q={q}").get_data(as_text=True)
        assert {j for j in (flaky, peek) if j[:8] in page} == shown, q
        assert f'value="{q}"' in page
    empty = admin_client.get(f"{base}&q=nothing-like-it", headers=HX).get_data(as_text=True)
    assert empty.lstrip().startswith('<div id="job-rows">') and "match" in empty
    assert "search looks at the newest" not in empty


def test_search_scans_the_newest_ids_only_and_says_so(
    admin_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.admin.job_lists.SEARCH_SCAN", 2)
    low = _queue(QueueName.LOW)
    oldest = low.enqueue(PEEK).id
    newer = [low.enqueue(FLAKY, str(n), n).id for n in range(2)]
    page = admin_client.get("/admin/jobs?queue=low&registry=queued&q=jobs_fixture")
    text = page.get_data(as_text=True)
    assert "This list holds 3 jobs: a search looks at the newest 2 only." in text
    assert all(j[:8] in text for j in newer) and oldest[:8] not in text
    small = admin_client.get("/admin/jobs?queue=default&registry=queued").get_data(as_text=True)
    assert "a search looks at the newest" not in small


def test_csv_exports_the_chosen_list_and_its_search(admin_client: FlaskClient) -> None:
    first, second = failed_job("csv-one", 5), failed_job("csv-two", 6)
    elsewhere = failed_job("csv-low", 7, QueueName.LOW)
    rows = _job_csv(admin_client, "queue=default&registry=failed")
    assert {r["id"] for r in rows} == {first, second}  # not the low queue's failed job
    row = next(r for r in rows if r["id"] == first)
    assert (row["queue"], row["status"], row["function"]) == ("default", "failed", FLAKY)
    assert (row["args"], row["kwargs"]) == ("'csv-one', 5", "")
    assert row["exception"] == "RuntimeError: flaky job csv-one fails on its first run"
    assert row["enqueued"] and row["ended"]
    (found,) = _job_csv(admin_client, f"queue=default&registry=failed&q={second[:12]}")
    assert found["id"] == second
    assert [r["id"] for r in _job_csv(admin_client, "queue=low&registry=failed")] == [elsewhere]
    assert _job_csv(admin_client, "queue=default&registry=finished") == []
    # No queue named: the export is the list the page opens on, and the page links to it.
    page = admin_client.get("/admin/jobs?registry=failed&q=flaky").get_data(as_text=True)
    (link,) = re.findall(r'href="(/admin/jobs\?[^"]*format=csv[^"]*)"', page)
    assert sorted(link.split("?")[1].split("&amp;")) == [
        "format=csv",
        "q=flaky",
        "queue=default",
        "registry=failed",
    ]
    assert admin_client.get("/admin/jobs?format=csv&queue=nope").status_code == 400
