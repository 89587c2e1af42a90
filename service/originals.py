"""Uploaded originals on disk, named by content hash and written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OriginalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, sha256: str, suffix: str) -> str:
        """Store ``data``; return its path relative to the store. Idempotent."""
        relative = f"{sha256[:2]}/{sha256}{suffix.lower()}"
        target = self.root / relative
        if target.exists():
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return relative

    def path(self, relative: str) -> Path:
        return self.root / relative

    def delete(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)
