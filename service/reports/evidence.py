"""A round's evidence as every view sees it: findings after review, grouped into acts.

Leads and the report draft read the same view, so a reviewer's verdict reaches both in the request
that reads them: a rejected finding is not evidence; a corrected one supports the corrected items.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select

from nlp.checklist import Checklist
from service.reports import acts as act_rules
from service.reports.wording import persons_of
from service.storage import models
from service.storage.records import FindingRecord
from service.storage.sql import SqlRepository, finding_record, latest_reviews

Review = Literal["confirmed", "corrected"]
_REVIEWS: dict[str, Review] = {"confirm": "confirmed", "correct": "corrected"}


@dataclass
class DocumentInfo:
    """What views need of a document: where it came from and its header fields (never all its findings)."""

    id: int
    filename: str
    kind: str
    fields: dict
    text: str


@dataclass
class SourceFinding:
    """A stored finding that counts as evidence, with the items it supports after review."""

    finding: FindingRecord
    filename: str
    kind: str
    items: list[str]
    review: Review | None

    @property
    def score(self) -> float:
        return float((self.finding.tags or {}).get("finding_score") or 0.0)

    @property
    def strength(self) -> tuple[bool, float]:
        return self.review is not None, self.score

    def item_score(self, item_id: str) -> float:
        ranked = (self.finding.tags or {}).get("checklist") or []
        return float(next((c.get("score") or 0.0 for c in ranked if c.get("id") == item_id), 0.0))


@dataclass
class Act:
    """Findings (strongest first) describing one act, and the checklist items it falls under (primary first)."""

    sources: list[SourceFinding]
    items: list[str]

    @property
    def item_id(self) -> str:
        return self.items[0]


@dataclass
class RoundEvidence:
    sources: list[SourceFinding]
    documents: dict[int, DocumentInfo]
    document_groups: dict[int, int] = field(default_factory=dict)

    def acts(self, checklist: Checklist | None = None) -> list[Act]:
        """The round's acts; with ``checklist``, item ids are resolved to current items (unknown ones dropped)."""
        documents = [self.documents.get(s.finding.document_id) for s in self.sources]
        known = frozenset(n for s, d in zip(self.sources, documents) for n in persons_of(s.finding, d) if len(n) >= 2)
        keys = [act_rules.act_key(s.finding, d, known, s.items) for s, d in zip(self.sources, documents)]
        out = []
        for indexes in act_rules.group(keys):
            members = sorted((self.sources[i] for i in indexes), key=lambda s: s.strength, reverse=True)
            items = act_items(members, checklist)
            if items:
                out.append(Act(members, items))
        return out

    def source_count(self, sources: list[SourceFinding]) -> int:
        return act_rules.source_count([s.finding.document_id for s in sources], self.document_groups)


def act_items(sources: list[SourceFinding], checklist: Checklist | None = None) -> list[str]:
    """Items of an act: reviewed findings decide when there are any; else each finding's labels,
    weighted by rank and confidence."""
    pool = [s for s in sources if s.review] or sources
    weight: Counter[str] = Counter()
    for source in pool:
        for rank, item in enumerate(dict.fromkeys(source.items)):
            item = checklist.resolve_or_none(item) if checklist is not None else item
            if item is not None:
                weight[item] += (1.0 if rank == 0 else 0.5) * (1.0 + source.score)
    return [item for item, _ in weight.most_common()]


def effective_items(tags: dict | None, verdict: tuple[str, list[str]] | None) -> tuple[list[str], Review | None]:
    """The items a finding supports (empty: not a problem) and how a reviewer saw it."""
    tags = tags or {}
    labels = list(tags.get("labels") or [])
    if verdict is None:
        # is_finding is the tagger's decision at its chosen threshold, adjusted by the segment's role
        return (labels if tags.get("is_finding") else []), None
    action, items = verdict
    if action == "reject":
        return [], None
    return list(items or (labels if action == "confirm" else [])), _REVIEWS.get(action)


EVIDENCE_KIND = "evidence"
"""Rectification evidence (整改佐证材料) proves a fix: never evidence of a problem."""


def load_round(repository: SqlRepository, inspection_id: int) -> RoundEvidence:
    """The inspection's findings that are evidence of some problem, each with its latest verdict."""
    finding_query = (select(models.Finding)
                     .join(models.Document, models.Finding.document_id == models.Document.id)
                     .where(models.Document.inspection_id == inspection_id, models.Document.kind != EVIDENCE_KIND)
                     .order_by(models.Document.id, models.Finding.seq))
    document_query = (select(models.Document.id, models.Document.filename, models.Document.kind,
                             models.Document.fields, models.Document.text)
                      .where(models.Document.inspection_id == inspection_id, models.Document.kind != EVIDENCE_KIND))
    sources: list[SourceFinding] = []
    with repository.session() as session:
        documents = {row.id: DocumentInfo(row.id, row.filename, row.kind, row.fields or {}, row.text or "")
                     for row in session.execute(document_query)}
        rows = list(session.scalars(finding_query))
        verdicts = latest_reviews(session, [row.id for row in rows])
        for row in rows:
            verdict = verdicts.get(row.id)
            items, review = effective_items(row.tags, verdict and (verdict["action"], verdict["items"]))
            if items:
                document = documents[row.document_id]
                sources.append(SourceFinding(finding_record(row, verdict), document.filename, document.kind,
                                             items, review))
    groups = act_rules.document_groups({i: d.text for i, d in documents.items()})
    return RoundEvidence(sources, documents, groups)
