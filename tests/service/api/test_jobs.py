"""Background jobs: concurrent uploads, crash recovery and retry."""

import os
import shutil
import sqlite3
import threading
import time
import uuid

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import MINUTES_LINES, PETITION_LINES
from service import context
from service.jobs import INTERRUPTED, ORPHAN_UPLOAD_SECONDS, JobRunner
from service.storage.jobs import JobStore


def test_concurrent_uploads_do_not_corrupt_the_database(api, make_docx):
    token = api.add_user("并发用户", "戊巡察组")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "并发轮次"}).json()["id"]
    paths = [make_docx((PETITION_LINES if n % 2 else MINUTES_LINES) + [f"（并发上传第 {n} 份）"], f"并发{n}.docx")
             for n in range(8)]
    jobs, errors = [], []

    def upload(batch):
        try:
            with api.client(token) as client:
                files = [("files", (p.name, p.read_bytes())) for p in batch]
                response = client.post(f"/api/inspections/{inspection}/documents", files=files)
                assert response.status_code == 202, response.text
                jobs.append(api.wait(client, response.json()["id"]))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=upload, args=(paths[i::4],)) for i in range(4)]
    threads += [threading.Thread(target=upload, args=([paths[0]],))]  # the same file twice at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    statuses = sorted(f["status"] for job in jobs for f in job["files"])
    assert all(job["status"] == "done" for job in jobs)
    assert statuses.count("added") == 8 and len(statuses) == 9
    db = sqlite3.connect(api.home / "xuncha.db")
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert db.execute("select count(*) from documents where inspection_id = ?", (inspection,)).fetchone()[0] == 8
    orphans = db.execute("select count(*) from findings where document_id not in (select id from documents)")
    assert orphans.fetchone()[0] == 0


def test_an_interrupted_job_is_marked_retryable_and_retry_completes_it(api, make_docx):
    token = api.add_user("重试用户", "己巡察组")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "重试轮次"}).json()["id"]
    store = JobStore(context.repository(api.settings).engine)
    job_id = uuid.uuid4().hex
    staging = api.home / "uploads" / job_id
    staging.mkdir(parents=True)
    shutil.copy(make_docx(MINUTES_LINES + ["（中断后重试）"], "中断.docx"), staging / "0")
    # a file being processed (claimed by a worker)…
    store.create(job_id, inspection, None, [{"index": 0, "filename": "中断.docx", "size": 1, "status": "running"}])
    # …and the process dies here

    abandoned = api.home / "uploads" / uuid.uuid4().hex  # an upload cut off before its job was created
    abandoned.mkdir()
    (abandoned / "0").write_bytes(b"partial")
    an_hour_ago = time.time() - ORPHAN_UPLOAD_SECONDS - 1  # younger ones may be another process's upload in progress
    os.utime(abandoned, (an_hour_ago, an_hour_ago))
    JobRunner(store, ingestor=None, uploads_dir=api.home / "uploads").recover()  # what a restart does
    assert not abandoned.exists() and staging.exists()
    with api.client(token) as client:
        failed = client.get(f"/api/jobs/{job_id}").json()
        assert failed["status"] == "failed" and failed["retryable"] and failed["error"] == INTERRUPTED
        retried = client.post(f"/api/jobs/{job_id}/retry")
        assert retried.status_code == 202
        done = api.wait(client, job_id)
        assert done["status"] == "done" and done["files"][0]["status"] == "added"
        again = client.post(f"/api/jobs/{job_id}/retry")
        assert again.status_code == 409 and again.json()["code"] == "not_retryable"
    assert not staging.exists()
