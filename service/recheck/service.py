"""回头看: a round of a unit inspected before, compared with the earlier rounds of that unit.

Earlier problems are the included problems of each earlier round's report — as the rectification
tasks recorded them when that round was finalised (with their status), else as its current draft.
Every finding of the new round (tagged a finding, or confirmed/corrected by a reviewer) is matched
to them (``service.recheck.matching``) and classed 整改不到位 (the earlier problem was never 销号),
反弹回潮 (it was 销号 and is back) or 新问题. Nothing here writes to the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from sqlalchemy import select

from nlp.checklist import Checklist
from service.rectification.ledger import STATUS_LABELS
from service.rectification.store import RectificationStore
from service.recheck.matching import Anchor, Thresholds, Verdict, decide, reason, shared, text_anchors
from service.reports.evidence import SourceFinding, load_round
from service.reports.store import ReportStore
from service.reports.wording import persons_of, strip_markup
from service.storage import models
from service.storage.records import InspectionRecord
from service.storage.sql import SqlRepository

Embed = Callable[[Sequence[str]], np.ndarray]
NOT_FINALISED = "未反馈定稿（无整改任务）"
CLASS_AGAIN, CLASS_BACK, CLASS_NEW = "整改不到位", "反弹回潮", "新问题"
QUOTE_CHARS = 200
_SPEAKER = re.compile(r"^[\u4e00-\u9fff]{2,4}[：:]")


@dataclass
class EarlierProblem:
    inspection_id: int
    inspection: str
    team: str
    problem_id: int | None
    task_id: int | None
    item_id: str
    item_title: str
    focus: int
    wording: str
    quotes: list[str]
    status: str | None
    """The rectification task's status; None when that round's report was never finalised."""
    anchors: set[Anchor] = field(default_factory=set, repr=False)

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status] if self.status else NOT_FINALISED

    @property
    def texts(self) -> list[str]:
        return [self.wording, *self.quotes]

    def as_json(self) -> dict:
        return {"inspection_id": self.inspection_id, "inspection": self.inspection, "team": self.team,
                "problem_id": self.problem_id, "task_id": self.task_id, "item_id": self.item_id,
                "item_title": self.item_title, "focus": self.focus, "wording": self.wording,
                "status": self.status, "status_label": self.status_label, "closed": self.closed}


@dataclass
class FindingMatch:
    finding_id: int
    document_id: int
    filename: str
    page: int | None
    text: str
    items: list[str]
    review: str | None
    matched: EarlierProblem | None
    similarity: float | None
    """Cosine to the matched problem, or to the closest earlier problem when none matched."""
    reason: str

    @property
    def class_label(self) -> str:
        if self.matched is None:
            return CLASS_NEW
        return CLASS_BACK if self.matched.closed else CLASS_AGAIN

    @property
    def repeat(self) -> bool:
        return self.matched is not None

    def as_json(self) -> dict:
        return {"finding_id": self.finding_id, "document_id": self.document_id, "filename": self.filename,
                "page": self.page, "text": self.text, "items": self.items, "review": self.review,
                "matched": self.matched.as_json() if self.matched else None, "repeat": self.repeat,
                "class": self.class_label, "similarity": None if self.similarity is None else round(self.similarity, 3),
                "reason": self.reason}


@dataclass
class Recheck:
    inspection: InspectionRecord
    earlier_rounds: list[InspectionRecord]
    problems: list[EarlierProblem]
    findings: list[FindingMatch]

    @property
    def unclosed(self) -> list[EarlierProblem]:
        """Earlier problems without 销号 (task not 已销号, or no task at all)."""
        return [p for p in self.problems if not p.closed]

    def repeats_of(self, problem: EarlierProblem) -> list[FindingMatch]:
        return [f for f in self.findings if f.matched is problem]

    def as_json(self) -> dict:
        counts = {label: sum(f.class_label == label for f in self.findings) for label in (CLASS_AGAIN, CLASS_BACK, CLASS_NEW)}
        return {"inspection_id": self.inspection.id, "inspection": self.inspection.name, "team": self.inspection.team,
                "target_unit": self.inspection.target_unit,
                "earlier_rounds": [{"id": r.id, "name": r.name, "team": r.team} for r in self.earlier_rounds],
                "counts": counts, "findings": [f.as_json() for f in self.findings],
                "unclosed": [p.as_json() for p in self.unclosed]}

    def section(self) -> dict | None:
        """The report draft's section 上轮巡察反馈问题整改情况; None when the unit was not inspected before."""
        if not self.earlier_rounds:
            return None
        return {"title": SECTION_TITLE, "earlier_rounds": [r.name for r in self.earlier_rounds],
                "problems": [{**p.as_json(), "repeated_by": [
                    {"finding_id": f.finding_id, "document_id": f.document_id, "filename": f.filename,
                     "quote": f.text, "class": f.class_label} for f in self.repeats_of(p)]} for p in self.problems],
                "unclosed": len(self.unclosed), "repeats": sum(f.repeat for f in self.findings),
                "new": sum(not f.repeat for f in self.findings)}


