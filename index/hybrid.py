"""Hybrid search: a faiss vector index and a BM25 index over the same entries, fused per query.

Every hit explains itself: its vector and keyword scores and ranks, and the query words found
in its text with their spans (for highlighting). Filters are turned into an id whitelist that
every side honours: a structured :class:`index.postings.MetaFilter` is resolved against metadata
columns kept in step with the entries (no per-entry Python call, memoised per index version); a
plain predicate over each entry's metadata is still accepted and walks every entry.

Fusion ``"calibrated"`` (the service's default, chosen on the real-register set with
``python -m index.realdev``) adds up *absolute* per-signal scores instead of per-query ranks, so
the sum means the same for every query and can carry a relevance floor: a query with nothing
relevant returns no hits. Signals: vector cosine, BM25 over jieba words, character n-gram cosine
(:mod:`index.chars`) and, when an ``items_fn`` is given, the cosine of the two texts' checklist
profiles (:func:`checklist_profiles`: the trained tagger's item distribution and its discipline
prediction), weighted per query by ``gate_fn`` (the probability that the query states a problem: a
service request or a thank-you letter has an item distribution too, and it means nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from index.chars import CharNgramIndex
from index.fusion import reciprocal_rank_fusion, weighted_fusion
from index.keyword import KeywordIndex, matched_terms, query_tokens
from index.postings import MetaFilter, MetaPostings, predicate_ids
from index.vectors import VectorIndex, choose_kind, load_consistent

EmbedFn = Callable[[Sequence[str]], np.ndarray]
MODES = ("hybrid", "vector", "keyword")
FUSIONS = ("rrf", "weighted", "calibrated")
CANDIDATES = 50  # per side, before fusion
LEVELS = ("高", "中", "低")


@dataclass(frozen=True)
class Calibration:
    """Weights of the ``calibrated`` fusion and the thresholds on its sum.

    ``score = vector·(cos − vector_center)/vector_scale + keyword·bm25/(bm25 + keyword_k)
    + chars·cos_chars/chars_scale + items·gate·cos_profiles`` (:func:`checklist_profiles`; ``gate``
    is the query's weight from ``gate_fn``, 1 without one). Hits whose score *without the item term* is
    under ``floor`` are dropped (the tagger gives off-topic text a confident item distribution too,
    so item agreement ranks but does not vouch for relevance); ``high`` and
    ``medium`` split the rest into 高/中/低 相关. Defaults: :data:`DEFAULT_CALIBRATION`.
    """

    vector: float = 1.0
    keyword: float = 0.3
    chars: float = 0.5
    items: float = 0.0
    vector_center: float = 0.8
    vector_scale: float = 0.2
    keyword_k: float = 10.0
    chars_scale: float = 0.3
    floor: float = float("-inf")
    domain_floor: float | None = None
    """The floor for a query most of whose words are inspection vocabulary (``domain_words``):
    short keyword queries such as 形式主义 score lower than sentences, and their words are evidence
    enough that the corpus is the right place to look."""
    medium: float = float("inf")
    high: float = float("inf")

    def level(self, score: float) -> str:
        return LEVELS[0] if score >= self.high else LEVELS[1] if score >= self.medium else LEVELS[2]


DEFAULT_CALIBRATION = Calibration()


def checklist_profiles(items: np.ndarray, discipline: np.ndarray | None = None,
                       discipline_share: float = 0.0) -> np.ndarray:
    """What the item side compares, one row per text: the square roots of the checklist item
    distribution (so the cosine of two rows is the Bhattacharyya coefficient, which credits two
    texts spread over the same neighbouring items instead of only the same single item), then,
    when given, the discipline distribution. Each block is scaled to unit length and weighted so that
    the cosine of two profiles is ``(1 − share)·cos(items) + share·cos(discipline)``. The first
    ``items.shape[1]`` columns keep the item order (their argmax is the top item)."""
    def unit(matrix: np.ndarray) -> np.ndarray:
        matrix = np.asarray(matrix, dtype=np.float32)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    if not 0.0 <= discipline_share < 1.0:
        raise ValueError(f"纪律类别的权重必须在 0 到 1 之间：{discipline_share}")
    block = unit(np.sqrt(np.maximum(np.asarray(items, dtype=np.float32), 0.0)))
    if discipline is None or not discipline_share:
        return block
    return np.hstack([np.sqrt(1.0 - discipline_share) * block,
                      np.sqrt(discipline_share) * unit(np.maximum(discipline, 0.0))]).astype(np.float32)


def domain_vocabulary(phrases: Iterable[str]) -> frozenset[str]:
    """Inspection vocabulary for :attr:`Calibration.domain_floor`: the phrases (checklist keywords,
    dictionary words) and the words inside them, Chinese only (digits and Latin are not evidence)."""
    words: set[str] = set()
    for phrase in phrases:
        for word in (phrase, *query_tokens(phrase)):
            word = word.strip().lower()
            if len(word) >= 2 and any("\u4e00" <= ch <= "\u9fff" for ch in word):
                words.add(word)
    return frozenset(words)


def in_domain(query: str, vocabulary: frozenset[str]) -> bool:
    """At least half of the query's words are inspection vocabulary."""
    tokens = query_tokens(query)
    return bool(tokens) and sum(t in vocabulary for t in tokens) * 2 >= len(tokens)


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
    chars_score: float | None = None
    items_score: float | None = None
    level: str | None = None
    """高 / 中 / 低 相关 (calibrated fusion only)."""
    reasons: list[str] = field(default_factory=list)
    """Why it was found, for people: matched words, same checklist item, close in meaning."""
    shared_items: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "id": self.meta.get("external_id", self.id), "score": round(self.score, 5), "text": self.text,
            "level": self.level, "reasons": self.reasons,
            "vector_score": None if self.vector_score is None else round(self.vector_score, 4),
            "keyword_score": None if self.keyword_score is None else round(self.keyword_score, 4),
            "chars_score": None if self.chars_score is None else round(self.chars_score, 4),
            "items_score": None if self.items_score is None else round(self.items_score, 4),
            "matched": [{"term": t, "start": s, "end": e} for t, s, e in self.matched],
            **{k: v for k, v in self.meta.items() if k != "external_id"},
        }


