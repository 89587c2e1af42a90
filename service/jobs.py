"""Background ingestion: uploaded files staged on disk are ingested by a small thread pool.

Job state lives in the ``jobs`` table, so a crash leaves unfinished jobs behind; on start they are
marked failed and retryable. Each document is stored in one transaction and a re-run of a file
already stored is a no-op (duplicate), so retrying never half-stores anything.
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nlp.types import DocumentKind
from service.ingest import Ingestor, IngestResult
from service.storage.jobs import UNFINISHED, JobStore

log = logging.getLogger(__name__)
INTERRUPTED = "服务重启时该任务尚未完成，可以重试"
FAILED = "部分文件处理时发生内部错误，可以重试"


def _pending(entry: dict) -> bool:
    return entry["status"] in UNFINISHED or entry.get("code") == "internal_error"


def _result(result: IngestResult) -> dict:
    return {"status": result.status, "document_id": result.document_id, "kind": result.kind,
            "pages": result.pages, "findings": result.findings, "code": result.error_code,
            "message": result.message, "warnings": result.warnings}


class JobRunner:
    def __init__(self, store: JobStore, ingestor: Ingestor, uploads_dir: Path, workers: int = 2) -> None:
        self.store = store
        self.ingestor = ingestor
        self.uploads_dir = uploads_dir
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xuncha-job")

    def staging(self, job_id: str) -> Path:
        return self.uploads_dir / job_id

    def recover(self) -> None:
        """On start: unfinished jobs become failed (retryable); uploads that never became a job are removed."""
        for job_id in self.store.interrupted():
            log.warning("job %s was interrupted; marked failed (retryable)", job_id)
            self.store.fail(job_id, INTERRUPTED, retryable=True)
        if self.uploads_dir.is_dir():
            for staging in self.uploads_dir.iterdir():
                if staging.is_dir() and self.store.get(staging.name) is None:
                    shutil.rmtree(staging, ignore_errors=True)

    def submit(self, job_id: str) -> None:
        self._pool.submit(self._run, job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: str) -> None:
        try:
            job = self.store.get(job_id)
            self.store.start(job_id)
            kind = DocumentKind(job.kind) if job.kind else None
            broken = False
            for entry in job.files:
                if _pending(entry):
                    broken |= not self._ingest_file(job_id, job.inspection_id, entry, kind)
            if broken:
                self.store.fail(job_id, FAILED, retryable=True)
            else:
                self.store.finish(job_id)
                shutil.rmtree(self.staging(job_id), ignore_errors=True)
        except Exception as error:  # noqa: BLE001 - the job must end in a state, whatever happened
            log.error("job %s failed: %s", job_id, type(error).__name__)
            self.store.fail(job_id, FAILED, retryable=True)

    def _ingest_file(self, job_id: str, inspection_id: int, entry: dict, kind: DocumentKind | None) -> bool:
        index = entry["index"]
        path = self.staging(job_id) / str(index)
        self.store.file_done(job_id, index, {"status": "running", "code": None, "message": None})
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.store.file_done(job_id, index, {"status": "error", "code": "upload_missing",
                                                 "message": "上传的文件已不存在，请重新上传"})
            return True
        try:
            result = self.ingestor.ingest_bytes(data, entry["filename"], inspection_id, kind,
                                                label=f"job {job_id} file {index}")
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
            log.error("job %s file %d failed: %s", job_id, index, type(error).__name__)
            self.store.file_done(job_id, index, {"status": "error", "code": "internal_error",
                                                 "message": "处理该文件时发生内部错误，可以重试"})
            return False
        self.store.file_done(job_id, index, _result(result))
        path.unlink(missing_ok=True)
        return True
