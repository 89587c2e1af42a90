"""The job queue shared by several processes, on SQLite and on a real PostgreSQL server: processes
claiming at the same time never get the same file, and a process that starts (a restarted API
process) marks interrupted only the files of processes that are gone, not those a live process on
this host or a process on another host is ingesting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from sqlalchemy import select

from service.jobs import JobRunner, process_gone
from service.settings import PROJECT_ROOT
from service.storage import open_repository
from service.storage.job_models import JobFile
from service.storage.jobs import JobStore

FILES = 60
CLAIMER = textwrap.dedent("""
    import json, sys
    from service.storage import open_repository
    from service.storage.jobs import JobStore
    url, name = sys.argv[1], sys.argv[2]
    store = JobStore(open_repository(url).engine)
    print("ready", flush=True)
    sys.stdin.readline()  # all claimers start together
    claimed = []
    while (task := store.claim_next(name)) is not None:
        claimed.append([task.job_id, task.index])
        store.file_done(task.job_id, task.index, {"status": "added"})
    print(json.dumps(claimed), flush=True)
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'xuncha.db'}"
    return request.getfixturevalue("pg_url")


def _queue(url: str, jobs: int, files: int) -> tuple[JobStore, object]:
    repository = open_repository(url)
    inspection = repository.ensure_inspection("队列轮次", "队列组")
    store = JobStore(repository.engine)
    for number in range(jobs):
        store.create(f"job{number:02d}", inspection.id, None,
                     [{"index": i, "filename": f"{i}.txt", "size": 10, "cost": 1 + (i * 7) % 5} for i in range(files)])
    return store, repository


def test_processes_claiming_together_never_get_the_same_file(database):
    store, repository = _queue(database, 3, FILES // 3)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    claimers = [subprocess.Popen([sys.executable, "-c", CLAIMER, database, f"host:{n}:claimer"], cwd=PROJECT_ROOT,
                                 env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for n in range(3)]
    try:
        for claimer in claimers:
            assert claimer.stdout.readline().strip() == "ready", claimer.stderr.read()
        for claimer in claimers:
            claimer.stdin.write("go\n")
            claimer.stdin.flush()
        results = []
        for claimer in claimers:
            out, err = claimer.communicate(timeout=120)
            assert claimer.returncode == 0, err
            results.append([tuple(item) for item in json.loads(out.strip().splitlines()[-1])])
    finally:
        for claimer in claimers:
            if claimer.poll() is None:
                claimer.kill()
    claimed = [item for result in results for item in result]
    assert len(claimed) == FILES and len(set(claimed)) == FILES  # every file once, none twice
    assert sum(1 for result in results if result) >= 2  # they really competed
    with repository.session() as session:
        statuses = session.scalars(select(JobFile.status)).all()
    assert statuses == ["added"] * FILES
    assert {job.status for job in (store.get(f"job{n:02d}") for n in range(3))} == {"done"}
    repository.engine.dispose()


def test_a_starting_process_interrupts_only_the_files_of_processes_that_are_gone(database, tmp_path):
    store, repository = _queue(database, 1, 4)
    import socket

    host = socket.gethostname()[:32]
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        owners = [f"{host}:{alive.pid}:xuncha-job-0",  # another API process of this host, ingesting
                  f"{host}:{dead.pid}:xuncha-job-0",  # one that was killed
                  "another-host:4242:xuncha-job-1",  # a process on another machine: its own restart recovers it
                  f"{host}:{os.getpid()}:xuncha-job-1"]  # this pid before a restart (pids are used again)
        for owner in owners:
            assert store.claim_next(owner) is not None
        assert [process_gone(owner) for owner in owners] == [False, True, False, True]
        JobRunner(store, None, tmp_path / "uploads").recover()
        with repository.session() as session:
            rows = {row.worker: (row.status, row.code) for row in session.scalars(select(JobFile))}
        assert rows == {owners[0]: ("running", None), owners[1]: ("error", "interrupted"),
                        owners[2]: ("running", None), owners[3]: ("error", "interrupted")}, rows
        job = store.get("job00")
        assert job.status == "running" and job.processed == 2
    finally:
        alive.kill()
        alive.wait()
        repository.engine.dispose()
