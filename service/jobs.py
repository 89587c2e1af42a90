"""Background ingestion: every uploaded file is a unit of work in the ``job_files`` table, run by a
few worker threads that take the next file by the store's scheduling rule (teams take turns, small
files first; see :mod:`service.storage.jobs`).

A large file cannot starve the queue:

- caps per document (pages, OCR pages, OCR time) and a timeout per file end it with a Chinese reason;
- at each checkpoint (every page, every stage) a running file gives way to a much smaller queued
  file, which runs in between on the same thread, so a one-page petition never waits behind a
  20,000-page drawing for more than a page;
- a cancel stops queued files at once and a running one at its next checkpoint.

Nothing is stored for a file that stops; each document is stored in one transaction and a re-run of
a file already stored is a no-op (duplicate), so retrying never half-stores anything. File state
lives in the database, so a queue worker (issue 12) can replace these threads with the same store
calls: claim_next → ingest with a checkpoint → file_done.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from nlp.parsing.limits import ParseLimits
from nlp.parsing.sniffing import IMAGE_KINDS, sniff
from nlp.types import DocumentKind, ParseError
from service.ingest import Ingestor, IngestResult
from service.storage.jobs import FAILED, INTERRUPTED, FileTask, JobStore

__all__ = ["FAILED", "INTERRUPTED", "JobRunner", "estimate_cost", "parse_limits"]

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
"""Idle workers look at the queue this often even without a wake-up (another process may have queued)."""
CHECK_SECONDS = 0.5
"""A running file looks for a cancel and for small files to let through at most this often."""
FAILED_STAGING_DAYS = 7
"""How long a failed job's staged uploads are kept for a retry (removed at the next start after)."""
PREEMPT_RATIO = 4
"""A queued file runs in between when the running one is estimated at least this many times larger."""
OCR_PAGE_COST = 25
"""An OCR page (~2.4 s) against a text page (~0.1 s with analysis)."""
TEXT_BYTES_PER_PAGE = 3000
"""Text, Word: a page of estimated cost per this many bytes."""


def parse_limits(settings) -> ParseLimits:
    return ParseLimits(max_pages=settings.max_pages, max_ocr_pages=settings.max_ocr_pages,
                       ocr_seconds=settings.ocr_seconds)


