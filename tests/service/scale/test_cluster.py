"""The deployment of issue 12 on one machine, every piece a real process: two ``xuncha serve`` API
processes and two ``xuncha worker`` Celery workers on a real PostgreSQL server and a real Redis
broker, each process with its own data directory and the uploads in a shared store directory.

40 uploads spread over both API processes while both answer searches: every document is stored
once, every finding is found on both API processes as soon as its job is reported done (their
search replicas follow the change log; the documents were written by the workers), every request
is in the audit log once; and a worker killed with SIGKILL in the middle of a document has that
file delivered again and completed by another worker."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from redis_fixtures import redis_server, redis_url  # noqa: F401  (fixtures)
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import environment, prepare_database, start_api, start_worker, wait_ready, wait_worker  # noqa: E402
from load import VISIBLE_WITHIN, check_database, exercise  # noqa: E402

UPLOADS = 40
LEASE, VISIBILITY = 3, 4
"""Short, so that the killed worker's file is delivered again and taken over within seconds."""


def test_two_api_processes_and_two_workers_on_postgresql_and_redis(pg_url, redis_url, tmp_path):
    token, (round_id,) = prepare_database(tmp_path / "setup", pg_url)
    common = {"broker_url": redis_url, "store_dir": str(tmp_path / "store"), "tag_on_ingest": "false",
              "worker_lease_seconds": str(LEASE), "broker_visibility_seconds": str(VISIBILITY)}

    def env(name: str, **extra: str) -> dict[str, str]:
        return environment(tmp_path / f"home-{name}", pg_url, **common, **extra)

    apis = [start_api("api-a", env("api-a"), tmp_path), start_api("api-b", env("api-b"), tmp_path)]
    # the first worker stops 0.3 s at every checkpoint, so it is always in the middle of a document
    workers = [start_worker("worker-1", env("worker-1", test_slow_checkpoint="0.3"), tmp_path, "--concurrency", "1"),
               start_worker("worker-2", env("worker-2"), tmp_path, "--concurrency", "1")]
    killed: dict = {}

    def kill_a_worker_mid_document(_outcome) -> None:
        """SIGKILL worker 1 while it runs a file; start a replacement once its lease ran out."""
        engine = create_engine(pg_url)
        try:
            deadline = time.monotonic() + 90
            while not killed and time.monotonic() < deadline:
                with engine.connect() as db:
                    running = db.execute(text("select job_id, idx, worker from job_files where status = 'running'")).all()
                for job_id, index, worker in running:
                    pid = int(worker.split(":")[1])
                    try:
                        mine = os.getpgid(pid) == workers[0].pid  # a pool process of worker 1
                    except ProcessLookupError:
                        continue
                    if mine:
                        workers[0].kill()
                        killed.update(job_id=job_id, index=index, worker=worker)
                        break
                time.sleep(0.05)
        finally:
            engine.dispose()
        assert killed, "worker 1 never ran a file"
        time.sleep(LEASE + 1)
        workers.append(start_worker("worker-3", env("worker-3"), tmp_path, "--concurrency", "1"))

    processes = apis + workers
    try:
        for worker in workers:
            wait_worker(worker)
        for api in apis:
            wait_ready(api, token)
        outcome = exercise(apis, token, round_id, UPLOADS, timeout=170, during=kill_a_worker_mid_document)
    except BaseException:
        for process in processes + workers[2:]:
            print(process.log_tail())
        raise
    finally:
        for process in apis + workers:
            process.stop()

    check_database(pg_url, outcome, UPLOADS)  # 40 stored once, each finding indexed once, audit complete
    assert outcome.misses == 0
    assert max(outcome.lag.values()) <= VISIBLE_WITHIN, sorted(outcome.lag.values())[-5:]
    print(outcome.summary())

    # The killed worker's file was delivered again, taken over and completed by another worker.
    assert killed, "no worker was killed"
    engine = create_engine(pg_url)
    try:
        with engine.connect() as db:
            status, worker, lease = db.execute(text(
                "select status, worker, lease_until from job_files where job_id = :j and idx = :i"),
                {"j": killed["job_id"], "i": killed["index"]}).one()
    finally:
        engine.dispose()
    assert status == "added" and worker != killed["worker"] and lease is None
    assert any("taken over" in w.log_text() for w in workers[1:]), "\n".join(w.log_tail() for w in workers)
    for api in apis:  # the API processes only stage and enqueue: no ingestion there
        assert "stored document" not in api.log_text()
        assert "Traceback" not in api.log_text(), api.log_tail(80)
