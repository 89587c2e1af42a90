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


def test_a_file_whose_worker_died_after_storing_is_recorded_as_added_once(tmp_path, monkeypatch):
    """The killed worker committed the document but not the file's outcome: the worker taking the
    file over finds the content stored, records the file as added (not a duplicate) and stores nothing."""
    from conftest import PETITION_LINES, app_settings

    from service import context
    from service.jobs import JobRunner
    from service.settings import get_settings

    settings = app_settings(monkeypatch, tmp_path / "home", tag_on_ingest="false", ocr="false")
    try:
        repository = context.repository(settings)
        jobs = JobStore(repository.engine)
        ingestor = context.ingestor(settings, tag=False)
        inspection = repository.ensure_inspection("接手轮次", "接手组").id
        data = "\n".join(PETITION_LINES + ["（接手记录测试）"]).encode("utf-8")
        job_id = uuid.uuid4().hex
        (settings.uploads_dir / job_id).mkdir(parents=True)
        (settings.uploads_dir / job_id / "0").write_bytes(data)
        jobs.create(job_id, inspection, None, [{"index": 0, "filename": "举报信.txt", "size": len(data)}])
        assert jobs.claim(job_id, 0, "dead:1:aaaa", lease=60).state == "claimed"
        stored = ingestor.ingest_bytes(data, "举报信.txt", inspection)  # its transaction committed, then SIGKILL
        assert stored.status == "added"
        _expire(repository, job_id, 0)

        runner = JobRunner(jobs, ingestor, settings.uploads_dir, lease=60)
        assert runner.run_file(job_id, 0, "live:2:bbbb") == "taken_over"
        entry = jobs.get(job_id).files[0]
        assert (entry["status"], entry["document_id"], entry["kind"]) == ("added", stored.document_id, "petition")
        assert entry["findings"] == stored.findings and jobs.get(job_id).status == "done"
        assert len(repository.list_documents(inspection_id=inspection)) == 1

        # the same content uploaded again, its worker killed too: that one is a duplicate
        again = uuid.uuid4().hex
        (settings.uploads_dir / again).mkdir(parents=True)
        (settings.uploads_dir / again / "0").write_bytes(data)
        jobs.create(again, inspection, None, [{"index": 0, "filename": "举报信副本.txt", "size": len(data)}])
        assert jobs.claim(again, 0, "dead:3:cccc", lease=60).state == "claimed"
        _expire(repository, again, 0)
        assert runner.run_file(again, 0, "live:4:dddd") == "taken_over"
        entry = jobs.get(again).files[0]
        assert (entry["status"], entry["document_id"]) == ("duplicate", stored.document_id)
        assert len(repository.list_documents(inspection_id=inspection)) == 1
    finally:
        get_settings.cache_clear()
        context._repository.cache_clear()
