"""Persistent state of background ingestion jobs (the table outlives the process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from service.storage.job_models import Job
from service.storage.models import utcnow

UNFINISHED = ("queued", "running")


@dataclass
class JobRecord:
    id: str
    inspection_id: int
    user_id: int | None
    status: str
    retryable: bool
    kind: str | None
    total: int
    processed: int
    files: list[dict]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _record(row: Job) -> JobRecord:
    return JobRecord(row.id, row.inspection_id, row.user_id, row.status, row.retryable, row.kind, row.total,
                     row.processed, [dict(f) for f in row.files], row.error, row.created_at, row.started_at,
                     row.finished_at)


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, job_id: str, inspection_id: int, user_id: int | None, files: list[dict],
               kind: str | None = None) -> JobRecord:
        with self._sessions.begin() as session:
            row = Job(id=job_id, inspection_id=inspection_id, user_id=user_id, status="queued", retryable=False,
                      kind=kind, total=len(files), processed=0, files=files)
            session.add(row)
            session.flush()
            return _record(row)

    def get(self, job_id: str) -> JobRecord | None:
        with self._sessions() as session:
            row = session.get(Job, job_id)
            return _record(row) if row else None

    def start(self, job_id: str) -> None:
        self._set(job_id, status="running", retryable=False, error=None, started_at=utcnow(), finished_at=None)

    def file_done(self, job_id: str, index: int, result: dict) -> None:
        with self._sessions.begin() as session:
            row = session.get(Job, job_id)
            files = [dict(f) for f in row.files]
            files[index].update(result)
            row.files = files
            row.processed = sum(f["status"] not in UNFINISHED for f in files)

    def finish(self, job_id: str) -> None:
        self._set(job_id, status="done", retryable=False, finished_at=utcnow())

    def fail(self, job_id: str, message: str, retryable: bool = True) -> None:
        self._set(job_id, status="failed", retryable=retryable, error=message, finished_at=utcnow())

    def requeue(self, job_id: str) -> bool:
        """Mark a failed, retryable job queued again; False if it is not in that state."""
        with self._sessions.begin() as session:
            result = session.execute(update(Job).where(
                Job.id == job_id, Job.status == "failed", Job.retryable.is_(True)).values(
                status="queued", retryable=False, error=None))
            return result.rowcount == 1

    def interrupted(self) -> list[str]:
        """Ids of jobs left queued or running (by a process that stopped)."""
        with self._sessions() as session:
            return list(session.scalars(select(Job.id).where(Job.status.in_(UNFINISHED))))

    def _set(self, job_id: str, **values) -> None:
        with self._sessions.begin() as session:
            session.execute(update(Job).where(Job.id == job_id).values(**values))
