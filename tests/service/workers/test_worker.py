"""Ingestion by real ``xuncha worker`` processes on a real Redis server: uploads through the real
API (uvicorn, over HTTP) with ``XUNCHA_BROKER_URL`` set are staged and enqueued, never ingested by
the API process; a worker ingests them on SQLite and on PostgreSQL; a delivery of a finished file is
a no-op; a worker killed with SIGKILL mid-document leaves its task to be delivered again, and a
second worker takes the file over and stores the document exactly once."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import MINUTES_LINES, PETITION_LINES
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from redis_fixtures import redis_server, redis_url, running_worker, worker_env  # noqa: F401  (fixtures)
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_fixtures import Api, running_api  # noqa: E402
from test_queue import _until, _upload  # noqa: E402  (upload and poll helpers of the in-process queue tests)

LEASE, VISIBILITY = 3, 4
"""Short enough that a killed worker's file is redelivered and taken over within seconds."""
PAGE = "第{page}页第{line}行：县水利局推进农田水利工程建设，落实工程项目资金管理制度（接手测试）。"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str | None:
    """The database URL the API and the workers share (None: the SQLite file in XUNCHA_HOME)."""
    return None if request.param == "sqlite" else request.getfixturevalue("pg_url")


def _settings(home: Path, broker: str, database: str | None, **extra: str) -> dict[str, str]:
    values = {"home": str(home), "broker_url": broker, "tag_on_ingest": "false", "ocr": "false",
              "max_file_mb": "2", "prepare_leads": "false", "worker_lease_seconds": str(LEASE),
              "broker_visibility_seconds": str(VISIBILITY), **extra}
    if database:
        values["database_url"] = database
    return values


@pytest.fixture
def server(tmp_path, redis_url, database):
    settings = _settings(tmp_path / "home", redis_url, database)
    with running_api(tmp_path / "home", **{k: v for k, v in settings.items() if k != "home"}) as api:
        api.worker_settings = settings
        yield api


def _engine(api: Api):
    return create_engine(api.settings.db_url)


def _count(api: Api, sql: str, **params) -> int:
    engine = _engine(api)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_uploads_are_ingested_by_a_worker_process(server, make_docx):
    from service.workers.app import celery_app
    from service.workers.dispatch import QueueDispatcher, send

    assert isinstance(server.app.state.services.runner, QueueDispatcher)
    token = server.add_user("队列用户", "队列巡察组")
    minutes = make_docx(MINUTES_LINES + ["（队列导入测试）"], "会议记录.docx").read_bytes()
    petition = "\n".join(PETITION_LINES + ["（队列导入测试）"]).encode("utf-8")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "队列轮次"}).json()["id"]
        queued = _upload(client, inspection, [("会议记录.docx", minutes), ("举报信.txt", petition)])
        time.sleep(1.0)
        waiting = client.get(f"/api/jobs/{queued['id']}").json()
        # no worker yet: the API process ingests nothing itself
        assert waiting["status"] == "queued" and waiting["status_label"] == "排队中", waiting
        assert not [t for t in threading.enumerate() if t.name.startswith("xuncha-job-")]

        with running_worker(worker_env(**server.worker_settings)) as worker:
            done = server.wait(client, queued["id"])
            assert done["status"] == "done", done
            assert sorted(f["status"] for f in done["files"]) == ["added", "added"]
            assert {f["kind"] for f in done["files"]} == {"minutes", "petition"}
            listed = client.get("/api/documents", params={"inspection_id": inspection}).json()
            assert sorted(d["filename"] for d in listed) == ["举报信.txt", "会议记录.docx"]

            again = server.wait(client, _upload(client, inspection, [("举报信副本.txt", petition)])["id"])
            assert again["files"][0]["status"] == "duplicate"

            # a task delivered again for a file already finished changes nothing
            # (with the tests' short visibility timeout the broker may already have delivered one twice)
            before = client.get(f"/api/jobs/{queued['id']}").json()
            noops = worker.log().count("'finished'")
            send(celery_app(server.settings), [(queued["id"], 0, 1), (queued["id"], 1, 1)])
            deadline = time.monotonic() + 30
            while worker.log().count("'finished'") < noops + 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert worker.log().count("'finished'") >= noops + 2, worker.log()[-3000:]
            assert client.get(f"/api/jobs/{queued['id']}").json() == before
    assert _count(server, "SELECT count(*) FROM documents WHERE inspection_id = :i", i=inspection) == 2
    assert not any((server.settings.uploads_dir).glob("*/*"))  # staged uploads removed once done


