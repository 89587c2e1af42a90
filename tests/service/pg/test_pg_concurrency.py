"""Concurrent writers on a real PostgreSQL server (READ COMMITTED, real row locks): documents added
by 8 threads to one round, rounds created at the same time, the job queue claimed by two workers,
and files of one job finishing at the same moment."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.storage import NewDocument, NewFinding, models, open_repository
from service.storage.changes import IndexChange
from service.storage.jobs import JobStore


def _document(sha: str) -> NewDocument:
    return NewDocument(
        filename="谈话记录.docx", sha256=sha, size=3, media_type="docx", kind="interview", kind_score=0.9,
        kind_scores={"interview": 0.9}, fields={"interviewee": "孙桂芳"}, pages=1, encoding=None, ocr_pages=[],
        warnings=[], original_path=f"{sha[:2]}/{sha}.docx", text="谈话",
        findings=[NewFinding(i, f"问题{i}", 0, 2, 0, 2, 1, None, "statement", None, []) for i in range(3)],
    )


@pytest.fixture
def repository(pg_url):
    repository = open_repository(pg_url)
    yield repository
    repository.engine.dispose()


def test_eight_threads_add_documents_to_one_round(repository):
    inspection = repository.ensure_inspection("第二轮", "一组")
    start = threading.Barrier(8)

    def add(worker: int) -> list[int]:
        start.wait()
        return [repository.add_document(inspection.id, _document(f"{worker:02d}{n:062d}")) for n in range(10)]

    with ThreadPoolExecutor(8) as pool:
        ids = [i for batch in pool.map(add, range(8)) for i in batch]
    assert len(set(ids)) == 80
    assert repository.inspection_counts() == {inspection.id: (80, 240)}
    with repository.session() as session:
        finding_ids = session.scalars(select(models.Finding.id)).all()
        logged = session.execute(select(IndexChange.seq, IndexChange.item_id)).all()
    assert len(set(finding_ids)) == 240
    assert len({seq for seq, _ in logged}) == len(logged) == 240  # one change row each, no seq twice
    assert Counter(item for _, item in logged) == Counter(finding_ids)


def test_the_same_file_added_at_once_is_stored_once(repository):
    inspection = repository.ensure_inspection("第二轮", "一组")
    start = threading.Barrier(4)

    def add(_: int) -> int | None:
        start.wait()
        try:
            return repository.add_document(inspection.id, _document("f" * 64))
        except IntegrityError:
            return None

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(add, range(4)))
    assert sum(r is not None for r in results) == 1
    assert [d.finding_count for d in repository.list_documents()] == [3]


def test_rounds_created_at_once_are_one_round(repository):
    start = threading.Barrier(8)

    def ensure(_: int) -> int:
        start.wait()
        return repository.ensure_inspection("同名轮次", "一组").id

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(ensure, range(8)))
    assert len(ids) == 1 and [r.id for r in repository.list_inspections()] == list(ids)


def _queue(repository, store: JobStore, jobs: int, files: int) -> list[str]:
    rounds = [repository.ensure_inspection("第一轮", team) for team in ("一组", "二组")]
    job_ids = []
    for n in range(jobs):
        job_id = f"job{n:03d}"
        store.create(job_id, rounds[n % 2].id, None,
                     [{"index": i, "filename": f"{i}.docx", "size": 100 * (i + 1)} for i in range(files)])
        job_ids.append(job_id)
    return job_ids


def test_two_workers_never_claim_one_file_twice(repository):
    store = JobStore(repository.engine)
    job_ids = _queue(repository, store, jobs=6, files=8)
    claimed: dict[str, list[tuple[str, int]]] = {"w1": [], "w2": []}
    start = threading.Barrier(2)

    def work(worker: str) -> None:
        start.wait()
        while (task := store.claim_next(worker)) is not None:
            claimed[worker].append((task.job_id, task.index))
            store.file_done(task.job_id, task.index, {"status": "added", "findings": 1})

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(work, claimed))
    every = claimed["w1"] + claimed["w2"]
    assert len(every) == len(set(every)) == 48
    assert claimed["w1"] and claimed["w2"], "both workers took part"
    for job_id in job_ids:
        job = store.get(job_id)
        assert (job.status, job.processed, job.total) == ("done", 8, 8)
    assert store.pending() == 0


def test_files_of_one_job_finishing_together_leave_it_done(repository):
    """Each file's result and the job's status derived from all files: two files finishing at the
    same moment must not both derive it from a state missing the other's result."""
    store = JobStore(repository.engine)
    job_ids = _queue(repository, store, jobs=30, files=2)
    tasks = []
    while (task := store.claim_next("w")) is not None:
        tasks.append(task)
    assert len(tasks) == 60 and {j.status for j in map(store.get, job_ids)} == {"running"}
    by_job = {job_id: [t for t in tasks if t.job_id == job_id] for job_id in job_ids}
    barrier = threading.Barrier(2)

    def finish(side: int) -> None:
        for job_id in job_ids:
            task = by_job[job_id][side]
            barrier.wait()
            store.file_done(job_id, task.index, {"status": "added", "document_id": None, "findings": 2})

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(finish, (0, 1)))
    stuck = [(j.id, j.status, j.processed) for j in map(store.get, job_ids) if j.status != "done"]
    assert stuck == []
    assert all(store.get(job_id).processed == 2 and store.ended(job_id) for job_id in job_ids)


def test_cancel_while_workers_claim_leaves_no_file_running_unseen(repository):
    store = JobStore(repository.engine)
    job_ids = _queue(repository, store, jobs=4, files=10)
    start = threading.Barrier(3)
    claimed: list[tuple[str, int]] = []

    def work(worker: str) -> None:
        start.wait()
        while (task := store.claim_next(worker)) is not None:
            claimed.append((task.job_id, task.index))
            status = "cancelled" if store.cancel_requested(task.job_id) else "added"
            store.file_done(task.job_id, task.index, {"status": status})

    def cancel(_: str) -> None:
        start.wait()
        for job_id in job_ids[::2]:
            store.cancel(job_id)

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda f: f[0](f[1]), ((work, "w1"), (work, "w2"), (cancel, ""))))
    assert len(claimed) == len(set(claimed))
    for job_id in job_ids:
        job = store.get(job_id)
        assert job.processed == job.total == 10 and job.status in ("done", "cancelled")
        assert all(f["status"] in ("added", "cancelled") for f in job.files)
    assert all(store.get(job_id).status == "done" for job_id in job_ids[1::2])
