"""Ingestion jobs: status, a Server-Sent Events progress stream, retry, cancel."""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import asdict

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from service.api.deps import Auditor, auditor, authorize, current_user, services
from service.api.errors import ApiError, not_found
from service.api.schemas import ERRORS, ErrorOut, JobOut
from service.api.services import Services
from service.security import UserRecord
from service.storage.jobs import STATUS_LABELS, JobRecord

router = APIRouter(prefix="/api/jobs", tags=["导入任务"])
JobId = Path(..., min_length=1, max_length=32, pattern="^[0-9a-f]+$")
POLL_SECONDS = 0.3
ENDED = ("done", "failed", "cancelled")
HEARTBEAT_SECONDS = 15.0


def job_out(job: JobRecord) -> dict:
    data = asdict(job)
    data.pop("user_id")
    data.pop("kind")
    data["progress"] = round(job.processed / job.total, 4) if job.total else 1.0
    data["status_label"] = STATUS_LABELS.get(job.status, job.status)
    data["cancellable"] = job.status in ("queued", "running") and job.cancelled_at is None
    for entry in data["files"]:
        entry["status_label"] = STATUS_LABELS.get(entry["status"], entry["status"])
    return data


def _job(svc: Services, user: UserRecord, audit: Auditor, job_id: str, action: str, write: bool = False):
    owner = authorize(svc.scopes.job(job_id), user, audit, action, "job", job_id, write=write)
    job = svc.jobs.get(job_id)
    if job is None:
        audit(action, "not_found", object_type="job", object_id=job_id, inspection_id=owner.inspection_id)
        raise not_found("job")
    return job


def _read(svc: Services, user: UserRecord, audit: Auditor, job_id: str):
    """A job the user may read; the read is audited (a job carries its files' names)."""
    job = _job(svc, user, audit, job_id, "job.read")
    audit("job.read", object_type="job", object_id=job_id, inspection_id=job.inspection_id)
    return job


@router.get("/{job_id}", response_model=JobOut, responses=ERRORS, summary="导入任务状态和每个文件的结果")
def get_job(job_id: str = JobId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
            svc: Services = Depends(services)):
    return job_out(_read(svc, user, audit, job_id))


@router.get("/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
            summary="导入进度（Server-Sent Events）")
async def job_events(request: Request, job_id: str = JobId, user: UserRecord = Depends(current_user),
                     audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    await run_in_threadpool(_read, svc, user, audit, job_id)  # audited once, when the stream opens

    async def stream():
        last, quiet = None, 0.0
        while True:
            job = await run_in_threadpool(svc.jobs.get, job_id)
            if job is None:
                yield "event: end\ndata: {}\n\n"
                return
            payload = json.dumps(job_out(job), ensure_ascii=False, default=str)
            if payload != last:
                yield f"event: progress\ndata: {payload}\n\n"
                last, quiet = payload, 0.0
            if job.status in ENDED:
                yield f"event: end\ndata: {payload}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/{job_id}/retry", status_code=202, response_model=JobOut,
             responses={**ERRORS, 409: {"model": ErrorOut}}, summary="重试失败的导入任务")
def retry_job(job_id: str = JobId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
              svc: Services = Depends(services)):
    job = _job(svc, user, audit, job_id, "job.retry", write=True)
    if not svc.runner.staging(job_id).is_dir():
        raise ApiError(409, "not_retryable", "上传的文件已清理，无法重试，请重新上传")
    if not svc.jobs.requeue(job_id):
        raise ApiError(409, "not_retryable", "只有失败且可重试的任务才能重试")
    svc.runner.submit(job_id)
    audit("job.retry", object_type="job", object_id=job_id, inspection_id=job.inspection_id)
    return job_out(svc.jobs.get(job_id))


@router.post("/{job_id}/cancel", response_model=JobOut, responses={**ERRORS, 409: {"model": ErrorOut}},
             summary="取消导入任务：排队中的文件立即取消，正在处理的文件在下一个处理阶段停止")
def cancel_job(job_id: str = JobId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
               svc: Services = Depends(services)):
    job = _job(svc, user, audit, job_id, "job.cancel", write=True)
    cancelled = svc.jobs.cancel(job_id)
    if cancelled is None:
        raise ApiError(409, "not_cancellable", "该任务已经结束，无需取消")
    if cancelled.status == "cancelled":
        shutil.rmtree(svc.runner.staging(job_id), ignore_errors=True)
    audit("job.cancel", object_type="job", object_id=job_id, inspection_id=job.inspection_id)
    return job_out(cancelled)
