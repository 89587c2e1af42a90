"""Atomic file replacement shared by every on-disk artefact (indexes, originals, models)."""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def fsync_dir(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through ``write(stream)`` into a temp file beside ``path``, fsync, then rename over it.

    A crash leaves either the old file or the new one, never a half-written file; the temp file is
    removed on failure.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_header(stream: BinaryIO, magic: bytes, header: dict) -> None:
    """A file's magic, then its JSON header behind a little-endian u64 length."""
    data = json.dumps(header, ensure_ascii=False).encode("utf-8")
    stream.write(magic)
    stream.write(struct.pack("<Q", len(data)))
    stream.write(data)


def read_header(stream: BinaryIO, magic: bytes, version: int, error: type[Exception], label: str, path) -> dict:
    """The header written by :func:`write_header`, checked (magic, size, ``format`` == ``version``);
    problems raise ``error`` with a Chinese message naming ``label`` (e.g. 向量索引文件) and ``path``."""
    if stream.read(len(magic)) != magic:
        raise error(f"{label}格式不正确：{path}")
    (size,) = struct.unpack("<Q", stream.read(8))
    if size > 1 << 20:
        raise error(f"{label}头损坏：{path}")
    header = json.loads(stream.read(size).decode("utf-8"))
    if header.get("format") != version:
        raise error(f"不支持的{label}版本：{header.get('format')}")
    return header
