"""A persistent faiss vector index keyed by our own int64 ids (inner product = cosine on unit vectors).

Three kinds share one API:

``flat``
    ``IndexIDMap2(IndexFlatIP)``: exact, removal compacts the storage, ids mapped by faiss.
``hnsw``
    ``IndexIDMap2(IndexHNSWFlat(d, 32, METRIC_INNER_PRODUCT))``. HNSW cannot remove vectors, so
    removal (and replacement on re-add) writes a *tombstone*. Tombstones are kept on internal
    positions, not on ids, because a replaced id has a dead old entry and a live new entry under the
    same id. Searches run on the inner HNSW index with an ``IDSelectorBitmap`` of live positions
    and translate positions to ids through the ``IndexIDMap2`` id map. When more than
    :data:`HNSW_TOMBSTONE_LIMIT` of the stored entries are dead the graph is rebuilt from the
    stored vectors (``IndexHNSWFlat`` keeps them, so no database round trip is needed).
``ivf``
    ``IndexIVFFlat(IndexFlatIP, d, nlist, METRIC_INNER_PRODUCT)`` with faiss' *native* ids and a
    hashtable direct map (for ``reconstruct`` and fast ``remove_ids``). It is deliberately **not**
    wrapped in ``IndexIDMap2``: ``IndexIDMap2.remove_ids`` compacts its id map on the assumption
    that the inner index shifts its internal ids like ``IndexFlat`` does, which IVF does not, so
    after a removal searches return the wrong ids (checked on faiss 1.15.1: a query for id 1005
    came back as 1035). The quantizer is trained on the first batch with
    ``nlist ≈ 4·sqrt(n)`` and retrained automatically once the index has grown
    :data:`IVF_RETRAIN_GROWTH` times past the size it was trained on.

Filtered search (``allowed``) never over-fetches: small whitelists (≤ :data:`EXACT_FILTER_MAX`
live ids) are scored exactly from reconstructed vectors, larger ones go through a faiss
``SearchParameters(sel=...)`` selector, which all three kinds support.

One file per index, replaced atomically (temp file in the same directory, fsync, ``os.replace``,
fsync of the directory). Layout: magic, little-endian u64 header length, JSON header (kind, dim,
parameters, array lengths), then the HNSW tombstone bitmap, then the faiss index streamed with
``write_index``. Keeping everything in one file means the metadata can never disagree with the
index after a crash.

Kind choice (:func:`choose_kind`): flat up to :data:`FLAT_MAX` vectors, HNSW above; the numbers
behind it come from ``bench/search.py`` and are quoted next to the constant. IVF is available
when HNSW's build time or memory is a problem but is never picked automatically.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable, Iterable

import faiss
import numpy as np

from index.files import atomic_write, read_header, write_header

KINDS = ("flat", "hnsw", "ivf")

# Up to this many vectors an exact flat index is used, above it HNSW. Measured with
# ``bench/search.py --max-n 100000`` (2 shared cores, load average ~7, dim 384, k=10, single
# queries on one thread, clustered synthetic unit vectors):
#   n=10k   flat p50 0.47 ms p99 4.9 ms | HNSW(ef 64) p50 0.12 ms, recall 1.000, build 2.4 s
#   n=100k  flat p50 15.5 ms p99 33 ms  | HNSW(ef 64) p50 0.26 ms, recall 0.993, build 33 s,
#           add 1k 0.57 s (flat 0.16 s)  | IVF(nprobe 32) p50 0.46 ms, build 18 s (k-means)
# Flat latency grows linearly, so 100k is where it reaches ~15 ms per query, our per-stage
# budget for interactive search; below that flat is exact, builds instantly and removes without
# tombstones, so an approximate index buys nothing. Above it HNSW answers in well under a
# millisecond, and a ~30 s per 100k (re)build is acceptable for a corpus that large.
FLAT_MAX = 100_000

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 64
HNSW_TOMBSTONE_LIMIT = 0.20  # rebuild when dead entries exceed this share of stored entries

IVF_NPROBE = 32
IVF_RETRAIN_GROWTH = 4  # retrain the coarse quantizer when n ≥ this × the training size
IVF_MAX_TRAIN_PER_LIST = 64  # k-means sample: at most this many points per list

EXACT_FILTER_MAX = 8192  # whitelists up to this size are scored exactly

# Batches smaller than this search on one OpenMP thread. faiss parallelises a single query over
# its threads; on 2 shared cores the barrier spin made flat k=10 over 10k vectors take ~40 ms
# with 2 threads against ~0.4 ms with 1 (load average 6 from other work). omp_set_num_threads
# is per calling thread, so this does not affect other threads (e.g. a concurrent build).
SINGLE_THREAD_BELOW = 16

_MAGIC = b"XCVECIX1"
_FORMAT = 1


class VectorIndexError(ValueError):
    """The index file is missing, unreadable or does not match what the caller expects."""


def choose_kind(n: int) -> str:
    """``flat`` up to :data:`FLAT_MAX` vectors, ``hnsw`` above (see the benchmark notes)."""
    return "flat" if n <= FLAT_MAX else "hnsw"


def ivf_nlist(n: int) -> int:
    """Number of IVF lists for ``n`` training vectors: ≈ 4·sqrt(n), at least 1, at most n // 8."""
    return int(max(1, min(round(4 * np.sqrt(max(n, 1))), n // 8)))


def _as_ids(ids: Iterable[int] | np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
    return arr


class VectorIndex:
    """A faiss index over unit vectors keyed by int64 ids; see the module docstring."""

    def __init__(self, dim: int, kind: str = "flat", *, ef_search: int = HNSW_EF_SEARCH,
                 nprobe: int = IVF_NPROBE, hnsw_m: int = HNSW_M,
                 ef_construction: int = HNSW_EF_CONSTRUCTION) -> None:
        if kind not in KINDS:
            raise ValueError(f"未知的向量索引类型：{kind}（可选：{'、'.join(KINDS)}）")
        if int(dim) <= 0:
            raise ValueError(f"向量维度必须为正整数：{dim}")
        self.dim, self.kind = int(dim), kind
        self.ef_search, self.nprobe = int(ef_search), int(nprobe)
        self.hnsw_m, self.ef_construction = int(hnsw_m), int(ef_construction)
        self._trained_n = 0  # ivf: number of vectors the quantizer was trained on
        self._index = self._new_index(1)
        self._live = np.zeros(0, dtype=bool)  # hnsw: live flag per internal position
        self._reset_caches()

    # ------------------------------------------------------------------ construction helpers

    def _new_index(self, n_train: int):
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        if self.kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.ef_construction
            inner.hnsw.efSearch = self.ef_search
            return faiss.IndexIDMap2(inner)
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, ivf_nlist(n_train), faiss.METRIC_INNER_PRODUCT)
        ivf.own_fields = True
        quantizer.this.disown()
        ivf.cp.min_points_per_centroid = 5  # 4·sqrt(n) lists leave fewer than faiss' 39 points per list
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.nprobe = self.nprobe
        return ivf

    def _reset_caches(self) -> None:
        self._labels_cache: np.ndarray | None = None  # hnsw: position -> id
        self._sorted_cache: tuple[np.ndarray, np.ndarray] | None = None  # hnsw: live ids sorted, positions
        self._live_bitmap: np.ndarray | None = None
        self._ids_cache: np.ndarray | None = None

    def _labels(self) -> np.ndarray:
        """hnsw/flat: the id stored at each internal position."""
        if self._labels_cache is None:
            self._labels_cache = faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)
        return self._labels_cache

    def _live_sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """hnsw: live ids sorted ascending and their internal positions."""
        if self._sorted_cache is None:
            positions = np.flatnonzero(self._live)
            ids = self._labels()[positions]
            order = np.argsort(ids, kind="stable")
            self._sorted_cache = (ids[order], positions[order])
        return self._sorted_cache

    def _positions_of(self, ids: np.ndarray) -> np.ndarray:
        """hnsw: internal positions of the live entries among ``ids`` (unknown ids skipped)."""
        sorted_ids, positions = self._live_sorted()
        if not len(sorted_ids) or not len(ids):
            return np.zeros(0, dtype=np.int64)
        where = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        hit = sorted_ids[where] == ids
        return positions[where[hit]]

    # ------------------------------------------------------------------ basic API

    @property
    def tombstones(self) -> int:
        """Number of dead entries still stored (hnsw only; 0 for the other kinds)."""
        return int(len(self._live) - self._live.sum()) if self.kind == "hnsw" else 0

    def __len__(self) -> int:
        if self.kind == "hnsw":
            return int(self._live.sum())
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """The live ids, sorted ascending (int64)."""
        if self._ids_cache is None:
            if self.kind == "hnsw":
                out = self._live_sorted()[0].copy()
            elif self.kind == "flat":
                out = np.sort(self._labels())
            else:
                out = np.sort(self._ivf_contents(with_vectors=False)[0])
            self._ids_cache = out
        return self._ids_cache.copy()

    def _present(self, ids: np.ndarray) -> np.ndarray:
        """The members of ``ids`` that are live in the index."""
        if self._ids_cache is None:
            self.ids()
        stored = self._ids_cache
        if not len(stored) or not len(ids):
            return np.zeros(0, dtype=np.int64)
        where = np.clip(np.searchsorted(stored, ids), 0, len(stored) - 1)
        return ids[stored[where] == ids]

    def _check_vectors(self, vectors, n: int | None = None) -> np.ndarray:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise ValueError(f"向量维度不符：期望 {self.dim} 维，实际形状为 {tuple(arr.shape)}")
        if n is not None and arr.shape[0] != n:
            raise ValueError(f"编号数量（{n}）与向量数量（{arr.shape[0]}）不一致")
        if not np.isfinite(arr).all():
            raise ValueError("向量中包含非有限数值（NaN 或 Inf）")
        return np.ascontiguousarray(arr)

    def add(self, ids, vectors) -> None:
        """Add vectors under ``ids``; an id already present is replaced (last one wins in a batch)."""
        ids = _as_ids(ids)
        vectors = self._check_vectors(vectors, len(ids))
        if not len(ids):
            return
        if (ids < 0).any():
            raise ValueError("向量编号必须为非负整数（-1 保留给空结果）")
        if len(np.unique(ids)) != len(ids):  # keep the last occurrence of each id
            _, last = np.unique(ids[::-1], return_index=True)
            keep = np.sort(len(ids) - 1 - last)
            ids, vectors = ids[keep], vectors[keep]
        if self.kind == "hnsw":
            self._kill_positions(self._positions_of(ids))
            self._index.add_with_ids(vectors, ids)
            self._live = np.concatenate([self._live, np.ones(len(ids), dtype=bool)])
            self._reset_caches()
            self._maybe_compact()
            return
        if self.kind == "flat":
            present = self._present(ids)
            if len(present):  # IndexIDMap2.remove_ids rebuilds its reverse map: skip when nothing to replace
                self._index.remove_ids(faiss.IDSelectorBatch(present))
            self._index.add_with_ids(vectors, ids)
            self._reset_caches()
            return
        # ivf
        if not self._index.is_trained:
            self._index = self._new_index(len(ids))
            self._train(vectors)
        else:
            self._remove_ivf(ids)
        self._index.add_with_ids(vectors, ids)
        self._reset_caches()
        if self._index.ntotal >= IVF_RETRAIN_GROWTH * max(self._trained_n, 256):
            self._rebuild()

    def remove(self, ids) -> int:
        """Remove ``ids`` (unknown ids are ignored); returns how many were removed."""
        ids = np.unique(_as_ids(ids))
        if not len(ids) or not len(self):
            return 0
        if self.kind == "hnsw":
            positions = self._positions_of(ids)
            self._kill_positions(positions)
            self._reset_caches()
            self._maybe_compact()
            return int(len(positions))
        if self.kind == "ivf":
            removed = self._remove_ivf(ids) if self._index.is_trained else 0
        else:
            removed = int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))
        self._reset_caches()
        return removed

    def _remove_ivf(self, ids: np.ndarray) -> int:
        # the hashtable direct map only accepts IDSelectorArray for removal
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        return int(self._index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))))

    def _kill_positions(self, positions: np.ndarray) -> None:
        if len(positions):
            self._live[positions] = False

    def _maybe_compact(self) -> None:
        dead = len(self._live) - int(self._live.sum())
        if dead and dead > HNSW_TOMBSTONE_LIMIT * len(self._live):
            self._rebuild()

    # ------------------------------------------------------------------ rebuild / retrain

    def _train(self, vectors: np.ndarray) -> None:
        nlist = self._index.nlist
        limit = max(nlist * IVF_MAX_TRAIN_PER_LIST, 1)
        sample = vectors
        if len(vectors) > limit:
            rng = np.random.default_rng(len(vectors))
            sample = vectors[np.sort(rng.choice(len(vectors), limit, replace=False))]
        self._index.train(sample)
        self._trained_n = int(len(vectors))

    def _ivf_contents(self, with_vectors: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        ivf = self._index
        if not ivf.is_trained or ivf.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        invlists = ivf.invlists
        id_parts, vec_parts = [], []
        for list_no in range(ivf.nlist):
            size = invlists.list_size(list_no)
            if not size:
                continue
            id_parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
            if with_vectors:
                codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * ivf.code_size)
                vec_parts.append(codes.view(np.float32).reshape(size, self.dim).copy())
        ids = np.concatenate(id_parts).astype(np.int64)
        return ids, (np.vstack(vec_parts) if with_vectors else None)

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """All live ``(ids, vectors)`` in internal order (used to rebuild, retrain or migrate)."""
        if self.kind == "ivf":
            return self._ivf_contents()
        labels = self._labels()
        if not len(labels):
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._index.index.reconstruct_n(0, len(labels))
        if self.kind == "hnsw":
            return labels[self._live].copy(), vectors[self._live]
        return labels.copy(), vectors

    def _rebuild(self) -> None:
        ids, vectors = self.entries()
        self._index = self._new_index(len(ids))
        self._live = np.zeros(0, dtype=bool)
        self._reset_caches()
        if self.kind == "ivf":
            if not len(ids):
                return
            self._train(vectors)
        self._index.add_with_ids(vectors, ids)
        if self.kind == "hnsw":
            self._live = np.ones(len(ids), dtype=bool)

    def rebuild(self) -> None:
        """Rebuild from the stored vectors (drops HNSW tombstones, retrains IVF)."""
        self._rebuild()

    # ------------------------------------------------------------------ search

    def search(self, queries, k: int, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product. Returns ``(scores, ids)`` of shape ``(nq, k)``.

        Empty slots have id -1 and score ``-inf``. ``allowed`` restricts results to those ids.
        """
        if int(k) <= 0:
            raise ValueError(f"k 必须为正整数：{k}")
        k = int(k)
        queries = self._check_vectors(queries)
        nq = len(queries)
        scores = np.full((nq, k), -np.inf, dtype=np.float32)
        labels = np.full((nq, k), -1, dtype=np.int64)
        if not nq or not len(self):
            return scores, labels
        if allowed is not None:
            allowed = np.unique(_as_ids(allowed))
            if not len(allowed):
                return scores, labels
            if len(allowed) <= EXACT_FILTER_MAX:
                return self._search_exact(queries, k, allowed, scores, labels)
        threads = faiss.omp_get_max_threads()
        if nq < SINGLE_THREAD_BELOW:
            faiss.omp_set_num_threads(1)
        try:
            return self._search(queries, k, allowed, scores, labels)
        finally:
            faiss.omp_set_num_threads(threads)

    def _search(self, queries, k, allowed, scores, labels):
        kk = min(k, len(self))
        if self.kind == "hnsw":
            found_scores, found = self._search_hnsw(queries, kk, allowed)
        else:
            params = None
            if self.kind == "ivf":
                params = faiss.SearchParametersIVF(nprobe=self.nprobe)
            if allowed is not None:
                selector = faiss.IDSelectorBatch(allowed)
                params = params or faiss.SearchParameters()
                params.sel = selector
            found_scores, found = self._index.search(queries, kk, params=params)
        found = found.astype(np.int64, copy=False)
        empty = found < 0
        found_scores = np.where(empty, -np.inf, found_scores).astype(np.float32)
        scores[:, :kk], labels[:, :kk] = found_scores, found
        return scores, labels

    def _search_hnsw(self, queries: np.ndarray, k: int, allowed: np.ndarray | None):
        inner = self._index.index
        if allowed is None:
            mask = self._live
            bitmap = self._live_bitmap
            if bitmap is None and not mask.all():
                bitmap = self._live_bitmap = np.packbits(mask, bitorder="little")
        else:
            mask = np.zeros(len(self._live), dtype=bool)
            mask[self._positions_of(allowed)] = True
            bitmap = np.packbits(mask, bitorder="little")
        ef = max(self.ef_search, k)
        if bitmap is None:
            params = faiss.SearchParametersHNSW(efSearch=ef)
        else:
            selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
        found_scores, positions = inner.search(queries, k, params=params)
        labels = self._labels()
        found = np.where(positions >= 0, labels[np.maximum(positions, 0)], -1)
        return found_scores, found

    def _search_exact(self, queries, k, allowed, scores, labels):
        if self.kind == "hnsw":
            positions = self._positions_of(allowed)
            ids = self._labels()[positions]
            vectors = self._index.index.reconstruct_batch(positions) if len(positions) else None
        else:
            present = self.ids()
            ids = allowed[np.isin(allowed, present, assume_unique=True)]
            vectors = self._index.reconstruct_batch(ids) if len(ids) else None
        if vectors is None:
            return scores, labels
        sims = queries @ np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim).T
        kk = min(k, len(ids))
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] if kk < len(ids) else np.tile(
            np.arange(len(ids)), (len(queries), 1))
        top_scores = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        scores[:, :kk] = np.take_along_axis(top_scores, order, axis=1)
        labels[:, :kk] = ids[top]
        return scores, labels

    # ------------------------------------------------------------------ persistence

    def _header(self) -> dict:
        return {
            "format": _FORMAT, "kind": self.kind, "dim": self.dim,
            "ef_search": self.ef_search, "nprobe": self.nprobe, "hnsw_m": self.hnsw_m,
            "ef_construction": self.ef_construction, "trained_n": self._trained_n,
            "live_count": int(len(self._live)), "live_bytes": int((len(self._live) + 7) // 8),
            "ntotal": int(self._index.ntotal),
        }

    def save(self, path: str | Path) -> None:
        """Write the index atomically to ``path`` (temp file + fsync + ``os.replace``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, self.write)

    def write(self, stream) -> None:
        """Write the index to a binary stream (the body of :meth:`save`; other containers embed it)."""
        write_header(stream, _MAGIC, self._header())
        stream.write(np.packbits(self._live, bitorder="little").tobytes())
        faiss.write_index(self._index, faiss.PyCallbackIOWriter(stream.write))

    @classmethod
    def load(cls, path: str | Path) -> "VectorIndex":
        """Read an index written by :meth:`save`; raises :class:`VectorIndexError` if unusable."""
        path = Path(path)
        try:
            with open(path, "rb") as fh:
                out = cls.read(fh, path)
                if fh.read(1):
                    raise VectorIndexError(f"向量索引文件末尾有多余数据：{path}")
                return out
        except FileNotFoundError:
            raise VectorIndexError(f"向量索引文件不存在：{path}") from None

    @classmethod
    def read(cls, fh, path: str | Path) -> "VectorIndex":
        """Read an index written by :meth:`write` from a binary stream positioned at its start
        (``path`` names it in errors); raises :class:`VectorIndexError` if unusable."""
        try:
            header = read_header(fh, _MAGIC, _FORMAT, VectorIndexError, "向量索引文件", path)
            live_raw = fh.read(header["live_bytes"])
            if len(live_raw) != header["live_bytes"]:
                raise VectorIndexError(f"向量索引文件不完整：{path}")
            index = faiss.read_index(faiss.PyCallbackIOReader(fh.read))
        except FileNotFoundError:
            raise VectorIndexError(f"向量索引文件不存在：{path}") from None
        except VectorIndexError:
            raise
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, struct.error) as exc:
            raise VectorIndexError(f"向量索引文件已损坏，无法读取：{path}（{exc}）") from exc
        out = cls(header["dim"], header["kind"], ef_search=header["ef_search"], nprobe=header["nprobe"],
                  hnsw_m=header["hnsw_m"], ef_construction=header["ef_construction"])
        if index.d != out.dim or index.ntotal != header["ntotal"]:
            raise VectorIndexError(f"向量索引文件内容与文件头不一致：{path}")
        if out.kind == "ivf":
            if not isinstance(index, faiss.IndexIVFFlat):  # read_index already downcasts
                raise VectorIndexError(f"向量索引文件类型不符：{path}")
            index.nprobe = out.nprobe
            if index.direct_map.type != faiss.DirectMap.Hashtable:
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
            out._trained_n = int(header["trained_n"])
        else:
            if not isinstance(index, faiss.IndexIDMap2):
                raise VectorIndexError(f"向量索引文件类型不符：{path}")
            if out.kind == "hnsw":
                faiss.downcast_index(index.index).hnsw.efSearch = out.ef_search
                live = np.unpackbits(np.frombuffer(live_raw, dtype=np.uint8), count=header["live_count"],
                                     bitorder="little").astype(bool)
                if len(live) != index.ntotal:
                    raise VectorIndexError(f"向量索引文件的删除标记与索引不一致：{path}")
                out._live = live
        out._index = index
        out._reset_caches()
        return out


