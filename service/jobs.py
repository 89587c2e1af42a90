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
lives in the database, so queue workers (:mod:`service.workers`, with ``XUNCHA_BROKER_URL``) run the
same per-file code through :meth:`JobRunner.run_file`: claim that file under a lease (renewed by a
thread while it runs) → ingest with a checkpoint → file_done.
"""

from __future__ import annotations

import logging
import os
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
from service.storage.jobs import FAILED, INTERRUPTED, ClaimLost, FileTask, JobStore
from service.storage.records import flagged_count
from service.workers.files import DirectoryStore, UploadStore

__all__ = ["FAILED", "INTERRUPTED", "JobRunner", "estimate_cost", "parse_limits", "remove_stale_uploads"]

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
"""Idle workers look at the queue this often even without a wake-up (another process may have queued)."""
CHECK_SECONDS = 0.5
"""A running file looks for a cancel and for small files to let through at most this often."""
FAILED_STAGING_DAYS = 7
"""How long a failed job's staged uploads are kept for a retry (removed at the next start after)."""
ORPHAN_UPLOAD_SECONDS = 3600
"""A staged upload without a job is removed at a start once this old: another API process on the
same data directory (``xuncha serve --workers N``) may still be receiving it."""
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
    worker: str
    checked: float = field(default_factory=time.monotonic)


