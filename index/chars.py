"""Character n-gram TF-IDF (1–3-grams, sublinear tf, cosine) with incremental add/remove.

Chinese words in real material are often split differently by jieba in the query and in the
text (村干部 / 村 干部, 优亲厚友 / 优亲 厚友); character n-grams match across such splits, which is
why this side beats word BM25 on the real-register set (``python -m index.realdev``).

N-grams are hashed (``HashingVectorizer``, 2**20 buckets), so no vocabulary has to be refitted when
texts are added: document frequencies are kept as counts, and the idf-weighted, normalised matrix
is rebuilt lazily on the next search after a change (sparse arithmetic, no re-tokenising).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:  # scikit-learn and scipy load with the first index, not when the module is imported
    from scipy import sparse
    from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2 ** 20


@lru_cache(maxsize=1)
def _hasher() -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=N_FEATURES, alternate_sign=False,
                             norm=None, lowercase=True)


def _tf(texts: Sequence[str]) -> sparse.csr_matrix:
    counts = _hasher().transform(list(texts)).tocsr().astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)
    return counts


class CharNgramIndex:
    """Cosine similarity of idf-weighted character 1–3-gram vectors, keyed by int64 ids."""

    def __init__(self, ids: Iterable[int] = (), texts: Iterable[str] = ()) -> None:
        self._rows: dict[int, sparse.csr_matrix] = {}
        self._df = np.zeros(N_FEATURES, dtype=np.float32)
        self._matrix: sparse.csr_matrix | None = None
        self._order = np.zeros(0, dtype=np.int64)
        self._idf: np.ndarray | None = None
        self._last_query: tuple | None = None
        ids, texts = list(ids), list(texts)
        if ids:
            self.add(ids, texts)

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        ids = [int(i) for i in ids]
        if len(ids) != len(texts):
            raise ValueError(f"编号数量（{len(ids)}）与文本数量（{len(texts)}）不一致")
        if not ids:
            return
        self.remove([i for i in ids if i in self._rows])
        tf = _tf(texts)
        for position, id_ in enumerate(ids):
            row = tf[position]
            self._rows[id_] = row
            self._df[row.indices] += 1.0
        self._matrix = None

    def remove(self, ids: Iterable[int]) -> int:
        removed = 0
        for id_ in ids:
            row = self._rows.pop(int(id_), None)
            if row is not None:
                self._df[row.indices] -= 1.0
                removed += 1
        if removed:
            self._matrix = None
        return removed

    def _build(self) -> None:
        from scipy import sparse

        n = len(self._rows)
        self._idf = (np.log((1.0 + n) / (1.0 + np.maximum(self._df, 0.0))) + 1.0).astype(np.float32)
        self._order = np.array(sorted(self._rows), dtype=np.int64)
        if n:
            matrix = sparse.vstack([self._rows[i] for i in self._order.tolist()]).tocsr()
            self._matrix = self._normalise(matrix)
        else:
            self._matrix = sparse.csr_matrix((0, N_FEATURES), dtype=np.float32)

    def _normalise(self, tf: sparse.csr_matrix) -> sparse.csr_matrix:
        from scipy import sparse

        weighted = tf.copy()
        weighted.data = weighted.data * self._idf[weighted.indices]
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        return (sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ weighted).tocsr().astype(np.float32)

    def _query_dense(self, query: str) -> np.ndarray:
        """The query's normalised idf-weighted vector, dense (CSR × dense: no sparse transpose)."""
        tf = _tf([query])
        weights = tf.data * self._idf[tf.indices]
        dense = np.zeros(N_FEATURES, dtype=np.float32)
        dense[tf.indices] = weights / max(float(np.sqrt(np.dot(weights, weights))), 1e-12)
        return dense

    def _query_scores(self, query: str) -> np.ndarray:
        if self._matrix is None:
            self._build()
        matrix = self._matrix
        if not len(self._order):
            return np.zeros(0, dtype=np.float32)
        last = getattr(self, "_last_query", None)  # absent in indexes pickled before it
        if last is not None and last[0] == query and last[1] is matrix:  # search, then scores_for
            return last[2]
        scores = np.asarray(matrix @ self._query_dense(query), dtype=np.float32).ravel()
        self._last_query = (query, matrix, scores)
        return scores

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, ids)`` by cosine, best first (ties by id); zero scores left out."""
        scores = self._query_scores(query)
        keep = scores > 0
        if allowed is not None:
            keep &= np.isin(self._order, np.asarray(allowed, dtype=np.int64))
        candidates = np.flatnonzero(keep)
        order = np.lexsort((self._order[candidates], -scores[candidates]))[:int(k)]
        return scores[candidates[order]], self._order[candidates[order]]

    def scores_for(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        """Cosine of ``query`` with each of ``ids`` (0 for unknown ids). Only those rows are read,
        unless the whole index was scored for this query already (by :meth:`search`)."""
        if self._matrix is None:
            self._build()
        matrix, order = self._matrix, self._order
        wanted = np.asarray(ids, dtype=np.int64)
        positions = np.minimum(np.searchsorted(order, wanted), max(len(order) - 1, 0))
        found = (order[positions] == wanted) if len(order) else np.zeros(len(wanted), dtype=bool)
        scores = np.zeros(len(wanted), dtype=np.float32)
        last = getattr(self, "_last_query", None)
        if last is not None and last[0] == query and last[1] is matrix:
            scores[found] = last[2][positions[found]]
        elif found.any():
            scores[found] = np.asarray(matrix[positions[found]] @ self._query_dense(query), dtype=np.float32).ravel()
        return {int(i): float(v) for i, v in zip(wanted.tolist(), scores)}
