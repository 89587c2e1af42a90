"""Reading what profiles are made of, always within a team scope (read-only queries).

Findings count as everywhere else (report draft, analysis): tagged a finding, or confirmed/corrected
by a reviewer; a rejected one never; a corrected one under its corrected items. Rectification
evidence documents (整改佐证材料) are never findings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from nlp.checklist import Checklist
from service.profiles.models import ProfileFinding, ProfileRound, ProfileTask
from service.rectification.ledger import STATUS_LABELS
from service.rectification.models import RectificationEvidence, RectificationLedger, RectificationTask
from service.rectification.warnings import Thresholds, days_left, warning
from service.reports.evidence import EVIDENCE_KIND, effective_items
from service.storage import models
from service.storage.records import FindingRecord
from service.storage.sql import SqlRepository, finding_record, latest_reviews

QUOTE_CHARS = 200
UNKNOWN = "未标注"
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_NAME_SPLIT = re.compile(r"[、，,；;/\s]+")


@dataclass(frozen=True)
class Scope:
    """Whose rounds a reader sees: ``teams`` None for every team; demo rounds only when asked."""

    teams: frozenset[str] | None
    include_demo: bool = False

    @classmethod
    def of(cls, teams: set[str] | None, include_demo: bool = False) -> Scope:
        return cls(None if teams is None else frozenset(teams), include_demo)

    def conditions(self) -> list:
        out = []
        if self.teams is not None:
            out.append(models.Inspection.team.in_(sorted(self.teams)))
        if not self.include_demo:
            out.append(models.Inspection.demo.is_(False))
        return out


@dataclass
class DocumentRef:
    """What a profile needs of a document (``persons_of`` reads ``fields`` and ``kind``)."""

    id: int
    filename: str
    kind: str
    fields: dict
    year: int | None
    inspection_id: int


@dataclass
class Counted:
    finding: FindingRecord
    document: DocumentRef
    items: list[str]
    review: str | None


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def names_in(value: str | None) -> list[str]:
    """Names written in a free-text field such as 责任人 (“张某（镇党委书记）、李某”), titles in brackets dropped."""
    return [n for n in (part.strip() for part in _NAME_SPLIT.split(_PAREN.sub("", value or ""))) if n]


def rounds(repository: SqlRepository, scope: Scope, *conditions) -> dict[int, ProfileRound]:
    """Rounds in scope matching ``conditions``, with their document counts and ledger state, by id."""
    query = (select(models.Inspection).where(*scope.conditions(), *conditions).order_by(models.Inspection.id))
    with repository.session() as session:
        found = {r.id: ProfileRound(r.id, r.name, r.team, r.target_unit, bool(r.demo), r.created_at)
                 for r in session.scalars(query)}
        if not found:
            return {}
        ids = sorted(found)
        documents = session.execute(select(models.Document.inspection_id, func.count(models.Document.id))
                                    .where(models.Document.inspection_id.in_(ids),
                                           models.Document.kind != EVIDENCE_KIND)
                                    .group_by(models.Document.inspection_id))
        for inspection_id, count in documents:
            found[inspection_id].documents = count
        for inspection_id in session.scalars(select(RectificationLedger.inspection_id)
                                             .where(RectificationLedger.inspection_id.in_(ids))):
            found[inspection_id].finalised = True
    return found


def counted(repository: SqlRepository, scope: Scope, *conditions, limit: int | None = None) -> list[Counted]:
    """Findings that count, of documents in scope matching ``conditions``, in round and document order."""
    query = (select(models.Finding, models.Document.filename, models.Document.kind, models.Document.fields,
                    models.Document.year, models.Document.inspection_id)
             .join(models.Document, models.Finding.document_id == models.Document.id)
             .join(models.Inspection, models.Document.inspection_id == models.Inspection.id)
             .where(*scope.conditions(), models.Document.kind != EVIDENCE_KIND, *conditions)
             .order_by(models.Document.inspection_id, models.Document.id, models.Finding.seq))
    out: list[Counted] = []
    documents: dict[int, DocumentRef] = {}
    with repository.session() as session:
        rows = session.execute(query).all()
        verdicts = latest_reviews(session, [row[0].id for row in rows])
        for row, filename, kind, fields, year, inspection_id in rows:
            verdict = verdicts.get(row.id)
            items, review = effective_items(row.tags, verdict and (verdict["action"], verdict["items"]))
            if not items:
                continue
            document = documents.setdefault(row.document_id, DocumentRef(row.document_id, filename, kind,
                                                                          fields or {}, year, inspection_id))
            out.append(Counted(finding_record(row, verdict), document, items, review))
            if limit is not None and len(out) > limit:
                break
    return out


def profile_finding(item: Counted, checklist: Checklist, round_: ProfileRound | None, relation: str,
                    persons: list[str] | None = None) -> ProfileFinding | None:
    """The finding as a profile shows it, under its primary item (None when no item is known)."""
    resolved = [i for i in dict.fromkeys(checklist.resolve_or_none(i) for i in item.items) if i]
    if not resolved:
        return None
    entry = checklist.by_id[resolved[0]]
    tags = item.finding.tags or {}
    focus = entry.focus if entry else tags.get("focus")
    doc = item.document
    raw_date = doc.fields.get("date")
    return ProfileFinding(doc.id, doc.filename, doc.kind, doc.inspection_id, round_.name if round_ else "",
                          round_.target_unit if round_ else None, item.finding.id, item.finding.page,
                          clip(item.finding.text), resolved[0], entry.title, resolved, focus,
                          checklist.focus.get(focus, UNKNOWN) if focus is not None else UNKNOWN,
                          entry.discipline or UNKNOWN, raw_date if isinstance(raw_date, str) else None, doc.year,
                          item.review, relation, persons or [])


def tasks(repository: SqlRepository, scope: Scope, today: date, thresholds: Thresholds, *conditions) -> list[ProfileTask]:
    """Rectification tasks of rounds in scope matching ``conditions``, with warnings on ``today``."""
    query = (select(RectificationTask, models.Inspection.name)
             .join(models.Inspection, RectificationTask.inspection_id == models.Inspection.id)
             .where(*scope.conditions(), *conditions)
             .order_by(RectificationTask.inspection_id, RectificationTask.focus, RectificationTask.item_id))
    with repository.session() as session:
        rows = session.execute(query).all()
        ids = [row.id for row, _ in rows]
        evidence = Counter()
        for start in range(0, len(ids), 900):
            evidence.update(dict(session.execute(
                select(RectificationEvidence.task_id, func.count(RectificationEvidence.id))
                .where(RectificationEvidence.task_id.in_(ids[start:start + 900]))
                .group_by(RectificationEvidence.task_id)).all()))
    return [ProfileTask(t.id, t.inspection_id, name, t.item_id, t.focus, t.problem, t.unit, t.person, t.deadline,
                        t.status, STATUS_LABELS[t.status], days_left(t.deadline, today),
                        warning(t.deadline, t.status, today, thresholds), evidence[t.id], t.approved_by, t.approved_at)
            for t, name in rows]
