"""Building a report draft (问题清单初稿) from an inspection's findings.

A *problem* is one checklist item found in the inspection. Its evidence is every finding tagged with
that item — a tagged finding counts when the tagger called it a finding (score ≥ 0.5) and labelled
it; a reviewer's latest verdict overrides the tagger (reject drops it, correct replaces its items,
confirm keeps them). The wording is the item's standard wording filled for the strongest evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence

from sqlalchemy import select

from index.hybrid import Hit
from nlp.checklist import Checklist
from service.leads import MIN_FINDING_SCORE, fill_wording
from service.search import SearchFilters
from service.storage import models
from service.storage.records import DocumentDetail, FindingRecord, InspectionRecord
from service.storage.sql import SqlRepository, finding_record, latest_reviews

QUOTE_CHARS = 200
CASE_ALTERNATIVES = 2
STRONG_FINDING = 0.8
STRONG_ITEM = 0.5
CASE_CANDIDATES = 8
Review = Literal["confirmed", "corrected"]
_REVIEWS: dict[str, Review] = {"confirm": "confirmed", "correct": "corrected"}


class CaseSearch(Protocol):
    """What the draft needs of a search service (``SearchService``, ``SyncedSearch`` or its views)."""

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               teams: set[str] | None = None, collection: str = "all", mode: str = "hybrid") -> list[Hit]: ...


@dataclass
class Evidence:
    finding_id: int
    document_id: int
    filename: str
    kind: str
    page: int | None
    quote: str
    review: Review | None = None


@dataclass
class Alternative:
    source: Literal["checklist", "case"]
    text: str
    case_id: str | None = None


@dataclass
class ProblemDraft:
    item_id: str
    focus: int
    wording: str
    alternatives: list[Alternative] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    recommended: bool = True
    """Ticked for the report by default; a writer ticks the others in when they agree."""


@dataclass
class SourceFinding:
    """A stored finding that counts as evidence, with the items it supports after review."""

    finding: FindingRecord
    filename: str
    kind: str
    items: list[str]
    review: Review | None

    @property
    def strength(self) -> tuple[bool, float]:
        return self.review is not None, float((self.finding.tags or {}).get("finding_score") or 0.0)


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def effective_items(tags: dict | None, verdict: tuple[str, list[str]] | None) -> tuple[list[str], Review | None]:
    """The items a finding supports (empty: not a problem) and how a reviewer saw it."""
    tags = tags or {}
    labels = list(tags.get("labels") or [])
    if verdict is None:
        tagged = tags.get("is_finding") and (tags.get("finding_score") or 0) >= MIN_FINDING_SCORE
        return (labels if tagged else []), None
    action, items = verdict
    if action == "reject":
        return [], None
    return list(items or (labels if action == "confirm" else [])), _REVIEWS.get(action)


def load_sources(repository: SqlRepository, inspection_id: int) -> list[SourceFinding]:
    """The inspection's findings that are evidence of some problem, each with its latest verdict."""
    finding_query = (select(models.Finding, models.Document.filename, models.Document.kind)
                     .join(models.Document, models.Finding.document_id == models.Document.id)
                     .where(models.Document.inspection_id == inspection_id)
                     .order_by(models.Document.id, models.Finding.seq))
    sources: list[SourceFinding] = []
    with repository.session() as session:
        rows = session.execute(finding_query).all()
        verdicts = latest_reviews(session, [row.id for row, _, _ in rows])
        for row, filename, kind in rows:
            verdict = verdicts.get(row.id)
            items, review = effective_items(row.tags, verdict and (verdict["action"], verdict["items"]))
            if items:
                sources.append(SourceFinding(finding_record(row), filename, kind, items, review))
    return sources


def _case_alternatives(search: CaseSearch, query: str, item_id: str, inspection: InspectionRecord,
                       known: set[str]) -> list[Alternative]:
    hits = search.search(query, CASE_CANDIDATES, None, {inspection.team}, collection="cases")
    # Cases made from this inspection's own reviewed findings are evidence, not prior cases.
    prior = [h for h in hits if not (h.meta.get("inspection") == inspection.name
                                     and h.meta.get("team") == inspection.team) and h.text not in known]
    prior.sort(key=lambda h: item_id not in (h.meta.get("items") or []))  # stable: same item first
    return [Alternative("case", clip(h.text, 500), str(h.meta.get("external_id", h.id)))
            for h in prior[:CASE_ALTERNATIVES]]


def build_problem(checklist: Checklist, item_id: str, sources: Sequence[SourceFinding], document: DocumentDetail,
                  inspection: InspectionRecord, search: CaseSearch | None = None) -> ProblemDraft:
    """One problem from its evidence, strongest first; ``document`` holds the strongest finding."""
    item = checklist.get(item_id)
    strongest = sources[0].finding
    unit = inspection.target_unit
    wording = fill_wording(checklist, item_id, strongest, document, unit)
    alternatives = [Alternative("checklist", fill_wording(checklist, item_id, strongest, document, unit, index=i))
                    for i in range(1, len(item.wordings))]
    if search is not None:
        known = {wording, *(a.text for a in alternatives)}
        alternatives += _case_alternatives(search, strongest.text, item_id, inspection, known)
    evidence = [Evidence(s.finding.id, s.finding.document_id, s.filename, s.kind, s.finding.page,
                         clip(s.finding.text), s.review) for s in sources]
    return ProblemDraft(item_id, item.focus, wording, alternatives, evidence, recommended(item_id, sources))


def recommended(item_id: str, sources: Sequence[SourceFinding]) -> bool:
    """Whether a problem goes into the report by default: a reviewer vouched for its evidence, or
    one finding is confidently both a problem and about this item, or two documents report it with
    this item as a likely reading. A draft of every weakly tagged item would bury the real problems
    (the demo round tags 181 items; these rules tick 63)."""
    if any(s.review for s in sources):
        return True
    about = [s for s in sources if _item_score(s, item_id) >= STRONG_ITEM]
    confident = any(float(s.finding.tags.get("finding_score") or 0.0) >= STRONG_FINDING for s in about)
    return confident or len({s.finding.document_id for s in about}) >= 2


def _item_score(source: SourceFinding, item_id: str) -> float:
    ranked = (source.finding.tags or {}).get("checklist") or []
    return float(next((c.get("score") or 0.0 for c in ranked if c.get("id") == item_id), 0.0))


def build_problems(repository: SqlRepository, checklist: Checklist, inspection: InspectionRecord,
                   search: CaseSearch | None = None) -> list[ProblemDraft]:
    """The draft's problems, ordered by 三个聚焦 focus then item id."""
    by_item: dict[str, list[SourceFinding]] = {}
    for source in load_sources(repository, inspection.id):
        for item_id in dict.fromkeys(source.items):
            if item_id in checklist.by_id:
                by_item.setdefault(item_id, []).append(source)
    problems: list[ProblemDraft] = []
    documents: dict[int, DocumentDetail | None] = {}
    for item_id in sorted(by_item, key=lambda i: (checklist.by_id[i].focus, i)):
        sources = sorted(by_item[item_id], key=lambda s: s.strength, reverse=True)
        document_id = sources[0].finding.document_id
        if document_id not in documents:
            documents[document_id] = repository.get_document(document_id)
        document = documents[document_id]
        if document is not None:  # else deleted meanwhile, with its findings
            problems.append(build_problem(checklist, item_id, sources, document, inspection, search))
    return problems