def _result(result: IngestResult) -> dict:
    status = result.status
    if status == "error" and result.error_code == "cancelled":
        status = "cancelled"
    return {"status": status, "document_id": result.document_id, "kind": result.kind,
            "pages": result.pages, "findings": result.findings, "flagged": result.flagged, "code": result.error_code,
            "message": result.message, "warnings": result.warnings}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class JobRunner:
    """Runs claimed files: ``workers`` threads of this process claiming by the scheduling rule
    (:meth:`start`), or — in a queue worker — one given file per call of :meth:`run_file`.

    ``uploads``: the staged-upload store (a path means a :class:`DirectoryStore` there). ``lease``:
    seconds a queue worker holds a running file (renewed every third of it by a thread); None for
    the in-process threads, whose running files a restart marks interrupted (:meth:`recover`)."""

    def __init__(self, store: JobStore, ingestor: Ingestor | None, uploads_dir: Path | UploadStore,
                 workers: int = 2, file_timeout: float | None = None, clock: Callable[[], float] = time.monotonic,
                 lease: float | None = None) -> None:
        self.store = store
        self.ingestor = ingestor
        self.uploads = DirectoryStore(uploads_dir) if isinstance(uploads_dir, (str, Path)) else uploads_dir
        self.workers = max(1, workers)
        self.file_timeout = file_timeout
        self.lease = lease
        self._clock = clock
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._name = f"{socket.gethostname()[:32]}:{os.getpid()}"
        self._held: dict[tuple[str, int], str] = {}
        """Files this process runs under a lease: (job id, index) → worker name."""
        self._lost: set[tuple[str, int]] = set()
        self._renewer: threading.Thread | None = None
        self.on_job_done: Callable[[int], None] | None = None
        """Called with the round's id when a job of it finished (e.g. to prepare its leads)."""

    def staging(self, job_id: str) -> Path:
        return self.uploads.staging(job_id)

    def recover(self) -> None:
        """On start: files left running by a stopped process fail as interrupted (retryable; queued
        files stay queued and run); uploads that never became a job are removed, and so are those of
        jobs failed more than FAILED_STAGING_DAYS ago (their retry then answers 409)."""
        for job_id in self.store.recover(gone=process_gone):
            log.warning("job %s was interrupted; its running file marked failed (retryable)", job_id)
        remove_stale_uploads(self.store, self.uploads, orphan_age=ORPHAN_UPLOAD_SECONDS)

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

    # ----- one given file (queue workers)

    def run_file(self, job_id: str, index: int, worker: str) -> str:
        """Claim file ``index`` of ``job_id`` as ``worker`` under the lease and run it; returns the
        claim's state (:class:`service.storage.jobs.Claim`): ``claimed`` or ``taken_over`` (it ran),
        ``busy`` (another live worker runs it: deliver again later) or ``finished`` (nothing to do)."""
        claim = self.store.claim(job_id, index, worker, self.lease or 60.0)
        if claim.task is None:
            return claim.state
        if claim.state == "taken_over":
            log.warning("job %s file %d: its worker stopped renewing its lease; taken over", job_id, index)
        self._run(claim.task, depth=0, worker=worker, taken_over=claim.state == "taken_over")
        return claim.state

    def _hold(self, task: FileTask, worker: str) -> None:
        if self.lease is None:
            return
        with self._wake:
            self._held[(task.job_id, task.index)] = worker
            if self._renewer is None or not self._renewer.is_alive():
                self._renewer = threading.Thread(target=self._renew, name="xuncha-lease", daemon=True)
                self._renewer.start()

    def _unhold(self, task: FileTask) -> bool:
        """Stop renewing ``task``'s lease; whether it was lost meanwhile."""
        with self._wake:
            self._held.pop((task.job_id, task.index), None)
            lost = (task.job_id, task.index) in self._lost
            self._lost.discard((task.job_id, task.index))
            return lost

    def _renew(self) -> None:
        """Renew the leases of the files held, every third of the lease, while there are any."""
        while not self._stopping.wait(self.lease / 3):
            with self._wake:
                held = dict(self._held)
            if not held:
                with self._wake:
                    if not self._held:
                        self._renewer = None
                        return
                continue
            by_worker: dict[str, list[tuple[str, int]]] = {}
            for key, worker in held.items():
                by_worker.setdefault(worker, []).append(key)
            for worker, keys in by_worker.items():
                try:
                    lost = self.store.renew(keys, worker, self.lease)
                except Exception as error:  # noqa: BLE001 - try again at the next beat
                    log.error("renewing leases failed: %s", type(error).__name__)
                    continue
                with self._wake:
                    self._lost.update(key for key in lost if key in self._held)

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
                self._run(task, depth=0, worker=worker)
            except Exception as error:  # noqa: BLE001 - e.g. the database went away while recording
                log.error("job %s file %d: its outcome could not be recorded: %s", task.job_id, task.index,
                          type(error).__name__)

    def _run(self, task: FileTask, depth: int, worker: str, taken_over: bool = False) -> None:
        """Ingest one claimed file and record its outcome, whatever happens."""
        label = f"job {task.job_id} file {task.index}"
        self._hold(task, worker)
        try:
            try:
                data = self.uploads.read(task.job_id, task.index)
            except FileNotFoundError:
                self._done(task, {"status": "error", "code": "upload_missing",
                                  "message": "上传的文件已不存在，请重新上传"}, worker)
                return
            timeout = self.file_timeout
            running = _Running(task, self._clock() + timeout if timeout else float("inf"), depth, worker)
            kind = DocumentKind(task.kind) if task.kind else None
            result = self.ingestor.ingest_bytes(data, task.filename, task.inspection_id, kind, label=label,
                                                checkpoint=lambda: self._checkpoint(running))
            if result.error_code == "lost":
                log.warning("%s: lease lost to another worker; its outcome is theirs to record", label)
                return
            if taken_over and result.status == "duplicate" and result.document_id is not None:
                result = self._own_earlier_run(task, result)
            if result.error_code == "shutdown":
                self.store.release(task.job_id, task.index, worker if self.lease else None)  # runs again later
                return
            self._done(task, _result(result), worker)
            self.uploads.discard(task.job_id, task.index)
        except ClaimLost:
            log.warning("%s: lease lost to another worker; its outcome is theirs to record", label)
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the others
            log.error("%s failed: %s", label, type(error).__name__)
            try:
                self._done(task, {"status": "error", "code": "internal_error",
                                  "message": "处理该文件时发生内部错误，可以重试"}, worker)
            except ClaimLost:
                pass
        finally:
            self._unhold(task)

    def _own_earlier_run(self, task: FileTask, result: IngestResult) -> IngestResult:
        """A file taken over whose content is already stored: if its killed worker stored it (after
        the document's transaction, before recording the outcome), this file added it."""
        if not self.store.stored_by_this_file(task.job_id, task.index, result.document_id):
            return result
        detail = self.ingestor.repository.get_document(result.document_id)
        if detail is None:
            return result
        log.info("job %s file %d: stored by its previous worker before it stopped", task.job_id, task.index)
        return IngestResult(result.path, "added", detail.id, detail.kind, detail.pages, len(detail.findings),
                            flagged_count(f.tags for f in detail.findings), warnings=list(detail.warnings))

    def _done(self, task: FileTask, result: dict, worker: str) -> None:
        job = self.store.file_done(task.job_id, task.index, result, worker if self.lease else None)
        if job is None or job.status in ("done", "cancelled"):  # nothing left to retry: the staged uploads go
            self.uploads.remove(task.job_id)
        if job is not None and job.status == "done" and self.on_job_done is not None:
            try:
                self.on_job_done(job.inspection_id)
            except Exception as error:  # noqa: BLE001 - a follow-up must never fail the job
                log.error("after job %s: %s", task.job_id, type(error).__name__)

    def _checkpoint(self, running: _Running) -> None:
        """Between pages and stages of a running file: stop it (shutdown, timeout, cancel, lease
        lost) or let a much smaller queued file run first."""
        if self._stopping.is_set():
            raise _Stop("shutdown", "服务正在停止，该文件将在重启后继续导入")
        task = running.task
        if self.lease is not None and (task.job_id, task.index) in self._lost:
            raise _Stop("lost", "该文件已由其他导入进程接手")
        now = self._clock()
        if now > running.deadline:
            raise _Stop("timeout", f"处理时间超过单个文件 {self.file_timeout:g} 秒的上限，已停止，未导入。"
                                   "请拆分成较小的文件后再上传。")
        if now - running.checked < CHECK_SECONDS:
            return
        running.checked = now
        if self.store.cancel_requested(task.job_id):
            raise _Stop("cancelled", "任务已取消，该文件未导入")
        if running.depth == 0 and task.cost >= PREEMPT_RATIO:
            small = self.store.claim_next(running.worker, max_cost=task.cost // PREEMPT_RATIO, lease=self.lease)
            if small is not None:
                began = self._clock()
                log.info("job %s file %d runs inside job %s file %d", small.job_id, small.index, task.job_id,
                         task.index)
                self._run(small, depth=1, worker=running.worker)
                running.deadline += self._clock() - began  # the small file's time is not this file's


def process_gone(worker: str | None) -> bool:
    """Whether the in-process worker thread named ``worker`` (``host:pid:thread``) belongs to a
    process that has stopped: on this host, its pid no longer runs (or is this process: a pid used
    again after a restart). A file claimed on another host is left to that host's own restart; one
    claimed under a lease (a queue worker) is not a thread of an API process at all."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname()[:32] or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a live process of another user
        return False
    return False


def remove_stale_uploads(store: JobStore, uploads: UploadStore, orphan_age: float = 0.0) -> None:
    """Remove staged uploads that never became a job (once ``orphan_age`` seconds old: with several
    API processes another one may still be receiving) and those of jobs failed more than
    FAILED_STAGING_DAYS ago."""
    expired = datetime.now(timezone.utc) - timedelta(days=FAILED_STAGING_DAYS)
    for job_id, age in uploads.jobs():
        job = store.get(job_id)
        if (job is None and age >= orphan_age) or (job is not None and job.status == "failed"
                                                   and job.finished_at is not None
                                                   and _aware(job.finished_at) < expired):
            uploads.remove(job_id)
