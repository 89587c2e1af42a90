"""How a queue worker claims one file (service.storage.jobs.JobStore.claim), on a real SQLite file
and a real PostgreSQL server: a queued file is claimed, a running one under a live lease is busy,
one whose lease ran out is taken over (and its old holder can no longer record anything), a
finished one is nothing to do."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from sqlalchemy import update

from service.storage import open_repository
from service.storage.job_models import JobFile
from service.storage.jobs import ClaimLost, JobStore
from service.storage.models import utcnow


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'claims.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    repository = open_repository(url)
    yield repository, JobStore(repository.engine)
    repository.engine.dispose()


def _job(repository, store, files: int = 2) -> str:
    inspection = repository.ensure_inspection("领取轮次", "领取组").id
    job_id = uuid.uuid4().hex
    store.create(job_id, inspection, None, [{"index": i, "filename": f"{i}.txt", "size": 10} for i in range(files)])
    return job_id


def _expire(repository, job_id: str, index: int) -> None:
    with repository.engine.begin() as connection:
        connection.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.idx == index)
                           .values(lease_until=utcnow() - timedelta(seconds=1)))


def test_claim_busy_takeover_and_finished(store):
    repository, jobs = store
    job_id = _job(repository, jobs)

    first = jobs.claim(job_id, 0, "host:1:aaaa", lease=60)
    assert first.state == "claimed" and first.task.index == 0 and first.task.filename == "0.txt"
    assert jobs.get(job_id).status == "running"
    assert jobs.claim(job_id, 0, "host:2:bbbb", lease=60).state == "busy"  # the holder is alive
    assert jobs.renew([(job_id, 0)], "host:1:aaaa", lease=60) == []
    assert jobs.stale() == []

    _expire(repository, job_id, 0)  # the holder was killed: nobody renews
    assert jobs.stale() == [(job_id, 0)]
    second = jobs.claim(job_id, 0, "host:2:bbbb", lease=60)
    assert second.state == "taken_over" and second.task.index == 0
    assert jobs.claim(job_id, 0, "host:3:cccc", lease=60).state == "busy"
    # the old holder, were it only slow, has lost the file: it cannot renew or record
    assert jobs.renew([(job_id, 0)], "host:1:aaaa", lease=60) == [(job_id, 0)]
    with pytest.raises(ClaimLost):
        jobs.file_done(job_id, 0, {"status": "added", "document_id": 7}, worker="host:1:aaaa")
    jobs.release(job_id, 0, worker="host:1:aaaa")  # no effect either
    assert jobs.get(job_id).files[0]["status"] == "running"

    record = jobs.file_done(job_id, 0, {"status": "added", "document_id": 7, "pages": 1}, worker="host:2:bbbb")
    assert record.files[0]["status"] == "added" and record.status == "running"  # file 1 still queued
    assert jobs.claim(job_id, 0, "host:3:cccc", lease=60).state == "finished"  # a redelivery is a no-op
    assert jobs.queued(job_id) == [(job_id, 1, 1)]


def test_a_cancelled_or_deleted_job_leaves_nothing_to_claim(store):
    repository, jobs = store
    job_id = _job(repository, jobs)
    assert jobs.claim(job_id, 0, "host:1:aaaa", lease=60).state == "claimed"
    jobs.cancel(job_id)  # the queued file is cancelled at once, the running one at its next checkpoint
    assert jobs.claim(job_id, 1, "host:2:bbbb", lease=60).state == "finished"
    assert jobs.get(job_id).files[1]["status"] == "cancelled"
    assert jobs.claim(uuid.uuid4().hex, 0, "host:2:bbbb", lease=60).state == "finished"  # no such job


def test_unqueue_fails_only_files_still_queued(store):
    repository, jobs = store
    job_id = _job(repository, jobs, files=3)
    assert jobs.claim(job_id, 1, "host:1:aaaa", lease=60).state == "claimed"
    jobs.unqueue(job_id, [0, 1, 2], "queue_unavailable", "导入队列暂时不可用")
    files = jobs.get(job_id).files
    assert [f["status"] for f in files] == ["error", "running", "error"]
    jobs.file_done(job_id, 1, {"status": "added"}, worker="host:1:aaaa")
    job = jobs.get(job_id)
    assert job.status == "failed" and job.retryable
    assert jobs.requeue(job_id) and [f["status"] for f in jobs.get(job_id).files] == ["queued", "added", "queued"]