def test_a_worker_killed_mid_document_is_replaced_and_the_document_stored_once(server, make_pdf):
    token = server.add_user("接手用户", "接手巡察组")
    lines = [PAGE.format(page=p, line=n) for p in range(1, 25) for n in range(1, 11)]
    pdf = make_pdf(lines, "汇编.pdf", lines_per_page=10).read_bytes()
    slow = worker_env(**server.worker_settings, test_slow_checkpoint="0.3")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "接手轮次"}).json()["id"]
        job = _upload(client, inspection, [("汇编.pdf", pdf)])
        with running_worker(slow, name="first") as first:
            _until(client, job["id"], lambda j: j["files"][0]["status"] == "running")
            time.sleep(2.0)  # several pages in
            first.kill()
        stopped = client.get(f"/api/jobs/{job['id']}").json()
        assert stopped["files"][0]["status"] == "running", stopped  # nobody knows yet
        assert _count(server, "SELECT count(*) FROM documents WHERE inspection_id = :i", i=inspection) == 0

        with running_worker(worker_env(**server.worker_settings), name="second") as second:
            done = server.wait(client, job["id"], timeout=120)
            log = second.log()
        assert done["status"] == "done", done
        entry = done["files"][0]
        assert entry["status"] == "added" and entry["pages"] == 24, entry
        assert "taken over" in log, log[-3000:]
        detail = client.get(f"/api/documents/{entry['document_id']}")
        assert detail.status_code == 200 and detail.json()["pages"] == 24

    assert _count(server, "SELECT count(*) FROM documents WHERE inspection_id = :i", i=inspection) == 1
    assert _count(server, "SELECT count(*) FROM findings WHERE document_id NOT IN (SELECT id FROM documents)") == 0
    assert _count(server, "SELECT count(*) FROM job_files WHERE job_id = :j AND lease_until IS NOT NULL",
                  j=job["id"]) == 0
    uploads = [e for e in server.app.state.services.audit.entries(limit=500)
               if e.action == "documents.upload" and e.object_id == job["id"]]
    assert [(e.user_name, e.outcome, e.inspection_id) for e in uploads] == [("接手用户", "ok", inspection)]
    reads = [e for e in server.app.state.services.audit.entries(limit=500)
             if e.action == "job.read" and e.object_id == job["id"]]
    assert reads and all(e.outcome == "ok" for e in reads)


def test_an_upload_whose_tasks_cannot_be_sent_fails_at_once_and_can_be_retried(tmp_path, make_docx):
    """Broker unreachable: the upload is kept and its files fail as retryable with a Chinese reason
    instead of waiting for ever in 排队中."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # nothing listens here once the socket is closed
    settings = _settings(tmp_path / "home", f"redis://127.0.0.1:{closed}/0", None)
    with running_api(tmp_path / "home", **{k: v for k, v in settings.items() if k != "home"}) as api:
        token = api.add_user("断线用户", "断线巡察组")
        with api.client(token) as client:
            inspection = client.post("/api/inspections", json={"name": "断线轮次"}).json()["id"]
            started = time.monotonic()
            job = _upload(client, inspection, [("会议记录.docx", make_docx(MINUTES_LINES, "会议记录.docx").read_bytes())])
            assert time.monotonic() - started < 20
            failed = client.get(f"/api/jobs/{job['id']}").json()
            assert failed["status"] == "failed" and failed["retryable"], failed
            assert failed["files"][0]["code"] == "queue_unavailable"
            assert failed["files"][0]["message"] == "导入队列暂时不可用，该文件尚未开始导入，可以重试"
            assert api.settings.uploads_dir.joinpath(job["id"], "0").exists()  # kept for the retry
            retried = client.post(f"/api/jobs/{job['id']}/retry")  # still unreachable: fails the same way
            assert retried.status_code == 202
            assert client.get(f"/api/jobs/{job['id']}").json()["files"][0]["code"] == "queue_unavailable"


@pytest.mark.parametrize("database", [None])  # SQLite only: the cancel is a database flag either way
def test_a_cancel_stops_the_file_a_worker_runs_and_the_queued_ones(server, make_pdf):
    token = server.add_user("取消用户", "取消巡察组")
    documents = []
    for name in ("甲", "乙"):
        lines = [PAGE.format(page=p, line=n) + name for p in range(1, 16) for n in range(1, 11)]
        documents.append((f"{name}.pdf", make_pdf(lines, f"{name}.pdf", lines_per_page=10).read_bytes()))
    slow = worker_env(**server.worker_settings, test_slow_checkpoint="0.3")
    with server.client(token) as client, running_worker(slow) as worker:
        inspection = client.post("/api/inspections", json={"name": "取消轮次"}).json()["id"]
        job = _upload(client, inspection, documents)
        _until(client, job["id"], lambda j: "running" in [f["status"] for f in j["files"]])
        cancel = client.post(f"/api/jobs/{job['id']}/cancel")
        assert cancel.status_code == 200, cancel.text
        done = server.wait(client, job["id"], timeout=60)
        assert done["status"] == "cancelled", done
        assert [f["status"] for f in done["files"]] == ["cancelled", "cancelled"]
        deadline = time.monotonic() + 30  # the queued file's task arrives and has nothing to do
        while "'finished'" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "'finished'" in worker.log(), worker.log()[-3000:]
    assert _count(server, "SELECT count(*) FROM documents WHERE inspection_id = :i", i=inspection) == 0
    assert not server.settings.uploads_dir.joinpath(job["id"]).exists()
