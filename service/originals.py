"""Uploaded originals on disk, named by content hash and written atomically."""

from __future__ import annotations

from pathlib import Path

from index.files import atomic_write


class OriginalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, sha256: str, suffix: str) -> str:
        """Store ``data``; return its path relative to the store. Idempotent."""
        relative = f"{sha256[:2]}/{sha256}{suffix.lower()}"
        target = self.root / relative
        if target.exists():
            return relative
        atomic_write(target, lambda stream: stream.write(data))
        return relative

    def path(self, relative: str) -> Path:
        return self.root / relative

    def delete(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)
