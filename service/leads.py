"""Suggested leads (问题线索) for a document: similar prior cases, standard wording, grade and disposal.

Findings about the same person or act in other documents of the same inspection (a petition and
two interviews, say) are grouped into one lead, which ranks higher: independent sources are the
strongest signal inspectors have. Every grade comes with the reasons that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from nlp.checklist import Checklist
from service.search import SearchFilters, SearchService
from service.storage import DocumentDetail, FindingRecord

GRADES = ("进一步了解关注类", "了解关注类", "参考类")
DISPOSALS = ("谈话函询", "初步核实", "暂存待查", "予以了结")
MIN_FINDING_SCORE = 0.5
RELATED_SIMILARITY = 0.92  # e5 cosine between two texts that describe the same act
SIMILAR_CASES = 3


@dataclass
class SimilarCase:
    id: str
    text: str
    score: float
    similarity: float | None
    items: list[str]
    disposal: str | None
    sanction: str | None
    unit: str | None
    year: int | None
    matched: list[str]


@dataclass
class LeadSource:
    finding_id: int
    document_id: int
    filename: str
    kind: str
    page: int | None
    text: str


@dataclass
class Lead:
    item_id: str
    item_title: str
    wording: str
    grade: str
    disposal: str
    score: float
    persons: list[str]
    reasons: list[str]
    sources: list[LeadSource] = field(default_factory=list)
    similar_cases: list[SimilarCase] = field(default_factory=list)
    basis: tuple[float, bool, bool] | None = None
    """(finding score, specific, precedent): what the grade was computed from, to grade again after merging."""

    def as_json(self) -> dict:
        data = asdict(self)
        del data["basis"]
        return data


def _entities(finding: FindingRecord, label: str) -> list:
    return [e for e in finding.entities if e["label"] == label]


def _persons(finding: FindingRecord, document: DocumentDetail) -> set[str]:
    names = {e["text"] for e in _entities(finding, "person")}
    if finding.speaker and document.kind == "interview":
        names.discard(finding.speaker)  # the interviewee talks about others
    reported = {p["name"] for p in document.fields.get("reported") or []}
    if document.kind == "petition" and finding.allegation and reported:
        names |= reported
    return names


def fill_wording(checklist: Checklist, item_id: str, finding: FindingRecord, document: DocumentDetail,
                 unit: str | None, index: int = 0) -> str:
    """The item's ``index``-th standard wording with its slots filled from the finding."""
    money = _entities(finding, "money")
    dates = _entities(finding, "date")
    positions = _entities(finding, "position")
    orgs = _entities(finding, "org")
    return checklist.get(item_id).fill_wording(
        index, 单位=(orgs[0]["text"] if orgs else unit or ""), 金额=(money[0]["text"] if money else ""),
        时间=(str(dates[0]["value"])[:4] + "年" if dates else ""),
        人员职务=(positions[0]["text"] if positions else ""))


def _grade(finding_score: float, specific: bool, sources: int, precedent: bool) -> tuple[str, float, list[str]]:
    points, reasons = 0.0, []
    if finding_score >= 0.8:
        points += 1
        reasons.append(f"问题判断置信度高（{finding_score:.2f}）")
    if specific:
        points += 1
        reasons.append("指向具体人员，并有金额或时间")
    if sources >= 2:
        points += 1 + (sources >= 3)
        reasons.append(f"{sources} 份不同材料反映同一人或同一事")
    if precedent:
        points += 1
        reasons.append("与往届受到处理的案例高度相似")
    grade = GRADES[0] if points >= 3 else GRADES[1] if points >= 2 else GRADES[2]
    return grade, points + finding_score, reasons


def _disposal(grade: str, specific: bool, cases: list[SimilarCase]) -> str:
    if grade == GRADES[0] and specific:
        return "初步核实"
    votes: dict[str, float] = {}
    for case in cases:
        if case.disposal in DISPOSALS:
            votes[case.disposal] = votes.get(case.disposal, 0.0) + (case.similarity or 0.0)
    if votes and grade != GRADES[2]:
        return max(votes, key=votes.get)
    return "谈话函询" if grade == GRADES[1] else "暂存待查"


