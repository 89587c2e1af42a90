"""What a search replica keeps on disk, and the lock that lets searches run concurrently.

A replica file holds, in one atomically replaced file (so they never disagree after a crash): the
last change-log sequence number applied, the content hash of the text indexed under every id, and
the faiss vectors. Layout: magic, little-endian u64 header length, JSON header (format, seq,
signature, count), the ids (int64), their hashes (16 bytes each), then the :class:`VectorIndex`
stream. Several processes may write the same file: each write is a consistent snapshot of one
replica, and a replica checks the hashes against the database when it starts anyway.
"""

from __future__ import annotations

import struct
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from index.files import atomic_write, read_header, write_header
from index.vectors import VectorIndex, VectorIndexError

_MAGIC = b"XCREPL01"
_FORMAT = 1
HASH_BYTES = 16


@dataclass
class ReplicaState:
    vectors: VectorIndex
    hashes: dict[int, str] = field(default_factory=dict)
    """id -> content hash (32 hex digits) of the text whose vector is stored under the id."""
    seq: int = 0
    signature: str = ""


def save_replica(path: str | Path, state: ReplicaState) -> None:
    ids = np.array(sorted(state.hashes), dtype=np.int64)
    digests = b"".join(bytes.fromhex(state.hashes[i]) for i in ids.tolist())
    header = {"format": _FORMAT, "seq": int(state.seq), "signature": state.signature, "count": len(ids)}

    def write(stream) -> None:
        write_header(stream, _MAGIC, header)
        stream.write(ids.tobytes())
        stream.write(digests)
        state.vectors.write(stream)

    atomic_write(Path(path), write)


def load_replica(path: str | Path) -> ReplicaState:
    """Read a file written by :func:`save_replica`; raises :class:`VectorIndexError` if unusable
    (missing, corrupt, or its hashes do not name exactly the ids its vectors hold)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            header = read_header(fh, _MAGIC, _FORMAT, VectorIndexError, "检索副本文件", path)
            count = int(header["count"])
            raw_ids = fh.read(8 * count)
            raw_hashes = fh.read(HASH_BYTES * count)
            if len(raw_ids) != 8 * count or len(raw_hashes) != HASH_BYTES * count:
                raise VectorIndexError(f"检索副本文件不完整：{path}")
            vectors = VectorIndex.read(fh, path)
    except FileNotFoundError:
        raise VectorIndexError(f"检索副本文件不存在：{path}") from None
    except VectorIndexError:
        raise
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise VectorIndexError(f"检索副本文件已损坏，无法读取：{path}（{exc}）") from exc
    ids = np.frombuffer(raw_ids, dtype=np.int64)
    if not np.array_equal(np.sort(ids), vectors.ids()):
        raise VectorIndexError(f"检索副本文件的内容摘要与向量不一致：{path}")
    hashes = {int(i): raw_hashes[n * HASH_BYTES:(n + 1) * HASH_BYTES].hex() for n, i in enumerate(ids.tolist())}
    return ReplicaState(vectors, hashes, int(header["seq"]), str(header.get("signature", "")))


class ReadWriteLock:
    """Many readers (at most ``max_readers`` at once, if given) or one writer; a waiting writer
    holds back new readers (so a stream of searches cannot starve the change log), and readers are
    let in in the order they came (so none waits behind luckier ones). Not re-entrant: never ask
    for the write side while holding the read side."""

    def __init__(self, max_readers: int | None = None) -> None:
        self._max = max_readers or float("inf")
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting = 0
        self._issued = self._admitted = 0  # reader tickets: first come, first in

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            ticket = self._issued
            self._issued += 1
            while self._writer or self._waiting or self._readers >= self._max or ticket != self._admitted:
                self._cond.wait()
            self._admitted += 1
            self._readers += 1
            self._cond.notify_all()  # the next ticket may come in too
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()
