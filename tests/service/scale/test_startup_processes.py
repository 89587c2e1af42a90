"""What several processes starting on one database must do once, done once: migrating a new SQLite
file (processes started together used to fail with "table inspections already exists"), the demo
import of ``xuncha serve`` (one process imports, the others follow), and the lock behind it, which a
killed process does not keep; plus ``xuncha serve --workers 2`` itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from sqlalchemy import create_engine, text

from service import context
from service.settings import PROJECT_ROOT, Settings
from service.startup import Preparation, ProcessLock, StartupState
from service.storage.sql import _head_revisions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import environment, prepare_database, start_api, wait_ready  # noqa: E402

SAMPLES = ("minutes_liuwan_liangwei_2024-02.txt", "petition_qingshi_anonymous.txt")
OPEN = textwrap.dedent("""
    import sys
    from service.storage import open_repository
    sys.stdin.readline()  # all start together
    open_repository(sys.argv[1]).engine.dispose()
    print("opened", flush=True)
""")
HOLD = textwrap.dedent("""
    import sys, time
    from service.settings import Settings
    from service.startup import ProcessLock
    lock = ProcessLock(Settings(home=sys.argv[1], database_url=sys.argv[2] or None), "demo-import")
    print("held" if lock.acquire(blocking=False) else "busy", flush=True)
    time.sleep(120)
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield Settings(home=tmp_path / "home", database_url=url, tag_on_ingest=False, ocr=False)
    context._repository.cache_clear()


def _python(script: str, *arguments: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *arguments], cwd=PROJECT_ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


def test_processes_starting_together_on_a_new_sqlite_file_all_migrate_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'xuncha.db'}"
    starting = [_python(OPEN, url) for _ in range(4)]
    for process in starting:
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=120) for process in starting]
    assert [process.returncode for process in starting] == [0] * 4, [err[-800:] for _, err in outputs]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            versions = {row[0] for row in connection.execute(text("select version_num from alembic_version"))}
    finally:
        engine.dispose()
    assert versions == _head_revisions()


def test_a_killed_process_does_not_keep_the_lock(settings):
    context.repository(settings)  # the database exists (and is migrated) before the lock is asked for
    holder = _python(HOLD, str(settings.home), settings.database_url or "", start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read() if holder.poll() else ""
        mine = ProcessLock(settings, "demo-import")
        assert not mine.acquire(blocking=False)  # held by the other process
        assert ProcessLock(settings, "index-build", scope="home").acquire(blocking=False)  # another lock
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
        deadline = time.monotonic() + 20  # PostgreSQL ends the dead client's session when its socket closes
        while not mine.acquire(blocking=False):
            assert time.monotonic() < deadline, "the killed process still holds the lock"
            time.sleep(0.1)
        mine.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_two_processes_preparing_the_demo_import_it_once(settings):
    from service.api.app import create_app
    from service.commands.serve import plan_demo

    samples = [PROJECT_ROOT / "corpora" / "samples" / name for name in SAMPLES]
    plan = plan_demo(settings, samples[0].parent)
    preparations = []
    for _ in range(2):  # two apps, as two server processes would have (each lock on its own connection)
        app = create_app(settings)
        preparations.append(Preparation(app, StartupState(), samples, plan.inspection.id))
    threads = [threading.Thread(target=p._import_demo, args=(p.app.state.services, lambda: False))
               for p in preparations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    states = [p.state for p in preparations]
    assert [s.demo for s in states] == ["done", "done"]
    assert sorted(s.demo_added for s in states) == [0, 2]  # one imported both, the other found them stored
    documents = context.repository(settings).list_documents(inspection_id=plan.inspection.id)
    assert len(documents) == 2


def test_serve_with_two_workers_answers_from_both_processes(tmp_path):
    token, _ = prepare_database(tmp_path / "home", None)
    server = start_api("serve-workers", environment(tmp_path / "home", None, tag_on_ingest="false"), tmp_path,
                       workers=2)
    try:
        wait_ready(server, token)
        with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            assert all(client.get("/api/me").status_code == 200 for _ in range(10))
            deadline = time.monotonic() + 180  # each process builds its replica after the first (lock per directory)
            while True:
                states = [client.get("/api/startup").json()["index"]["state"] for _ in range(6)]
                if states == ["ready"] * 6 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert states == ["ready"] * 6, states
        log = server.log_text()
        assert log.count("Application startup complete") == 2, server.log_tail()
        assert "共 2 个服务进程" in log
    finally:
        server.stop()
    assert not server.alive()
    assert "Traceback" not in server.log_text(), server.log_tail(60)
