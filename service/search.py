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

from index.embeddings import CachedEmbedder, Embedder
from index.hybrid import Entry, Hit, HybridIndex
from index.vectors import VectorIndex, VectorIndexError, choose_kind
from nlp.checklist import Checklist
from service import cases as case_corpus
from service.storage import models
from service.storage.cases import SqlCaseRepository
from service.storage.sql import SqlRepository

log = logging.getLogger(__name__)
COLLECTIONS = ("cases", "findings")


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
                 fusion: str = "weighted", vector_weight: float = 0.5) -> None:
        # Weighted fusion at 0.5 won on the tuning part of the retrieval queries (xuncha eval --only search).
        self.repository = repository
        self.checklist = checklist
        self.cases = SqlCaseRepository(repository)
        self.embedder = CachedEmbedder(embedder, home / "vectors.sqlite")
        self.index_dir = home / "index"
        self.indexes = {name: HybridIndex(self.embedder.embed_passages, self.embedder.embed_queries,
                                          self.embedder.dim, fusion=fusion, vector_weight=vector_weight)
                        for name in COLLECTIONS}

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
            for finding, document, inspection in session.execute(query):
                tags = finding.tags or {}
                items = self._items(tags.get("labels") or [])
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
        path = self.index_dir / f"{name}.faiss"
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
            vectors.add(np.array(missing, dtype=np.int64), self.embedder.embed_passages([texts[i] for i in missing]))
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