def estimate_cost(path: Path) -> int:
    """Rough work of ingesting the staged file at ``path``, in text pages (≥ 1): PDF pages (scanned
    ones many times over), image frames as OCR pages, text and Word by size."""
    try:
        data = path.read_bytes()
    except OSError:
        return 1
    kind = sniff(data)
    if kind == "pdf":
        return _pdf_cost(data)
    if kind in IMAGE_KINDS:
        try:
            from PIL import Image
            import io

            frames = getattr(Image.open(io.BytesIO(data)), "n_frames", 1) or 1
        except Exception:  # noqa: BLE001 - a broken image is cheap: it fails at once
            frames = 1
        return OCR_PAGE_COST * frames
    per_page = TEXT_BYTES_PER_PAGE * (8 if kind in ("docx", "doc") else 1)  # zipped / binary markup
    return max(1, len(data) // per_page)


def _pdf_cost(data: bytes, sample: int = 3) -> int:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception:  # noqa: BLE001 - a broken PDF fails at once
        return 1
    try:
        pages = len(document)
        scanned = 0
        for number in range(min(sample, pages)):
            page = document[number]
            try:
                text = page.get_textpage()
                scanned += text.count_chars() < 10
                text.close()
            finally:
                page.close()
        share = scanned / min(sample, pages) if pages else 0
    except Exception:  # noqa: BLE001
        return 1
    finally:
        document.close()
    return max(1, round(pages * (1 + share * (OCR_PAGE_COST - 1))))


class _Stop(ParseError):
    """Raised at a checkpoint: the file stops with nothing stored."""


@dataclass
class _Running:
    task: FileTask
    deadline: float
    depth: int
    checked: float = field(default_factory=time.monotonic)


def _result(result: IngestResult) -> dict:
    status = result.status
    if status == "error" and result.error_code == "cancelled":
        status = "cancelled"
    return {"status": status, "document_id": result.document_id, "kind": result.kind,
            "pages": result.pages, "findings": result.findings, "code": result.error_code,
            "message": result.message, "warnings": result.warnings}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class JobRunner:
    def __init__(self, store: JobStore, ingestor: Ingestor | None, uploads_dir: Path, workers: int = 2,
                 file_timeout: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ingestor = ingestor
        self.uploads_dir = uploads_dir
        self.workers = max(1, workers)
        self.file_timeout = file_timeout
        self._clock = clock
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._name = f"{socket.gethostname()}:{os.getpid()}"
        self.on_job_done: Callable[[int], None] | None = None
        """Called with the round's id when a job of it finished (e.g. to prepare its leads)."""

    def staging(self, job_id: str) -> Path:
        return self.uploads_dir / job_id

    def recover(self) -> None:
        """On start: files left running by a stopped process fail as interrupted (retryable; queued
        files stay queued and run); uploads that never became a job are removed, and so are those of
        jobs failed more than FAILED_STAGING_DAYS ago (their retry then answers 409)."""
        for job_id in self.store.recover():
            log.warning("job %s was interrupted; its running file marked failed (retryable)", job_id)
        if self.uploads_dir.is_dir():
            expired = datetime.now(timezone.utc) - timedelta(days=FAILED_STAGING_DAYS)
            for staging in self.uploads_dir.iterdir():
                job = self.store.get(staging.name) if staging.is_dir() else None
                if staging.is_dir() and (job is None or job.status == "failed" and job.finished_at is not None
                                         and _aware(job.finished_at) < expired):
                    shutil.rmtree(staging, ignore_errors=True)

    def start(self) -> None:
        """Start the worker threads (once)."""
        with self._wake:
            if self._threads or self._stopping.is_set():
                return
            for number in range(self.workers):
                thread = threading.Thread(target=self._work, name=f"xuncha-job-{number}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def submit(self, job_id: str) -> None:
        """A job was queued (or requeued): wake the workers."""
        self.start()
        with self._wake:
            self._wake.notify_all()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop the workers: a running file stops at its next checkpoint and goes back to the queue."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    # ----- workers

    def _work(self) -> None:
        worker = f"{self._name}:{threading.current_thread().name}"
        while not self._stopping.is_set():
            try:
                task = self.store.claim_next(worker)
            except Exception as error:  # noqa: BLE001 - a database hiccup must not kill the worker
                log.error("claiming the next file failed: %s", type(error).__name__)
                task = None
            if task is None:
                with self._wake:
                    self._wake.wait(POLL_SECONDS)
                continue
            try:
                self._run(task, depth=0)
            except Exception as error:  # noqa: BLE001 - e.g. the database went away while recording
                log.error("job %s file %d: its outcome could not be recorded: %s", task.job_id, task.index,
                          type(error).__name__)

    def _run(self, task: FileTask, depth: int) -> None:
        """Ingest one claimed file and record its outcome, whatever happens."""
        label = f"job {task.job_id} file {task.index}"
        path = self.staging(task.job_id) / str(task.index)
        try:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                self._done(task, {"status": "error", "code": "upload_missing",
                                  "message": "上传的文件已不存在，请重新上传"})
                return
            timeout = self.file_timeout
            running = _Running(task, self._clock() + timeout if timeout else float("inf"), depth)
            kind = DocumentKind(task.kind) if task.kind else None
            result = self.ingestor.ingest_bytes(data, task.filename, task.inspection_id, kind, label=label,
                                                checkpoint=lambda: self._checkpoint(running))
            if result.error_code == "shutdown":
                self.store.release(task.job_id, task.index)  # runs again after the restart
                return
            self._done(task, _result(result))
            path.unlink(missing_ok=True)
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the others
            log.error("%s failed: %s", label, type(error).__name__)
            self._done(task, {"status": "error", "code": "internal_error",
                              "message": "处理该文件时发生内部错误，可以重试"})

    def _done(self, task: FileTask, result: dict) -> None:
        job = self.store.file_done(task.job_id, task.index, result)
        if job is None or job.status in ("done", "cancelled"):  # nothing left to retry: the staged uploads go
            shutil.rmtree(self.staging(task.job_id), ignore_errors=True)
        if job is not None and job.status == "done" and self.on_job_done is not None:
            try:
                self.on_job_done(job.inspection_id)
            except Exception as error:  # noqa: BLE001 - a follow-up must never fail the job
                log.error("after job %s: %s", task.job_id, type(error).__name__)

    def _checkpoint(self, running: _Running) -> None:
        """Between pages and stages of a running file: stop it (shutdown, timeout, cancel) or let a
        much smaller queued file run first."""
        if self._stopping.is_set():
            raise _Stop("shutdown", "服务正在停止，该文件将在重启后继续导入")
        now = self._clock()
        if now > running.deadline:
            raise _Stop("timeout", f"处理时间超过单个文件 {self.file_timeout:g} 秒的上限，已停止，未导入。"
                                   "请拆分成较小的文件后再上传。")
        if now - running.checked < CHECK_SECONDS:
            return
        running.checked = now
        task = running.task
        if self.store.cancel_requested(task.job_id):
            raise _Stop("cancelled", "任务已取消，该文件未导入")
        if running.depth == 0 and task.cost >= PREEMPT_RATIO:
            small = self.store.claim_next(f"{self._name}:{threading.current_thread().name}",
                                          max_cost=task.cost // PREEMPT_RATIO)
            if small is not None:
                began = self._clock()
                log.info("job %s file %d runs inside job %s file %d", small.job_id, small.index, task.job_id,
                         task.index)
                self._run(small, depth=1)
                running.deadline += self._clock() - began  # the small file's time is not this file's
