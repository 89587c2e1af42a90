"""Hybrid search: a faiss vector index and a BM25 index over the same entries, fused per query.

Every hit explains itself: its vector and keyword scores and ranks, and the query words found
in its text with their spans (for highlighting). Filters are predicates over each entry's
metadata, turned into an id whitelist that both sides honour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from index.fusion import reciprocal_rank_fusion, weighted_fusion
from index.keyword import KeywordIndex, matched_terms
from index.vectors import VectorIndex, choose_kind, load_consistent

EmbedFn = Callable[[Sequence[str]], np.ndarray]
MODES = ("hybrid", "vector", "keyword")
CANDIDATES = 50  # per side, before fusion


@dataclass
class Entry:
    id: int
    text: str
    meta: dict = field(default_factory=dict)


@dataclass
class Hit:
    id: int
    score: float
    text: str
    meta: dict
    vector_score: float | None = None
    vector_rank: int | None = None
    keyword_score: float | None = None
    keyword_rank: int | None = None
    matched: list[tuple[str, int, int]] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "id": self.meta.get("external_id", self.id), "score": round(self.score, 5), "text": self.text,
            "vector_score": None if self.vector_score is None else round(self.vector_score, 4),
            "keyword_score": None if self.keyword_score is None else round(self.keyword_score, 4),
            "matched": [{"term": t, "start": s, "end": e} for t, s, e in self.matched],
            **{k: v for k, v in self.meta.items() if k != "external_id"},
        }


class HybridIndex:
    """Entries held in memory (text + metadata), vectors in faiss, words in BM25."""

    def __init__(self, embed_passages: EmbedFn, embed_query: EmbedFn, dim: int, *, fusion: str = "rrf",
                 vector_weight: float = 0.5, kind: str | None = None) -> None:
        self.embed_passages, self.embed_query, self.dim = embed_passages, embed_query, dim
        self.fusion, self.vector_weight, self.kind = fusion, vector_weight, kind
        self.entries: dict[int, Entry] = {}
        self.vectors = VectorIndex(dim, kind or "flat")
        self.keywords = KeywordIndex()

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entries: Iterable[Entry], vectors: np.ndarray | None = None) -> None:
        entries = list(entries)
        if not entries:
            return
        ids = np.array([e.id for e in entries], dtype=np.int64)
        if vectors is None:
            vectors = self.embed_passages([e.text for e in entries])
        self.vectors.add(ids, np.asarray(vectors, dtype=np.float32))
        self.keywords.add(ids.tolist(), [e.text for e in entries])
        self.entries.update((e.id, e) for e in entries)

    def remove(self, ids: Iterable[int]) -> int:
        ids = [int(i) for i in ids if int(i) in self.entries]
        if ids:
            self.vectors.remove(np.array(ids, dtype=np.int64))
            self.keywords.remove(ids)
            for i in ids:
                del self.entries[i]
        return len(ids)

    def allowed(self, where: Callable[[dict], bool] | None) -> np.ndarray | None:
        if where is None:
            return None
        return np.array([i for i, e in self.entries.items() if where(e.meta)], dtype=np.int64)

    def search(self, query: str, k: int = 10, where: Callable[[dict], bool] | None = None,
               mode: str = "hybrid") -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"未知的检索方式：{mode}（可选：{'、'.join(MODES)}）")
        allowed = self.allowed(where)
        if not self.entries or (allowed is not None and not len(allowed)):
            return []
        depth = max(k, CANDIDATES)
        vector_hits: dict[int, float] = {}
        keyword_hits: dict[int, float] = {}
        if mode in ("hybrid", "vector"):
            scores, ids = self.vectors.search(self.embed_query([query]), depth, allowed)
            vector_hits = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
        if mode in ("hybrid", "keyword"):
            scores, ids = self.keywords.search(query, depth, allowed)
            keyword_hits = {int(i): float(s) for s, i in zip(scores, ids)}
        if mode == "vector":
            fused = sorted(vector_hits.items(), key=lambda x: (-x[1], x[0]))
        elif mode == "keyword":
            fused = sorted(keyword_hits.items(), key=lambda x: (-x[1], x[0]))
        elif self.fusion == "rrf":
            fused = reciprocal_rank_fusion([list(vector_hits), list(keyword_hits)])
        else:
            fused = weighted_fusion(vector_hits, keyword_hits, self.vector_weight)
        vector_rank = {i: r for r, i in enumerate(vector_hits, 1)}
        keyword_rank = {i: r for r, i in enumerate(keyword_hits, 1)}
        hits = []
        for identifier, score in fused[:k]:
            entry = self.entries[identifier]
            hits.append(Hit(identifier, score, entry.text, entry.meta, vector_hits.get(identifier),
                            vector_rank.get(identifier), keyword_hits.get(identifier),
                            keyword_rank.get(identifier), matched_terms(query, entry.text)))
        return hits

    # ----- persistence: vectors on disk, checked against the entries the caller supplies
    def load_vectors(self, path: Path, vectors_for: Callable[[list[int]], np.ndarray]) -> bool:
        """Replace the in-memory vector side by the index at ``path`` if it matches the entries,
        else rebuild it from ``vectors_for`` and save. Returns True when it was rebuilt."""
        self.vectors, rebuilt = load_consistent(path, set(self.entries), vectors_for, self.dim,
                                                self.kind or choose_kind(len(self.entries)))
        return rebuilt

    def set_entries(self, entries: Iterable[Entry]) -> None:
        """Load entries (text + metadata) and rebuild BM25; vectors come from :meth:`load_vectors`."""
        entries = list(entries)
        self.entries = {e.id: e for e in entries}
        self.keywords = KeywordIndex([e.id for e in entries], [e.text for e in entries])
