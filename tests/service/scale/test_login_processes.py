"""The login throttle holds across API processes: failed logins of an account from one address
count together whichever process answered them (they are in the shared audit log), so two
processes do not give a guesser twice the attempts."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import PASSWORD, environment, prepare_database, start_api, wait_up  # noqa: E402

USER = "扩展测试员"


def _login(server, password: str) -> int:
    return httpx.post(f"{server.base}/api/auth/login", json={"username": USER, "password": password},
                      timeout=60).status_code


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("pg_url")


def test_failed_logins_on_two_processes_count_together(tmp_path, database):
    prepare_database(tmp_path / "home", database)
    env = environment(tmp_path / "home", database, tag_on_ingest="false")
    servers = [start_api("api-a", env, tmp_path), start_api("api-b", env, tmp_path)]
    try:
        for server in servers:
            wait_up(server)
        a, b = servers
        assert _login(a, PASSWORD) == 200
        # five failures from this address, three answered by one process and two by the other
        assert [_login(server, "wrong-password") for server in (a, b, a, b, a)] == [401] * 5
        assert _login(b, "wrong-password") == 429  # b saw two itself; the log has five
        assert _login(a, PASSWORD) == 429 and _login(b, PASSWORD) == 429  # the address waits out the window
    finally:
        for server in servers:
            server.stop()