def document_leads(document_id: int, service: SearchService, e5_embed: Callable[[Sequence[str]], np.ndarray],
                   teams: set[str] | None = None) -> list[Lead]:
    """Leads for one document. ``e5_embed`` gives the e5 vectors the similarity thresholds were set on."""

    def e5_similarity(text: str, others: list[str]) -> np.ndarray:
        if not others:
            return np.zeros(0)
        vectors = np.asarray(e5_embed([text, *others]), dtype=np.float32)
        return vectors[1:] @ vectors[0]

    repository = service.repository
    document = repository.get_document(document_id)
    if document is None:
        raise LookupError(f"没有编号为 {document_id} 的文档")
    inspections = {i.name: i for i in repository.list_inspections(team=document.team)}
    unit = inspections[document.inspection].target_unit if document.inspection in inspections else None
    findings = [f for f in document.findings
                if f.tags and f.tags.get("is_finding") and f.tags.get("finding_score", 0) >= MIN_FINDING_SCORE]
    if not findings:
        return []
    leads: list[Lead] = []
    for finding in findings:
        item_id = (finding.tags.get("labels") or [finding.tags["checklist"][0]["id"]])[0]
        persons = _persons(finding, document)
        candidates = [h for h in service.search(finding.text, 20, SearchFilters(inspection=document.inspection),
                                                teams, collection="findings", mode="vector")
                      if h.meta["document_id"] != document.id]
        case_hits = service.search(finding.text, SIMILAR_CASES, None, teams, collection="cases", mode="hybrid")
        closeness = e5_similarity(finding.text, [h.text for h in candidates + case_hits])
        related = [h for h, sim in zip(candidates, closeness) if sim >= RELATED_SIMILARITY
                   and (item_id in (h.meta.get("items") or []) or persons & set(_names_in(h.text)))]
        cases = [_similar_case(h, float(sim)) for h, sim in zip(case_hits, closeness[len(candidates):])]
        best_case = max((c.similarity or 0 for c in cases), default=0.0)
        precedent = any(c.sanction and (c.similarity or 0) >= RELATED_SIMILARITY for c in cases)
        specific = bool(persons) and bool(_entities(finding, "money") or _entities(finding, "date"))
        sources = [LeadSource(finding.id, document.id, document.filename, document.kind, finding.page, finding.text)]
        seen_documents = {document.id}
        for hit in related:
            if hit.meta["document_id"] not in seen_documents:
                seen_documents.add(hit.meta["document_id"])
                sources.append(LeadSource(hit.id, hit.meta["document_id"], hit.meta["filename"], hit.meta["kind"],
                                          hit.meta.get("page"), hit.text))
        grade, score, reasons = _grade(finding.tags["finding_score"], specific, len(seen_documents), precedent)
        if best_case:
            reasons.append(f"最相似往届案例相似度 {best_case:.3f}")
        leads.append(Lead(item_id, service.checklist.get(item_id).title,
                          fill_wording(service.checklist, item_id, finding, document, unit), grade,
                          _disposal(grade, specific, cases), round(score, 3), sorted(persons), reasons,
                          sources, cases, (finding.tags["finding_score"], specific, precedent)))
    return merge_leads(leads)


def inspection_leads(document_ids: Sequence[int], service: SearchService,
                     e5_embed: Callable[[Sequence[str]], np.ndarray], teams: set[str] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> list[Lead]:
    """Leads over all documents of an inspection, one per act even when several documents report it."""
    leads: list[Lead] = []
    for done, document_id in enumerate(document_ids, 1):
        try:
            leads += document_leads(document_id, service, e5_embed, teams)
        except LookupError:  # deleted meanwhile
            pass
        if progress:
            progress(done, len(document_ids))
    return merge_leads(leads)


@lru_cache(maxsize=20_000)
def _names_in(text: str) -> tuple[str, ...]:
    from nlp import entities

    return tuple(e.text for e in entities.persons(text))


def _similar_case(hit, similarity: float) -> SimilarCase:
    meta = hit.meta
    return SimilarCase(meta["external_id"], hit.text, round(hit.score, 5), round(similarity, 4),
                       meta.get("items") or [], meta.get("disposal"), meta.get("sanction"), meta.get("unit"), meta.get("year"),
                       sorted({t for t, _, _ in hit.matched}))


def merge_leads(leads: list[Lead]) -> list[Lead]:
    """One lead per act: leads of the same checklist item that share a person (or a source sentence)
    are merged, and a lead now backed by more documents is graded again on that count."""
    merged: list[Lead] = []
    for lead in sorted(leads, key=lambda l: -l.score):
        ids = {s.finding_id for s in lead.sources}
        same = next((m for m in merged if m.item_id == lead.item_id and (
            set(m.persons) & set(lead.persons) or ids & {s.finding_id for s in m.sources})), None)
        if same is None:
            merged.append(lead)
            continue
        known = {s.finding_id for s in same.sources}
        same.sources += [s for s in lead.sources if s.finding_id not in known]
        same.persons = sorted(set(same.persons) | set(lead.persons))
        _regrade(same)
    return sorted(merged, key=lambda l: (GRADES.index(l.grade), -l.score))


def _regrade(lead: Lead) -> None:
    if lead.basis is None:
        return
    documents = len({s.document_id for s in lead.sources})
    extra = [r for r in lead.reasons if r.startswith("最相似往届案例")]
    finding_score, specific, precedent = lead.basis
    lead.grade, score, reasons = _grade(finding_score, specific, documents, precedent)
    lead.score, lead.reasons = round(score, 3), reasons + extra
