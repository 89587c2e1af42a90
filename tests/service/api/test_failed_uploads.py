"""Issue 14, minor: a failed job's files are never left "running", and its staged uploads do not
stay on disk for ever — they are kept FAILED_STAGING_DAYS for a retry, then removed at a start."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from service import context
from service.jobs import FAILED_STAGING_DAYS, JobRunner
from service.storage.job_models import Job
from service.storage.jobs import JobStore


def test_failed_jobs_keep_their_uploads_for_a_retry_then_lose_them(api):
    token = api.add_user("清理用户", "庚巡察组")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "清理轮次"}).json()["id"]
    engine = context.repository(api.settings).engine
    store, uploads = JobStore(engine), api.home / "uploads"
    old, recent = uuid.uuid4().hex, uuid.uuid4().hex
    for job_id in (old, recent):  # each was ingesting its file when the process died
        (uploads / job_id).mkdir(parents=True)
        (uploads / job_id / "0").write_bytes("会议记录".encode("utf-8"))
        store.create(job_id, inspection, None, [{"index": 0, "filename": "记录.txt", "size": 12, "status": "running"}])
    runner = JobRunner(store, ingestor=None, uploads_dir=uploads)

    runner.recover()  # the restart
    with api.client(token) as client:
        for job_id in (old, recent):
            job = client.get(f"/api/jobs/{job_id}").json()
            assert job["status"] == "failed" and job["retryable"]
            assert [(f["status"], f["code"]) for f in job["files"]] == [("error", "interrupted")]
    assert (uploads / old).is_dir() and (uploads / recent).is_dir()  # kept for a retry

    with engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == old).values(
            finished_at=datetime.now(timezone.utc) - timedelta(days=FAILED_STAGING_DAYS + 1)))
    runner.recover()  # a later start
    assert not (uploads / old).exists() and (uploads / recent).is_dir()
    with api.client(token) as client:
        gone = client.post(f"/api/jobs/{old}/retry")
        assert gone.status_code == 409 and gone.json()["detail"] == "上传的文件已清理，无法重试，请重新上传"