def load_consistent(path: str | Path, expected_ids: set[int], vectors_for: Callable[[list[int]], np.ndarray],
                    dim: int, kind: str | None = None) -> tuple[VectorIndex, bool]:
    """The index at ``path`` if it holds exactly ``expected_ids``; otherwise rebuilt and saved.

    The database is the source of truth: ``vectors_for(sorted ids)`` must return their vectors in
    that order. The index is rebuilt when the file is missing or corrupt, has another dimension
    or (if ``kind`` is given) another kind, or its id set differs from ``expected_ids``. A rebuild
    uses ``kind`` or :func:`choose_kind` of the expected size. Returns ``(index, rebuilt)``.
    """
    path = Path(path)
    expected = np.array(sorted(int(i) for i in expected_ids), dtype=np.int64)
    try:
        index = VectorIndex.load(path)
    except VectorIndexError:
        index = None
    if (index is not None and index.dim == int(dim) and (kind is None or index.kind == kind)
            and np.array_equal(index.ids(), expected)):
        return index, False
    index = VectorIndex(dim, kind or choose_kind(len(expected)))
    if len(expected):
        vectors = np.asarray(vectors_for(expected.tolist()), dtype=np.float32)
        index.add(expected, vectors.reshape(len(expected), -1))
    index.save(path)
    return index, True