SECTION_TITLE = "上轮巡察反馈问题整改情况"


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    text = strip_markup(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def earlier_rounds(repository: SqlRepository, inspection: InspectionRecord,
                   teams: set[str] | None = None) -> list[InspectionRecord]:
    """Rounds of the same target unit created before ``inspection`` within ``teams`` (None: every team)."""
    unit = (inspection.target_unit or "").strip()
    if not unit:
        return []
    query = (select(models.Inspection.id)
             .where(models.Inspection.target_unit == unit, models.Inspection.id < inspection.id,
                    models.Inspection.demo.is_(False)).order_by(models.Inspection.id))
    if teams is not None:
        query = query.where(models.Inspection.team.in_(sorted(teams)))
    with repository.session() as session:
        ids = list(session.scalars(query))
    return [r for r in (repository.get_inspection(i) for i in ids) if r is not None]


def _round_problems(repository: SqlRepository, checklist: Checklist, round_: InspectionRecord) -> list[EarlierProblem]:
    report = ReportStore(repository.engine).get(round_.id)
    if report is None:  # never drafted: the draft it would get (no prior-case wordings needed here)
        from service.reports.draft import build_problems

        report = ReportStore(repository.engine).preview(round_.id, build_problems(repository, checklist, round_))
    by_id = {p.id: p for p in report.problems}
    rectification = RectificationStore(repository.engine)

    def item(item_id: str) -> tuple[str, str]:
        resolved = checklist.resolve_or_none(item_id) or item_id
        return resolved, checklist.by_id[resolved].title if resolved in checklist.by_id else ""

    out = []
    if rectification.ledger(round_.id) is not None:
        for task in rectification.tasks(round_.id):
            problem = by_id.get(task.problem_id)
            quotes = [e.quote for e in problem.evidence] if problem else []
            item_id, title = item(task.item_id)
            out.append(EarlierProblem(round_.id, round_.name, round_.team, task.problem_id, task.id, item_id, title,
                                      task.focus, task.problem, quotes, task.status))
    else:
        for problem in report.problems:
            if problem.included:
                item_id, title = item(problem.item_id)
                out.append(EarlierProblem(round_.id, round_.name, round_.team, problem.id, None, item_id, title,
                                          problem.focus, problem.wording, [e.quote for e in problem.evidence], None))
    for p in out:  # a quoted interview line's speaker is who said it, not who did it
        p.anchors = set().union(*(text_anchors(_SPEAKER.sub("", t, count=1)) for t in p.texts))
    return out


def _finding_anchors(source: SourceFinding, evidence) -> set[Anchor]:
    document = evidence.documents.get(source.finding.document_id)
    return text_anchors(source.finding.text, persons_of(source.finding, document))


def recheck(repository: SqlRepository, checklist: Checklist, inspection: InspectionRecord, embed: Embed,
            teams: set[str] | None = None, thresholds: Thresholds = Thresholds()) -> Recheck:
    """Compare ``inspection``'s findings with the problems of the unit's earlier rounds in ``teams``.
    ``embed`` gives e5 vectors (normalised), the space the thresholds were chosen in; it is not
    called when the unit has no earlier round."""
    rounds = earlier_rounds(repository, inspection, teams)
    evidence = load_round(repository, inspection.id)
    sources = evidence.sources
    if not rounds:  # every finding is found for the first time; no model needed
        why = ("该轮次没有填写被巡察单位，无法与以往轮次比对" if not (inspection.target_unit or "").strip()
               else "被巡察单位此前没有（本人可见范围内的）巡察轮次，本轮问题为首次发现")
        return Recheck(inspection, [], [], [_match(source, checklist, None, None, why) for source in sources])
    problems = [p for r in rounds for p in _round_problems(repository, checklist, r)]
    texts = list(dict.fromkeys([*(s.finding.text for s in sources), *(t for p in problems for t in p.texts)]))
    vectors = np.asarray(embed(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)
    index = {t: i for i, t in enumerate(texts)}
    findings = []
    for source in sources:
        items = _items(source, checklist)
        anchors = _finding_anchors(source, evidence)
        vector = vectors[index[source.finding.text]]
        best: tuple[Verdict, EarlierProblem] | None = None
        for problem in problems:
            similarity = max(float(vectors[index[t]] @ vector) for t in problem.texts)
            verdict = decide(problem.item_id in items, similarity, shared(anchors, problem.anchors), thresholds)
            if best is None or verdict.rank > best[0].rank:
                best = verdict, problem
        if best is not None and best[0].repeat:
            verdict, problem = best
            why = f"与{problem.inspection}的问题（{problem.item_id}，{problem.status_label}）相同：" + \
                reason(verdict, problem.item_id, problem.item_title, thresholds)
            findings.append(_match(source, checklist, problem, verdict.similarity, why))
        else:
            why = "上轮巡察反馈的问题中没有同一问题"
            if best is not None:
                verdict, problem = best
                why += f"；最接近的是{problem.inspection}的问题（{problem.item_id}）：" + \
                    reason(verdict, problem.item_id, problem.item_title, thresholds)
            else:
                why += "（以往轮次未形成问题清单）"
            findings.append(_match(source, checklist, None, best[0].similarity if best else None, why))
    return Recheck(inspection, rounds, problems, findings)


def _items(source: SourceFinding, checklist: Checklist) -> list[str]:
    return [i for i in dict.fromkeys(checklist.resolve_or_none(i) for i in source.items) if i]


def _match(source: SourceFinding, checklist: Checklist, problem: EarlierProblem | None, similarity: float | None,
           why: str) -> FindingMatch:
    finding = source.finding
    return FindingMatch(finding.id, finding.document_id, source.filename, finding.page, clip(finding.text),
                        _items(source, checklist), source.review, problem, similarity, why)
