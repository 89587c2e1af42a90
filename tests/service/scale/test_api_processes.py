"""Two ``xuncha serve`` processes over one real PostgreSQL server, each ingesting with its own
in-process job threads from the shared queue: 40 uploads spread over both while both answer
searches; every file is ingested once (by one of the two), every finding is found on both within
2 s of its job finishing (each process's search replica follows the change log), and every request
is in the audit log once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import environment, prepare_database, start_api, wait_ready  # noqa: E402
from load import VISIBLE_WITHIN, check_database, exercise  # noqa: E402

UPLOADS = 40


def test_two_api_processes_share_the_queue_and_the_index(pg_url, tmp_path):
    token, (round_id,) = prepare_database(tmp_path / "setup", pg_url)
    # One data directory for both (staged uploads must be readable by whichever process claims the
    # file); each process still keeps its own replica in memory and follows the change log.
    env = environment(tmp_path / "home", pg_url, tag_on_ingest="false", job_workers="2")
    servers = [start_api("api-a", env, tmp_path), start_api("api-b", env, tmp_path)]
    try:
        for server in servers:
            wait_ready(server, token)
        outcome = exercise(servers, token, round_id, UPLOADS)
    except BaseException:
        for server in servers:
            print(server.log_tail())
        raise
    finally:
        for server in servers:
            server.stop()
    facts = check_database(pg_url, outcome, UPLOADS)
    # Both processes took files from the queue, each file once (check_database: 40 stored, 40 added).
    ran = {worker.split(":")[1] for worker in facts["workers"]}
    assert ran == {str(server.pid) for server in servers}, ran
    assert len(outcome.lag) == 2 * facts["findings"]
    # Read-your-writes across processes: no search sent after the job was reported done missed a
    # finding (each search applies the change log first), and all were sent within the bound.
    assert outcome.misses == 0
    assert max(outcome.lag.values()) <= VISIBLE_WITHIN, sorted(outcome.lag.values())[-5:]
    print(outcome.summary())
    assert outcome.background_searches > 0
    for server in servers:
        assert "Traceback" not in server.log_text(), server.log_tail(80)
