"""Building a report draft (问题清单初稿) from an inspection's findings.

A *problem* is one checklist item found in the inspection. Its evidence is every act (同一人同一事,
see ``acts``) whose primary item it is — so one act tagged with two items is one problem listing both
items. A reviewer's latest verdict overrides the tagger (reject drops a finding, correct replaces its
items). The first wording is built from the strongest finding itself; filled checklist wordings and
prior-case wordings (their own facts taken out) follow as alternatives, all from this evidence only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence

from index.hybrid import Hit
from nlp.checklist import Checklist
from service.reports import wording as words
from service.reports.evidence import (Act, DocumentInfo, Review, RoundEvidence, SourceFinding, effective_items,
                                      load_round)
from service.search import SearchFilters
from service.storage.records import InspectionRecord
from service.storage.sql import SqlRepository

QUOTE_CHARS = 200
CASE_ALTERNATIVES = 2
STRONG_FINDING = 0.8
STRONG_ITEM = 0.5
CASE_CANDIDATES = 8
TICKED_FORMS = ("statement",)
__all__ = ["Act", "SourceFinding", "effective_items"]


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
    items: list[str] = field(default_factory=list)
    """The items this finding supports after review (one act may carry several)."""


@dataclass
class Alternative:
    source: Literal["finding", "checklist", "case"]
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


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    text = words.strip_markup(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def prior_cases(search: CaseSearch, query: str, k: int, inspection: InspectionRecord,
                own_findings: set[int] | None = None, teams: set[str] | None = None) -> list[Hit]:
    """Cases from earlier rounds and imports: never a finding of this round (confirmed ones become cases)."""
    hits = search.search(query, k, None, teams or {inspection.team}, collection="cases")
    return [h for h in hits
            if not (h.meta.get("inspection") == inspection.name and h.meta.get("team") == inspection.team)
            and not (own_findings and str(h.meta.get("external_id", "")).removeprefix("finding-").isdigit()
                     and int(str(h.meta["external_id"]).removeprefix("finding-")) in own_findings)]


def wordings(checklist: Checklist, item_ids: Sequence[str], sources: Sequence[SourceFinding],
             documents: dict[int, DocumentInfo], case_texts: Sequence[tuple[str, str]] = ()
             ) -> tuple[str, list[Alternative]]:
    """The first wording (built from the strongest finding) and the alternatives: the other
    findings' own sentences, each item's checklist wordings and prior-case wordings, all filled from
    this evidence only; alternatives stating a fact the evidence does not are left out."""
    facts = words.facts_of([s.finding for s in sources], documents)
    evidence = facts.text + "\n" + "\n".join(
        str(v) for s in sources for v in (documents[s.finding.document_id].fields or {}).values()
        if s.finding.document_id in documents)
    own = [words.finding_wording(s.finding, documents.get(s.finding.document_id)) for s in sources[:3]]
    first, out, seen = own[0], [], {own[0]}

    def offer(source: str, text: str, case_id: str | None = None) -> None:
        text = words.trim_claims(text, evidence) if source != "finding" else text
        if text and text not in seen and not words.unsupported(text, evidence):
            seen.add(text)
            out.append(Alternative(source, text, case_id))

    for text in own[1:]:
        offer("finding", text)
    templates = [w for item_id in item_ids if item_id in checklist.by_id for w in checklist.get(item_id).wordings]
    for template in sorted(templates, key=lambda t: words.fill(t, facts).count("【")):
        offer("checklist", words.fill(template, facts))
    cases = 0
    for case_id, text in case_texts:
        if cases < CASE_ALTERNATIVES and (template := words.case_template(text)):
            before = len(out)
            offer("case", words.supported_clauses(clip(words.fill(template, facts), 500), evidence), case_id)
            cases += len(out) > before
    return first, out


def build_problem(checklist: Checklist, item_id: str, acts: Sequence[Act], evidence_round: RoundEvidence,
                  inspection: InspectionRecord, search: CaseSearch | None = None) -> ProblemDraft:
    """One problem from its acts; evidence strongest first."""
    item = checklist.get(item_id)
    sources = sorted((s for act in acts for s in act.sources), key=lambda s: s.strength, reverse=True)
    item_ids = list(dict.fromkeys([item_id, *(i for act in acts for i in act.items)]))
    case_texts: list[tuple[str, str]] = []
    if search is not None:
        hits = prior_cases(search, sources[0].finding.text, CASE_CANDIDATES, inspection,
                           {s.finding.id for s in evidence_round.sources})
        hits.sort(key=lambda h: item_id not in (h.meta.get("items") or []))  # stable: same item first
        case_texts = [(str(h.meta.get("external_id", h.id)), h.text) for h in hits]
    first, alternatives = wordings(checklist, item_ids, sources, evidence_round.documents, case_texts)
    evidence = [Evidence(s.finding.id, s.finding.document_id, s.filename, s.kind, s.finding.page,
                         clip(s.finding.text), s.review, list(s.items)) for s in sources]
    return ProblemDraft(item_id, item.focus, first, alternatives, evidence, recommended(item_id, sources))


def recommended(item_id: str, sources: Sequence[SourceFinding]) -> bool:
    """Whether a problem goes into the report by default: a reviewer vouched for its evidence, or a
    finding from a problem-bearing register (petition, interview, minutes — never a work report) is
    confidently both a problem and about this item, and is stated as a fact (not an exhortation,
    a quote, a heading or a question)."""
    if any(s.review for s in sources):
        return True
    return any(s.kind in words.PROBLEM_KINDS and s.score >= STRONG_FINDING and s.item_score(item_id) >= STRONG_ITEM
               and (s.finding.tags or {}).get("form", "statement") in TICKED_FORMS for s in sources)


def build_problems(repository: SqlRepository, checklist: Checklist, inspection: InspectionRecord,
                   search: CaseSearch | None = None) -> list[ProblemDraft]:
    """The draft's problems, ordered by 三个聚焦 focus then item id: one per primary item of the acts."""
    evidence_round = load_round(repository, inspection.id)
    by_item: dict[str, list[Act]] = {}
    for act in evidence_round.acts(checklist):
        by_item.setdefault(act.item_id, []).append(act)
    return [build_problem(checklist, item_id, by_item[item_id], evidence_round, inspection, search)
            for item_id in sorted(by_item, key=lambda i: (checklist.by_id[i].focus, i))]