# Up to this many entries the character n-gram and checklist-item sides scan every entry for
# candidates; above it they only rescore the vector and BM25 candidates (a full scan of 1M rows
# costs ~100 ms a query, the rescoring well under 1 ms).
EXHAUSTIVE_MAX = 100_000


class HybridIndex:
    """Entries held in memory (text + metadata), vectors in faiss, words in BM25."""

    def __init__(self, embed_passages: EmbedFn, embed_query: EmbedFn, dim: int, *, fusion: str = "rrf",
                 vector_weight: float = 0.5, kind: str | None = None, calibration: Calibration | None = None,
                 items_fn: EmbedFn | None = None, item_ids: Sequence[str] = (),
                 domain_words: frozenset[str] = frozenset(),
                 gate_fn: Callable[[Sequence[str]], np.ndarray] | None = None,
                 query_items_fn: EmbedFn | None = None, filter_fields: Sequence[str] = ()) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"未知的融合方式：{fusion}（可选：{'、'.join(FUSIONS)}）")
        self.embed_passages, self.embed_query, self.dim = embed_passages, embed_query, dim
        self.fusion, self.vector_weight, self.kind = fusion, vector_weight, kind
        self.calibration = calibration or DEFAULT_CALIBRATION
        self.items_fn, self.item_ids = items_fn, list(item_ids)
        self.query_items_fn = query_items_fn or items_fn
        """``items_fn`` for a query (e.g. memoised in memory instead of the on-disk cache of texts)."""
        self.gate_fn = gate_fn
        """Per query, a weight in [0, 1] of the item term (None: 1)."""
        self.domain_words = domain_words
        self.entries: dict[int, Entry] = {}
        self.vectors = VectorIndex(dim, kind or "flat")
        self.keywords = KeywordIndex()
        self.chars = CharNgramIndex()
        self.item_vectors: dict[int, np.ndarray] = {}
        self.postings = MetaPostings()
        self.filter_fields = tuple(filter_fields)
        """Metadata fields whose filter columns :meth:`warm` builds (others: on first use)."""

    @property
    def uses_items(self) -> bool:
        return self.items_fn is not None and self.fusion == "calibrated" and self.calibration.items > 0

    def _item_distributions(self, texts: Sequence[str], fn: EmbedFn | None = None) -> np.ndarray:
        """Unit-length checklist item distributions (cosine by inner product)."""
        matrix = np.asarray((fn or self.items_fn)(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    def item_distributions(self, texts: Sequence[str]) -> np.ndarray | None:
        """What :meth:`add` needs of ``items_fn`` for these texts (None when items are not used), so
        a caller can compute it before it stops searches to change the index."""
        return self._item_distributions(texts) if self.uses_items and len(texts) else None

    def _add_side_signals(self, entries: list[Entry], items: np.ndarray | None = None) -> None:
        if self.fusion == "calibrated":
            self.chars.add([e.id for e in entries], [e.text for e in entries])
        if self.uses_items and entries:
            matrix = self._item_distributions([e.text for e in entries]) if items is None else items
            self.item_vectors.update((e.id, row) for e, row in zip(entries, matrix))

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entries: Iterable[Entry], vectors: np.ndarray | None = None,
            items: np.ndarray | None = None) -> None:
        """Add (or replace) entries; ``vectors`` and ``items`` (:meth:`item_distributions`) may be
        computed beforehand."""
        entries = list(entries)
        if not entries:
            return
        ids = np.array([e.id for e in entries], dtype=np.int64)
        if vectors is None:
            vectors = self.embed_passages([e.text for e in entries])
        self.vectors.add(ids, np.asarray(vectors, dtype=np.float32))
        self.keywords.add(ids.tolist(), [e.text for e in entries])
        self._add_side_signals(entries, items)
        self.entries.update((e.id, e) for e in entries)
        self.postings.put((e.id, e.meta) for e in entries)

    def update_meta(self, entries: Iterable[Entry]) -> None:
        """Replace the metadata of entries whose text is unchanged (nothing is re-indexed)."""
        changed = []
        for entry in entries:
            if entry.id in self.entries:
                self.entries[entry.id] = entry
                changed.append((entry.id, entry.meta))
        if changed:
            self.postings.put(changed)

    def warm(self) -> None:
        """Build now what the keyword and character sides build lazily on their next search, so
        that concurrent searches only read."""
        if self.keywords._stale:
            self.keywords._build()
        if self.fusion == "calibrated" and self.chars._matrix is None:
            self.chars._build()
        if len(self.vectors):
            self.vectors.ids()
        self.postings.prepare(self.filter_fields)

    def remove(self, ids: Iterable[int]) -> int:
        ids = [int(i) for i in ids if int(i) in self.entries]
        if ids:
            self.vectors.remove(np.array(ids, dtype=np.int64))
            self.keywords.remove(ids)
            self.chars.remove(ids)
            for i in ids:
                del self.entries[i]
                self.item_vectors.pop(i, None)
            self.postings.remove(ids)
        return len(ids)

    def allowed(self, where: MetaFilter | Callable[[dict], bool] | None) -> np.ndarray | None:
        """The ids ``where`` accepts, in entry order (None: no filter). A :class:`MetaFilter` is
        resolved from the metadata columns (memoised until the index changes); a plain predicate is
        called on every entry's metadata."""
        if where is None:
            return None
        if isinstance(where, MetaFilter):
            return self.postings.resolve(where)
        return predicate_ids(((i, e.meta) for i, e in self.entries.items()), where)

    def search(self, query: str, k: int = 10, where: MetaFilter | Callable[[dict], bool] | None = None,
               mode: str = "hybrid") -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"未知的检索方式：{mode}（可选：{'、'.join(MODES)}）")
        allowed = self.allowed(where)
        if not self.entries or (allowed is not None and not len(allowed)):
            return []
        depth = max(k, CANDIDATES)
        vector_hits: dict[int, float] = {}
        keyword_hits: dict[int, float] = {}
        if mode in ("hybrid", "vector") and not (mode == "hybrid" and self.fusion == "calibrated"):
            scores, ids = self.vectors.search(self.embed_query([query]), depth, allowed)
            vector_hits = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
        if mode in ("hybrid", "keyword"):
            scores, ids = self.keywords.search(query, depth, allowed)
            keyword_hits = {int(i): float(s) for s, i in zip(scores, ids)}
        if mode == "vector":
            fused = sorted(vector_hits.items(), key=lambda x: (-x[1], x[0]))
        elif mode == "keyword":
            fused = sorted(keyword_hits.items(), key=lambda x: (-x[1], x[0]))
        elif self.fusion == "calibrated":
            return self._calibrated(query, k, allowed, depth, keyword_hits)
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

    def _calibrated(self, query: str, k: int, allowed: np.ndarray | None, depth: int,
                    keyword_hits: dict[int, float]) -> list[Hit]:
        """Candidates from every side, then every signal computed exactly for each candidate."""
        cal = self.calibration
        floor = cal.floor
        if cal.domain_floor is not None and self.domain_words and in_domain(query, self.domain_words):
            floor = min(floor, cal.domain_floor)
        query_vector = self.embed_query([query])
        scores, ids = self.vectors.search(query_vector, depth, allowed)
        candidates = {int(i) for i in ids[0] if i >= 0} | set(keyword_hits)
        exhaustive = len(self.entries) <= EXHAUSTIVE_MAX
        if exhaustive:
            chars_scores, chars_ids = self.chars.search(query, depth, allowed)
            candidates |= set(chars_ids.tolist())
        query_items = None
        gate = 1.0
        if self.uses_items and self.item_vectors:
            query_items = self._item_distributions([query], self.query_items_fn)[0]
            if self.gate_fn is not None:
                gate = min(max(float(np.asarray(self.gate_fn([query]), dtype=np.float32).ravel()[0]), 0.0), 1.0)
            pool = ([] if not exhaustive else list(self.item_vectors) if allowed is None
                    else [i for i in allowed.tolist() if i in self.item_vectors])
            if pool:
                similarity = np.vstack([self.item_vectors[i] for i in pool]) @ query_items
                top = np.argsort(-similarity, kind="stable")[:depth]
                candidates |= {pool[t] for t in top}
        if not candidates:
            return []
        order = np.array(sorted(candidates), dtype=np.int64)
        exact, exact_ids = self.vectors.search(query_vector, len(order), order)
        vector = {int(i): float(s) for s, i in zip(exact[0], exact_ids[0]) if i >= 0}
        chars = self.chars.scores_for(query, order.tolist())
        query_top = None
        n_items = len(self.item_ids)
        if query_items is not None and self.item_ids and gate >= 0.5:  # else the query states no problem
            query_top = {self.item_ids[j] for j in np.argsort(-query_items[:n_items])[:2]}
        hits = []
        for identifier in order.tolist():
            cos = vector.get(identifier, cal.vector_center)
            bm25 = keyword_hits.get(identifier, 0.0)
            items = (float(self.item_vectors[identifier] @ query_items)
                     if query_items is not None and identifier in self.item_vectors else None)
            score = (cal.vector * (cos - cal.vector_center) / cal.vector_scale
                     + cal.keyword * bm25 / (bm25 + cal.keyword_k)
                     + cal.chars * chars[identifier] / cal.chars_scale
                     + (cal.items * gate * items if items is not None else 0.0))
            evidence = score - (cal.items * gate * items if items is not None else 0.0)  # the floor ignores items:
            if evidence < floor and not (identifier in keyword_hits and self._has_every_word(query, identifier)):
                continue  # under the floor, unless it holds every word typed (a short keyword query)
            entry = self.entries[identifier]
            hits.append(Hit(identifier, score, entry.text, entry.meta, vector.get(identifier), None,
                            keyword_hits.get(identifier), None, [], chars[identifier], items))
        hits.sort(key=lambda h: (-h.score, h.id))
        hits = hits[:k]
        for hit in hits:
            hit.matched = matched_terms(query, hit.text)
            hit.level = cal.level(hit.score)
            if query_top is not None:
                own = hit.meta.get("items") or (
                    [self.item_ids[int(np.argmax(self.item_vectors[hit.id][:n_items]))]]
                    if hit.id in self.item_vectors else [])
                hit.shared_items = [i for i in own if i in query_top]
            hit.reasons = self._reasons(hit)
        return hits

    def _has_every_word(self, query: str, identifier: int) -> bool:
        wanted = set(query_tokens(query))
        found = {t.lower() for t, _, _ in matched_terms(query, self.entries[identifier].text)}
        return bool(wanted) and wanted <= found

    def _reasons(self, hit: Hit) -> list[str]:
        cal, reasons = self.calibration, []
        words = list(dict.fromkeys(t for t, _, _ in hit.matched))
        if words:
            reasons.append("命中词：" + "、".join(words[:6]))
        if hit.shared_items and (hit.items_score or 0.0) >= 0.5:
            reasons.append("同属清单条目 " + "、".join(hit.shared_items))
        if hit.vector_score is not None and hit.vector_score >= cal.vector_center + cal.vector_scale / 2:
            reasons.append("语义相近")
        if not reasons:
            reasons.append("用字相近" if (hit.chars_score or 0.0) * cal.chars / cal.chars_scale > 0.3 else "语义相近")
        return reasons

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
        self.postings = MetaPostings()
        self.postings.put((e.id, e.meta) for e in entries)
        self.keywords = KeywordIndex([e.id for e in entries], [e.text for e in entries])
        self.chars = CharNgramIndex()
        self.item_vectors = {}
        self._add_side_signals(entries)
