"""Processing an uploaded video for real: ffmpeg, local storage, committed rows, RQ queues, and a
worker process SIGKILLed in the middle of a transcode."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from rq.registry import StartedJobRegistry

from app.accounts.models import Role
from app.catalog.models import Lecture
from app.core.models import utcnow
from app.extensions import db, get_redis
from app.jobs.queues import MEDIA_RETRY, QueueName, get_queue
from app.media import hls, jobs
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.storage.local import LocalStorage
from app.media.storage.signing import UrlSigner
from app.notifications.models import Notification
from tests.factories import make_course, make_user
from tests.media.clips import make_clip, make_text_file
from tests.media.conftest import install
from tests.processes import start_worker, stop_group, wait_for


@pytest.fixture
def storage(live_app: Flask, tmp_path: Path) -> Iterator[LocalStorage]:
    root = tmp_path / "media"
    saved = live_app.config["MEDIA_ROOT"]
    live_app.config["MEDIA_ROOT"] = str(root)
    try:
        for installed in install(
            live_app, LocalStorage(root, UrlSigner(live_app.config["SECRET_KEY"]))
        ):
            assert isinstance(installed, LocalStorage)
            yield installed
    finally:
        live_app.config["MEDIA_ROOT"] = saved


def _uploaded(storage: LocalStorage, source: Path, lecture: Lecture) -> int:
    """A confirmed upload of `source` for the lecture, committed: what confirm_upload leaves."""
    key = f"src/{uuid.uuid4().hex}"
    storage.put_file(key, source, "video/mp4")
    course_teacher = db.session.scalar(
        sa.text(
            "SELECT c.teacher_id FROM courses c JOIN chapters ch ON ch.course_id = c.id "
            "WHERE ch.id = :id"
        ),
        {"id": lecture.chapter_id},
    )
    media = MediaFile(
        kind=MediaKind.VIDEO,
        status=MediaStatus.UPLOADED,
        owner_id=course_teacher,
        lecture_id=lecture.id,
        file_name=source.name,
        content_type="video/mp4",
        size_bytes=source.stat().st_size,
        storage_key=key,
        part_size=8 * 1024 * 1024,
        confirmed_at=utcnow(),
    )
    db.session.add(media)
    db.session.commit()
    return media.id


def _lecture() -> Lecture:
    make_course("Video course", teacher=make_user(Role.TEACHER))
    db.session.commit()
    return db.session.scalars(sa.select(Lecture)).one()


def _fresh(media_id: int) -> MediaFile:
    db.session.expire_all()
    media = db.session.get(MediaFile, media_id)
    assert media is not None
    db.session.rollback()  # end the read: the next one sees new commits
    return media


def _queued(queue: QueueName, func: str) -> list[tuple[Any, ...]]:
    return [tuple(j.args) for j in get_queue(queue).get_jobs() if j.func_name == func]


def test_a_video_becomes_hls_and_replaces_the_lectures_old_one(
    committed: Any, storage: LocalStorage, tmp_path: Path
) -> None:
    lecture = _lecture()
    first = _uploaded(storage, make_clip(tmp_path / "first.mp4", seconds=3), lecture)
    assert jobs.transcode_media(first) == "ready"
    media = _fresh(first)
    assert media.status is MediaStatus.READY and media.progress == 100 and media.attempts == 1
    assert [r["name"] for r in media.renditions] == ["360p", "720p"]
    assert abs((media.duration_ms or 0) - 3000) < 1000
    assert media.output_prefix and media.thumbnail_key
    old_prefix, old_source = media.output_prefix, media.storage_key
    master = storage.open(media.output_prefix + "master.m3u8").read().decode()
    variants = hls.parse_master(master)
    assert [v.uri for v in variants] == [r["playlist"] for r in media.renditions]
    for variant in variants:
        playlist = hls.parse_media(storage.open(media.output_prefix + variant.uri).read().decode())
        assert playlist.segments and abs(playlist.duration - 3) < 1
        for segment in playlist.segments:
            assert storage.size(media.output_prefix + hls.resolve(variant.uri, segment.uri))
    assert storage.read_head(media.thumbnail_key, 3) == b"\xff\xd8\xff"  # a JPEG
    lecture_now = db.session.get(Lecture, lecture.id)
    assert lecture_now is not None and lecture_now.media_file_id == first
    assert lecture_now.duration_s == 3
    assert _queued(QueueName.LOW, "app.media.jobs.send_media_notice") == [(first,)]

    # Running the job again (a duplicate, a retry that finds it done) does nothing more.
    assert jobs.transcode_media(first) is None
    assert _fresh(first).attempts == 1

    # A new upload for the lecture: the old video plays until the new one is ready, then goes.
    second = _uploaded(storage, make_clip(tmp_path / "second.mp4", seconds=2, height=360), lecture)
    db.session.expire_all()
    assert db.session.get(Lecture, lecture.id).media_file_id == first  # type: ignore[union-attr]
    db.session.rollback()
    assert jobs.transcode_media(second) == "ready"
    db.session.expire_all()
    assert db.session.get(Lecture, lecture.id).media_file_id == second  # type: ignore[union-attr]
    assert _fresh(first).status is MediaStatus.ABORTED
    cleanup = _queued(QueueName.LOW, "app.media.jobs.delete_media_outputs")
    assert (old_prefix,) in cleanup and (old_source,) in cleanup
    for (prefix,) in cleanup:
        jobs.delete_media_outputs(prefix)
    assert list(storage.keys(old_prefix)) == []
    assert storage.size(old_source) is None
    assert list(storage.keys(_fresh(second).output_prefix or "-"))  # the new one stays

    # The teacher hears of each outcome once, however often the notice job runs.
    for _ in range(2):
        jobs.send_media_notice(second)
    jobs.send_media_notice(first)  # retired meanwhile: nothing to say about it any more
    titles = db.session.scalars(sa.select(Notification.title)).all()
    assert titles == ["Your video second.mp4 is ready"]


def test_a_file_that_is_not_a_video_fails_with_a_reason(
    committed: Any, storage: LocalStorage, tmp_path: Path
) -> None:
    lecture = _lecture()
    fake = _uploaded(storage, make_text_file(tmp_path / "notes.mp4"), lecture)
    assert jobs.transcode_media(fake) == "failed"
    media = _fresh(fake)
    assert media.status is MediaStatus.FAILED
    assert media.error and "/" not in media.error  # readable, no server paths
    assert db.session.get(Lecture, lecture.id).media_file_id is None  # type: ignore[union-attr]
    jobs.send_media_notice(fake)
    notice = db.session.scalars(sa.select(Notification)).one()
    assert notice.title == "We could not process notes.mp4" and notice.body == media.error


def test_progress_only_goes_up_and_ends_at_100(
    committed: Any, storage: LocalStorage, tmp_path: Path, live_app: Flask
) -> None:
    lecture = _lecture()
    media_id = _uploaded(storage, make_clip(tmp_path / "long.mp4", seconds=8), lecture)
    seen: list[int] = []
    done = threading.Event()

    def poll() -> None:
        with live_app.app_context(), db.engine.connect() as conn:
            while True:
                last = done.is_set()  # one more read after the job returned
                value = conn.execute(
                    sa.text("SELECT progress FROM media_files WHERE id = :id"), {"id": media_id}
                ).scalar_one()
                conn.rollback()
                if not seen or seen[-1] != value:
                    seen.append(value)
                if last:
                    return
                time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        assert jobs.transcode_media(media_id) == "ready"
    finally:
        done.set()
        poller.join()
    assert seen == sorted(seen) and seen[-1] == 100
    assert any(0 < p < 100 for p in seen), seen  # it moved while it ran, not only at the end


def _media_worker(urls: dict[str, str], media_root: Path) -> subprocess.Popen[bytes]:
    return start_worker(
        urls,
        MEDIA_ROOT=str(media_root),
        WORKER_QUEUES="media",
        WORKER_PROCESSES="1",
        WORKER_CRITICAL_PROCESSES="0",
    )


def _ffmpeg_running(marker: str) -> bool:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return bool(found.stdout.strip())


def test_a_worker_killed_mid_transcode_retries_to_ready(
    committed: Any, storage: LocalStorage, tmp_path: Path, service_urls: dict[str, str]
) -> None:
    lecture = _lecture()
    media_id = _uploaded(storage, make_clip(tmp_path / "killed.mp4", seconds=12), lecture)
    queue = get_queue(QueueName.MEDIA)
    job = queue.enqueue(jobs.transcode_media, media_id, retry=MEDIA_RETRY.rq(), job_timeout=600)
    worker = _media_worker(service_urls, storage.root)
    try:
        assert wait_for(lambda: _fresh(media_id).progress > 0, 60), "it never started transcoding"
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, mid-transcode
        worker.wait(timeout=10)
    except BaseException:
        os.killpg(worker.pid, signal.SIGKILL)
        raise
    assert wait_for(lambda: not _ffmpeg_running("cf-transcode-"), 10), "ffmpeg outlived its worker"
    killed = _fresh(media_id)
    assert killed.status is MediaStatus.PROCESSING and killed.attempts == 1
    first_prefix = killed.output_prefix

    # What any live worker's maintenance does once the dead one's heartbeat has lapsed.
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    job.refresh()
    assert job.retries_left == MEDIA_RETRY.max - 1

    worker = _media_worker(service_urls, storage.root)  # its scheduler fires the retry
    try:
        assert wait_for(lambda: _fresh(media_id).status is MediaStatus.READY, 240), "not recovered"
    finally:
        stop_group(worker)
    media = _fresh(media_id)
    assert media.attempts == 2 and media.progress == 100
    assert media.output_prefix != first_prefix  # the killed attempt's partial outputs are queued
    assert (first_prefix,) in _queued(QueueName.LOW, "app.media.jobs.delete_media_outputs")
    get_redis().flushdb()


def test_the_sweep_requeues_lost_jobs_and_fails_dead_ones(
    committed: Any, storage: LocalStorage, tmp_path: Path
) -> None:
    from datetime import timedelta

    from app.media.jobs import sweep_media

    lecture = _lecture()
    waiting = _uploaded(storage, make_text_file(tmp_path / "a.mp4"), lecture)
    dead = _uploaded(storage, make_text_file(tmp_path / "b.mp4"), lecture)
    fresh = _uploaded(storage, make_text_file(tmp_path / "c.mp4"), lecture)
    long_ago = utcnow() - timedelta(days=1)
    db.session.execute(
        sa.text("UPDATE media_files SET updated_at = :t WHERE id IN (:a, :b)"),
        {"t": long_ago, "a": waiting, "b": dead},
    )
    db.session.execute(
        sa.text("UPDATE media_files SET status = 'processing' WHERE id = :b"), {"b": dead}
    )
    db.session.commit()
    assert sweep_media() == (1, 1)
    assert _queued(QueueName.MEDIA, "app.media.jobs.transcode_media") == [(waiting,)]
    assert _fresh(dead).status is MediaStatus.FAILED and "Retry" in (_fresh(dead).error or "")
    assert _fresh(fresh).status is MediaStatus.UPLOADED
    assert sweep_media() == (0, 0)  # the requeued one waits another 10 minutes


def test_work_folders_of_killed_transcodes_are_removed_once_stale(tmp_path: Path) -> None:
    from app.media.processing import WORKDIR_PREFIX, remove_stale_workdirs

    old, fresh, other = (tmp_path / name for name in ("cf-transcode-a", "cf-transcode-b", "x"))
    for folder in (old, fresh, other):
        (folder / "out").mkdir(parents=True)
    hour_ago = time.time() - 3600
    for folder in (old, other):
        os.utime(folder, (hour_ago, hour_ago))
    assert old.name.startswith(WORKDIR_PREFIX)
    assert remove_stale_workdirs(600, tmp_path) == 1
    assert not old.exists() and fresh.exists() and other.exists()  # a running job's, not ours
