"""Where staged uploads live between the API that received them and the executor that ingests
them: a store every API process and worker reaches.

:class:`UploadStore` is the interface the job code uses; :class:`DirectoryStore` keeps each job's
files as ``<root>/<job id>/<file index>`` in a directory (``XUNCHA_STORE_DIR``/uploads, default
``XUNCHA_HOME``/uploads) — with several machines, a shared mount. An object store (S3-compatible)
fits the same interface: the API streams an upload into :meth:`UploadStore.staging` (a local
directory), :meth:`UploadStore.publish` copies it up before the job's tasks are sent, and workers
:meth:`UploadStore.read` a file by key. Originals of stored documents have their own small store
(:class:`service.originals.OriginalStore`, under the same root).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Protocol

__all__ = ["DirectoryStore", "UploadStore"]


class UploadStore(Protocol):
    def staging(self, job_id: str) -> Path:
        """Local directory the API streams a new upload of ``job_id`` into (file ``<index>`` each)."""

    def publish(self, job_id: str) -> None:
        """Make the staged files of ``job_id`` reachable by every worker (before its tasks are sent)."""

    def read(self, job_id: str, index: int) -> bytes:
        """A staged file's bytes; FileNotFoundError when it is gone."""

    def discard(self, job_id: str, index: int) -> None:
        """Remove one staged file (it was ingested)."""

    def remove(self, job_id: str) -> None:
        """Remove every staged file of ``job_id``."""

    def exists(self, job_id: str) -> bool:
        """Whether ``job_id`` still has staged files (a retry needs them)."""

    def jobs(self) -> list[tuple[str, float]]:
        """(job id, seconds since last modified) of every staged upload, for clean-up."""


class DirectoryStore:
    """Staged uploads in a directory (on one machine, or a mount every machine shares)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def staging(self, job_id: str) -> Path:
        return self.root / job_id

    def publish(self, job_id: str) -> None:
        pass  # already where every worker reads it

    def read(self, job_id: str, index: int) -> bytes:
        return (self.root / job_id / str(index)).read_bytes()

    def discard(self, job_id: str, index: int) -> None:
        (self.root / job_id / str(index)).unlink(missing_ok=True)

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.root / job_id, ignore_errors=True)

    def exists(self, job_id: str) -> bool:
        return (self.root / job_id).is_dir()

    def jobs(self) -> list[tuple[str, float]]:
        if not self.root.is_dir():
            return []
        now, found = time.time(), []
        for entry in self.root.iterdir():
            try:
                if entry.is_dir():
                    found.append((entry.name, max(0.0, now - entry.stat().st_mtime)))
            except OSError:
                continue  # removed meanwhile
        return found
