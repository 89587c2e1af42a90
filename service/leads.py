"""Suggested leads (问题线索) for a document or a round: similar prior cases, wording, grade and disposal.

A lead is one act (同一人同一事, see ``service.reports.acts``): findings about the same person and the
same amount, date, project or objects in several documents of a round are one lead, which ranks
higher — independent sources are the strongest signal inspectors have (the PDF and the DOCX of one
interview are one source). Leads read the round after review (``service.reports.evidence``): a
rejected finding raises no lead, a corrected one changes its item and grade. Prior cases come from
earlier rounds and imports, never from this round's own (confirmed) findings. Every grade comes
with the reasons that produced it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np

from nlp import entities
from service.reports.draft import prior_cases, wordings
from service.reports.evidence import Act, RoundEvidence, load_round
from service.reports.wording import persons_of
from service.search import SearchService
from service.storage.records import InspectionRecord

log = logging.getLogger(__name__)
GRADES = ("进一步了解关注类", "了解关注类", "参考类")
DISPOSALS = ("谈话函询", "初步核实", "暂存待查", "予以了结")
RELATED_SIMILARITY = 0.92  # e5 cosine between two texts that describe the same act
SIMILAR_CASES = 3
__all__ = ["GRADES", "DISPOSALS", "Lead", "LeadSource", "LeadsCache", "SimilarCase", "document_leads",
           "inspection_leads"]


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
    items: list[str] = field(default_factory=list)
    """Every checklist item the act falls under, primary (``item_id``) first."""
    alternatives: list[str] = field(default_factory=list)
    """Other wordings from this evidence: checklist wordings, prior-case wordings without their facts."""

    def as_json(self) -> dict:
        return asdict(self)


def _grade(finding_score: float, specific: bool, sources: int, precedent: bool,
           reviewed: bool = False) -> tuple[str, float, list[str]]:
    points, reasons = 0.0, []
    if reviewed:
        points += 1
        reasons.append("经人工审核确认")
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


def _points_at_someone(act: Act, persons: list[str]) -> bool:
    """A person, a post or a unit the act is about. A sentence with none ("有的单位主要领导…",
    a work report's own rule) names nobody to 函询 and nothing to 核实, however serious its kind."""
    return bool(persons) or any(e["label"] == "org" for s in act.sources for e in s.finding.entities) or any(
        entities.positions(s.finding.text) for s in act.sources)


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


def _similar_case(hit, similarity: float) -> SimilarCase:
    meta = hit.meta
    return SimilarCase(meta["external_id"], hit.text, round(hit.score, 5), round(similarity, 4),
                       meta.get("items") or [], meta.get("disposal"), meta.get("sanction"), meta.get("unit"),
                       meta.get("year"), sorted({t for t, _, _ in hit.matched}))


def _lead(act: Act, evidence: RoundEvidence, inspection: InspectionRecord, service: SearchService,
          e5_embed: Callable[[Sequence[str]], np.ndarray], teams: set[str] | None) -> Lead:
    strongest = act.sources[0].finding
    documents = evidence.documents
    persons = sorted({p for s in act.sources for p in persons_of(s.finding, documents.get(s.finding.document_id))})
    hits = prior_cases(service, strongest.text, SIMILAR_CASES, inspection,
                       {s.finding.id for s in evidence.sources}, teams)
    vectors = np.asarray(e5_embed([strongest.text, *(h.text for h in hits)]), dtype=np.float32)
    cases = [_similar_case(h, float(sim)) for h, sim in zip(hits, vectors[1:] @ vectors[0])]
    precedent = any(c.sanction and (c.similarity or 0) >= RELATED_SIMILARITY for c in cases)
    concrete = any(e["label"] in ("money", "date") for s in act.sources for e in s.finding.entities)
    specific = bool(persons) and concrete
    reviewed = any(s.review for s in act.sources)
    score = max(s.score for s in act.sources)
    grade, points, reasons = _grade(score, specific, evidence.source_count(act.sources), precedent, reviewed)
    if not _points_at_someone(act, persons):
        grade = GRADES[2]
        reasons.append("材料未指向具体人员、职务或单位")
    if cases:
        reasons.append(f"最相似往届案例相似度 {max(c.similarity or 0 for c in cases):.3f}")
    first, alternatives = wordings(service.checklist, act.items, act.sources, documents,
                                   [(c.id, c.text) for c in cases])
    sources = [LeadSource(s.finding.id, s.finding.document_id, s.filename, s.kind, s.finding.page, s.finding.text)
               for s in act.sources]
    return Lead(act.item_id, service.checklist.get(act.item_id).title, first, grade, _disposal(grade, specific, cases),
                round(points, 3), persons, reasons, sources, cases, list(act.items), [a.text for a in alternatives])


def round_leads(inspection_id: int, service: SearchService, e5_embed: Callable[[Sequence[str]], np.ndarray],
                teams: set[str] | None = None, document_id: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[Lead]:
    """One lead per act of the round (only acts a finding of ``document_id`` belongs to, if given).
    ``e5_embed`` gives the e5 vectors the similarity thresholds were set on."""
    inspection = service.repository.get_inspection(inspection_id)
    if inspection is None:
        raise LookupError(f"没有编号为 {inspection_id} 的巡察轮次")
    evidence = load_round(service.repository, inspection_id)
    acts = evidence.acts(service.checklist)
    if document_id is not None:
        acts = [a for a in acts if any(s.finding.document_id == document_id for s in a.sources)]
    leads = []
    for done, act in enumerate(acts, 1):
        leads.append(_lead(act, evidence, inspection, service, e5_embed, teams))
        if progress:
            progress(done, len(acts))
    return sorted(leads, key=lambda l: (GRADES.index(l.grade), -l.score))


def document_leads(document_id: int, service: SearchService, e5_embed: Callable[[Sequence[str]], np.ndarray],
                   teams: set[str] | None = None) -> list[Lead]:
    """Leads of the acts one document reports (with the round's other documents on the same act)."""
    document = service.repository.get_document(document_id)
    if document is None:
        raise LookupError(f"没有编号为 {document_id} 的文档")
    return round_leads(document.inspection_id, service, e5_embed, teams, document_id)


def inspection_leads(document_ids: Sequence[int], service: SearchService,
                     e5_embed: Callable[[Sequence[str]], np.ndarray], teams: set[str] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> list[Lead]:
    """Leads over all documents of an inspection, one per act even when several documents report it."""
    for document_id in document_ids:
        document = service.repository.get_document(document_id)
        if document is not None:
            return round_leads(document.inspection_id, service, e5_embed, teams, progress=progress)
    return []


class LeadsCache:
    """Round leads kept until their round or the prior cases change: ``version(inspection_id)``
    fingerprints what the leads read (``service.storage.versions.round_version``), and a cached
    list is served only while that fingerprint is unchanged. Document leads are cut from the
    round's (a lead is computed the same way whichever document asks), so after one round
    computation every document page of the round is immediate."""

    def __init__(self, version: Callable[[int], tuple], size: int = 32) -> None:
        self.version = version
        self.size = size
        self._entries: OrderedDict[tuple, tuple[tuple, list[Lead]]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}
        self._queued: set[tuple] = set()
        self._background = None

    @staticmethod
    def _key(inspection_id: int, teams: set[str] | None) -> tuple:
        return inspection_id, None if teams is None else tuple(sorted(teams))

    def cached(self, inspection_id: int, teams: set[str] | None, version: tuple | None = None) -> list[Lead] | None:
        """The cached leads if they are of the round's current ``version`` (read when not given)."""
        key = self._key(inspection_id, teams)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] != (self.version(inspection_id) if version is None else version):
            return None
        return entry[1]

    def round(self, inspection_id: int, teams: set[str] | None, compute: Callable[[], list[Lead]]) -> list[Lead]:
        """The round's leads, computed by ``compute`` only when none are cached for the current version
        (concurrent callers of one round wait for a single computation)."""
        key = self._key(inspection_id, teams)
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            version = self.version(inspection_id)  # read before computing: a change meanwhile is seen next time
            found = self.cached(inspection_id, teams, version)
            if found is not None:
                return found
            leads = compute()
            with self._lock:
                self._entries[key] = (version, leads)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return leads

    def prepare(self, inspection_id: int, teams: set[str] | None, compute: Callable[[], list[Lead]]) -> None:
        """Compute a round's leads in the background (one at a time; a round already waiting to be
        prepared is not queued twice), so the first reader after an upload finds them ready."""
        key = self._key(inspection_id, teams)
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
            if self._background is None:
                from concurrent.futures import ThreadPoolExecutor

                self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xuncha-leads")

        def run() -> None:
            with self._lock:
                self._queued.discard(key)
            try:
                self.round(inspection_id, teams, compute)
            except Exception as error:  # noqa: BLE001 - a reader computes them again if this failed
                log.warning("preparing the leads of round %s failed: %s", inspection_id, type(error).__name__)

        self._background.submit(run)

    def document(self, document_id: int, inspection_id: int, teams: set[str] | None,
                 compute: Callable[[], list[Lead]]) -> list[Lead]:
        """A document's leads: cut from the cached round when there is one, else computed alone."""
        found = self.cached(inspection_id, teams)
        if found is None:
            return compute()
        return [lead for lead in found if any(s.document_id == document_id for s in lead.sources)]
