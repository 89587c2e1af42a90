"""Persistent state of background ingestion: jobs (one upload) and their files, each file a unit of
scheduling. The table outlives the process and is the queue: any executor claims the next file with
:meth:`JobStore.claim_next` (a query plus a conditional update), so in-process threads today and
queue workers later share one scheduling rule:

1. teams take turns: the team with the fewest running files, then the one served longest ago;
2. within a team, the smallest file first (estimated cost), then the oldest.

A job's status is derived from its files whenever one of them changes. Every write locks the job's
row first (on a database server; SQLite serialises writers itself), so two files of one job finishing
at the same time cannot both derive the job's status from a state that misses the other's result.

Queue workers (:mod:`service.workers`) claim one given file with :meth:`JobStore.claim` under a
lease (``lease_until``) they renew while they work (:meth:`JobStore.renew`): a delivery of a file
already finished is a no-op, a file running under a live lease is busy (the task waits), and a file
whose lease ran out — its worker was killed — is taken over. Writes of a worker that lost its lease
are refused (:class:`ClaimLost`), so a file's outcome is recorded once, by its current holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select, true, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.storage import models
from service.storage.job_models import Job, JobFile
from service.storage.models import utcnow

UNFINISHED = ("queued", "running")
RETRYABLE_CODES = ("internal_error", "interrupted", "queue_unavailable")
INTERRUPTED = "服务重启时该任务尚未完成，可以重试"
FAILED = "部分文件处理时发生内部错误，可以重试"
STATUS_LABELS = {"queued": "排队中", "running": "处理中", "done": "已完成", "added": "已完成",
                 "duplicate": "已完成", "failed": "失败", "error": "失败", "cancelled": "已取消"}
CANCELLED_MESSAGE = "任务已取消，该文件未导入"
QUEUE_UNAVAILABLE = "导入队列暂时不可用，该文件尚未开始导入，可以重试"
_RESULT_FIELDS = ("document_id", "kind", "pages", "findings", "flagged", "code", "message", "warnings")


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
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class FileTask:
    """A claimed file: everything an executor needs to ingest it."""
    id: int
    job_id: str
    index: int
    inspection_id: int
    kind: str | None
    filename: str
    size: int
    cost: int
    team: str


class ClaimLost(RuntimeError):
    """The worker no longer holds the file (its lease ran out and another worker took it over)."""


@dataclass(frozen=True)
class Claim:
    """What :meth:`JobStore.claim` found: ``state`` is ``claimed`` (it was queued), ``taken_over``
    (it was running under an expired lease), ``busy`` (running under a live lease: try later) or
    ``finished`` (done, failed, cancelled, or gone with its round: nothing to do); ``task`` is set
    for the first two."""
    state: str
    task: FileTask | None = None


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def _task(row: JobFile, job: Job) -> FileTask:
    return FileTask(row.id, row.job_id, row.idx, job.inspection_id, job.kind, row.filename, row.size, row.cost,
                    row.team)


def _file(row: JobFile) -> dict:
    return {"index": row.idx, "filename": row.filename, "size": row.size, "cost": row.cost, "status": row.status,
            "document_id": row.document_id, "kind": row.kind, "pages": row.pages, "findings": row.findings,
            "flagged": row.flagged, "code": row.code, "message": row.message, "warnings": list(row.warnings or []),
            "started_at": row.started_at, "finished_at": row.finished_at}


def _record(row: Job, files: list[JobFile]) -> JobRecord:
    return JobRecord(row.id, row.inspection_id, row.user_id, row.status, row.retryable, row.kind, row.total,
                     row.processed, [_file(f) for f in files], row.error, row.created_at, row.started_at,
                     row.finished_at, row.cancelled_at)


def _files(session: Session, job_id: str) -> list[JobFile]:
    return list(session.scalars(select(JobFile).where(JobFile.job_id == job_id).order_by(JobFile.idx)))


def _lock_job(session: Session, job_id: str) -> Job | None:
    """The job's row, on a database server locked (SELECT … FOR UPDATE) until the transaction ends
    and reloaded after the lock is granted; on SQLite (one writer at a time) just the row."""
    if session.get_bind().dialect.name == "sqlite":
        return session.get(Job, job_id)
    return session.scalar(select(Job).where(Job.id == job_id).with_for_update()
                          .execution_options(populate_existing=True))


def _refresh(session: Session, job: Job) -> list[JobFile]:
    """Derive the job's status, counts and times from its files."""
    files = _files(session, job.id)
    statuses = [f.status for f in files]
    job.processed = sum(s not in UNFINISHED for s in statuses)
    started = [f.started_at for f in files if f.started_at is not None]
    job.started_at = min(started) if started else None
    if any(s in UNFINISHED for s in statuses):
        job.status = "running" if job.processed or "running" in statuses else "queued"
        job.retryable, job.error, job.finished_at = False, None, None
        return files
    broken = [f for f in files if f.status == "error" and f.code in RETRYABLE_CODES]
    if job.cancelled_at is not None and "cancelled" in statuses:
        job.status, job.retryable, job.error = "cancelled", False, None
    elif broken:
        interrupted = all(f.code == "interrupted" for f in broken)
        job.status, job.retryable, job.error = "failed", True, INTERRUPTED if interrupted else FAILED
    else:
        job.status, job.retryable, job.error = "done", False, None
    job.finished_at = job.finished_at or utcnow()
    return files


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, job_id: str, inspection_id: int, user_id: int | None, files: list[dict],
               kind: str | None = None) -> JobRecord:
        """A job of ``files`` (dicts: index, filename, size, optional cost and status), queued."""
        with self._sessions.begin() as session:
            team = session.scalar(select(models.Inspection.team).where(models.Inspection.id == inspection_id))
            row = Job(id=job_id, inspection_id=inspection_id, user_id=user_id, status="queued", retryable=False,
                      kind=kind, total=len(files), processed=0, files=[])
            session.add(row)
            session.flush()
            now = utcnow()
            for entry in files:
                status = entry.get("status") or "queued"
                session.add(JobFile(job_id=job_id, idx=entry["index"], team=team or "", filename=entry["filename"],
                                    size=int(entry.get("size") or 0), cost=max(1, int(entry.get("cost") or 1)),
                                    status=status, pages=0, findings=0, warnings=[], queued_at=now,
                                    started_at=now if status == "running" else None))
            session.flush()
            return _record(row, _refresh(session, row))

    def get(self, job_id: str) -> JobRecord | None:
        with self._sessions() as session:
            row = session.get(Job, job_id)
            return _record(row, _files(session, job_id)) if row else None

    # ----- the queue

    def claim_next(self, worker: str, max_cost: int | None = None, lease: float | None = None) -> FileTask | None:
        """Claim the next queued file by the scheduling rule (None when nothing waits).

        ``max_cost``: only files estimated at most this much work (a running large file lets small
        ones run in between). ``lease``: seconds a queue worker holds the file (see :meth:`claim`)."""
        while True:
            with self._sessions.begin() as session:
                chosen = session.execute(self._next_query(max_cost)).first()
                if chosen is None:
                    return None
                file_id, job = chosen.id, _lock_job(session, chosen.job_id)
                now = utcnow()
                claimed = session.execute(update(JobFile).where(JobFile.id == file_id, JobFile.status == "queued")
                                          .values(status="running", worker=worker[:64], started_at=now,
                                                  finished_at=None, code=None, message=None,
                                                  lease_until=now + timedelta(seconds=lease) if lease else None))
                if claimed.rowcount != 1:
                    continue  # another worker took it first
                row = session.get(JobFile, file_id)
                _refresh(session, job)
                return _task(row, job)

    def claim(self, job_id: str, index: int, worker: str, lease: float) -> Claim:
        """A queue worker's claim of one file for ``lease`` seconds (renewed with :meth:`renew`):
        a queued file is claimed, a running one whose lease has run out (or that has none: it was
        left by a stopped in-process executor) is taken over; see :class:`Claim`."""
        while True:
            with self._sessions.begin() as session:
                job = _lock_job(session, job_id)
                row = session.scalar(select(JobFile).where(JobFile.job_id == job_id, JobFile.idx == index))
                if job is None or row is None or row.status not in UNFINISHED:
                    return Claim("finished")
                now = utcnow()
                if row.status == "queued" and job.cancelled_at is None:
                    state, condition = "claimed", JobFile.status == "queued"
                elif row.status == "running" and (row.lease_until is None or _aware(row.lease_until) <= now):
                    state = "taken_over"
                    condition = (JobFile.status == "running") & (
                        JobFile.lease_until.is_(None) if row.lease_until is None
                        else JobFile.lease_until == row.lease_until)
                elif row.status == "running":
                    return Claim("busy")
                else:
                    return Claim("finished")  # queued in a cancelled job: the cancel settles it
                values = {"status": "running", "worker": worker[:64], "lease_until": now + timedelta(seconds=lease)}
                if state == "claimed":
                    values.update(started_at=now, finished_at=None, code=None, message=None)
                changed = session.execute(update(JobFile).where(JobFile.id == row.id, condition).values(**values))
                if changed.rowcount != 1:
                    continue  # another worker got there first: look again
                session.refresh(row)
                _refresh(session, job)
                return Claim(state, _task(row, job))

    def renew(self, files: list[tuple[str, int]], worker: str, lease: float) -> list[tuple[str, int]]:
        """Extend ``worker``'s lease on the running ``files`` (job id, index); returns those it no
        longer holds (finished, or taken over after its lease ran out)."""
        lost = []
        until = utcnow() + timedelta(seconds=lease)
        with self._sessions.begin() as session:
            for job_id, index in files:
                renewed = session.execute(update(JobFile).where(
                    JobFile.job_id == job_id, JobFile.idx == index, JobFile.status == "running",
                    JobFile.worker == worker[:64]).values(lease_until=until))
                if renewed.rowcount != 1:
                    lost.append((job_id, index))
        return lost

    def stored_by_this_file(self, job_id: str, index: int, document_id: int) -> bool:
        """Whether document ``document_id`` (found as a duplicate by a run that took this file over)
        was stored by this file's own earlier run, killed before recording it: no other file
        recorded it as added and it was stored after this file first started."""
        with self._sessions() as session:
            row = session.scalar(select(JobFile).where(JobFile.job_id == job_id, JobFile.idx == index))
            created = session.scalar(select(models.Document.created_at).where(models.Document.id == document_id))
            other = session.scalar(select(func.count()).select_from(JobFile).where(
                JobFile.document_id == document_id, JobFile.status == "added", JobFile.id != (row.id if row else -1)))
        return (row is not None and created is not None and row.started_at is not None and not other
                and _aware(created) >= _aware(row.started_at))

    def stale(self) -> list[tuple[str, int]]:
        """Running files (job id, index) whose lease has run out or that have none."""
        now = utcnow()
        with self._sessions() as session:
            rows = session.execute(select(JobFile.job_id, JobFile.idx, JobFile.lease_until)
                                   .where(JobFile.status == "running").order_by(JobFile.id)).all()
        return [(job_id, index) for job_id, index, until in rows if until is None or _aware(until) <= now]

    def queued(self, job_id: str | None = None) -> list[tuple[str, int, int]]:
        """Queued files (job id, index, cost), of one job or of all, oldest first."""
        query = select(JobFile.job_id, JobFile.idx, JobFile.cost).where(JobFile.status == "queued")
        if job_id is not None:
            query = query.where(JobFile.job_id == job_id)
        with self._sessions() as session:
            return [tuple(row) for row in session.execute(query.order_by(JobFile.queued_at, JobFile.id))]

    @staticmethod
    def _next_query(max_cost: int | None):
        served = (select(JobFile.team.label("team"),
                         func.max(JobFile.started_at).label("last"),
                         func.sum(case((JobFile.status == "running", 1), else_=0)).label("running"))
                  .where(JobFile.started_at.is_not(None)).group_by(JobFile.team).subquery())
        query = (select(JobFile.id, JobFile.job_id).join(Job, Job.id == JobFile.job_id)
                 .outerjoin(served, served.c.team == JobFile.team)
                 .where(JobFile.status == "queued", Job.cancelled_at.is_(None)))
        if max_cost is not None:
            query = query.where(JobFile.cost <= max_cost)
        return query.order_by(func.coalesce(served.c.running, 0), served.c.last.is_not(None), served.c.last,
                              JobFile.cost, JobFile.queued_at, JobFile.id).limit(1)

    def file_done(self, job_id: str, index: int, result: dict, worker: str | None = None) -> JobRecord | None:
        """Record the outcome of one file (status plus any of: document_id, kind, pages, findings,
        code, message, warnings); returns the job as it now stands (None if it was deleted with its round).

        ``worker``: a queue worker records only a file it still holds (else :class:`ClaimLost`)."""
        with self._sessions.begin() as session:
            job = _lock_job(session, job_id)
            row = session.scalar(select(JobFile).where(JobFile.job_id == job_id, JobFile.idx == index))
            if job is None or row is None:
                return None
            if worker is not None and (row.status != "running" or row.worker != worker[:64]):
                raise ClaimLost(f"job {job_id} file {index}")
            row.lease_until = None
            for key, value in result.items():
                if key == "status" or key in _RESULT_FIELDS:
                    setattr(row, key, value if key != "warnings" else list(value or []))
            if row.status not in UNFINISHED:
                row.finished_at = utcnow()
            return _record(job, _refresh(session, job))

    def release(self, job_id: str, index: int, worker: str | None = None) -> None:
        """Put a claimed file back in the queue (its worker is stopping); it keeps its place.
        ``worker``: only if that worker still holds it."""
        with self._sessions.begin() as session:
            job = _lock_job(session, job_id)
            held = (JobFile.worker == worker[:64]) if worker is not None else true()
            session.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.idx == index,
                                                  JobFile.status == "running", held)
                            .values(status="queued", worker=None, started_at=None, lease_until=None))
            if job is not None:
                _refresh(session, job)

    def unqueue(self, job_id: str, indexes: list[int], code: str, message: str) -> None:
        """End the still-queued ``indexes`` of a job as failed with ``code`` (e.g. their tasks could
        not be sent); files claimed meanwhile are left alone."""
        with self._sessions.begin() as session:
            job = _lock_job(session, job_id)
            if job is None or not indexes:
                return
            session.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.idx.in_(indexes),
                                                  JobFile.status == "queued")
                            .values(status="error", code=code, message=message, finished_at=utcnow()))
            _refresh(session, job)

    def pending(self) -> int:
        """Files waiting in the queue."""
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(JobFile).where(JobFile.status == "queued"))

    # ----- cancel, retry, recovery

    def cancel(self, job_id: str) -> JobRecord | None:
        """Cancel a job: its queued files at once; a running file stops at its next checkpoint.
        None if the job had nothing left to cancel."""
        with self._sessions.begin() as session:
            job = _lock_job(session, job_id)
            files = _files(session, job_id)
            if job is None or not any(f.status in UNFINISHED for f in files):
                return None
            now = utcnow()
            job.cancelled_at = job.cancelled_at or now
            session.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.status == "queued")
                            .values(status="cancelled", code="cancelled", message=CANCELLED_MESSAGE,
                                    finished_at=now))
            return _record(job, _refresh(session, job))

    def cancel_requested(self, job_id: str) -> bool:
        with self._sessions() as session:
            return session.scalar(select(Job.cancelled_at).where(Job.id == job_id)) is not None

    def requeue(self, job_id: str) -> bool:
        """Queue the failed files of a failed, retryable job again; False if it is not in that state."""
        with self._sessions.begin() as session:
            job = _lock_job(session, job_id)
            if job is None or job.status != "failed" or not job.retryable:
                return False
            session.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.status == "error",
                                                  JobFile.code.in_(RETRYABLE_CODES))
                            .values(status="queued", code=None, message=None, worker=None, started_at=None,
                                    finished_at=None, queued_at=utcnow(), lease_until=None))
            job.finished_at = None
            _refresh(session, job)
            return True

    def recover(self, gone: Callable[[str | None], bool] | None = None) -> list[str]:
        """After a restart: files left running by the stopped process fail as interrupted
        (retryable); queued files stay queued and run. Returns the ids of the jobs affected.

        ``gone(worker)``: whether the process that claimed a file has stopped; files of processes
        still running (other API processes on one database) are left to them. None: all."""
        with self._sessions.begin() as session:
            running = session.execute(select(JobFile.id, JobFile.job_id, JobFile.worker)
                                      .where(JobFile.status == "running")).all()
            chosen = [(file_id, job_id) for file_id, job_id, worker in running if gone is None or gone(worker)]
            job_ids = sorted({job_id for _, job_id in chosen})
            jobs = [_lock_job(session, job_id) for job_id in job_ids]  # in id order: no lock cycles
            file_ids = [file_id for file_id, _ in chosen]
            for start in range(0, len(file_ids), 500):
                session.execute(update(JobFile).where(JobFile.id.in_(file_ids[start:start + 500]),
                                                      JobFile.status == "running").values(
                    status="error", code="interrupted", message=INTERRUPTED, finished_at=utcnow(), lease_until=None))
            for job in jobs:
                _refresh(session, job)
            return job_ids

    def interrupted(self) -> list[str]:
        """Ids of jobs with files queued or running."""
        with self._sessions() as session:
            return sorted(set(session.scalars(select(JobFile.job_id).where(JobFile.status.in_(UNFINISHED)))))

    def ended(self, job_id: str) -> bool:
        with self._sessions() as session:
            status = session.scalar(select(Job.status).where(Job.id == job_id))
            return status in ("done", "cancelled")
