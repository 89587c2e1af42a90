"""Storing report drafts: one current draft per inspection, rebuilt without losing a writer's edits.

On a rebuild, problems are matched by checklist item. A problem still found gets the new machine
proposal (generated wording, alternatives, evidence) but keeps the writer's wording and inclusion
if they changed them. A problem no longer found is dropped — unless the writer typed its wording:
then it is kept without evidence and left out of the exports until a writer includes it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.reports.draft import Alternative, Evidence, ProblemDraft
from service.storage import models
from service.storage.models import utcnow
from service.storage.report_models import Report, ReportProblem
from service.storage.scope import Owner
from service.storage.sql import latest_reviews



@dataclass
class ProblemRecord:
    id: int
    item_id: str
    focus: int
    wording: str
    generated_wording: str
    alternatives: list[Alternative]
    evidence: list[Evidence]
    included: bool
    edited: bool
    edited_by: str | None
    edited_at: datetime | None


@dataclass
class ReportRecord:
    id: int
    inspection_id: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    problems: list[ProblemRecord]


@dataclass
class SaveResult:
    report: ReportRecord
    retained: list[int]
    """Problems kept only because a writer typed their wording (their item is no longer found)."""


def _problem(row: ReportProblem, live: set[int]) -> ProblemRecord:
    evidence = [Evidence(**e) for e in row.evidence if e["finding_id"] in live]
    included = row.included and bool(evidence or not row.evidence)  # all its findings rejected or deleted: out
    return ProblemRecord(row.id, row.item_id, row.focus, row.wording, row.generated_wording,
                         [Alternative(**a) for a in row.alternatives], evidence, included,
                         row.wording_edited or row.included_edited, row.edited_by, row.edited_at)


def _live(session: Session, rows: Sequence[ReportProblem]) -> set[int]:
    """Which of the findings cited by ``rows`` still exist and are not rejected by their latest review:
    a rejection shows in the draft and its exports at once, before any rebuild."""
    cited = sorted({e["finding_id"] for row in rows for e in row.evidence})
    if not cited:
        return set()
    existing = set(session.scalars(select(models.Finding.id).where(models.Finding.id.in_(cited))))
    rejected = {i for i, v in latest_reviews(session, sorted(existing)).items() if v["action"] == "reject"}
    return existing - rejected



def _merge(stored: Sequence[ReportProblem], drafts: Sequence[ProblemDraft], add: Callable[[ReportProblem], None]
           ) -> tuple[list[ReportProblem], list[ReportProblem], list[ReportProblem]]:
    """Apply freshly built ``drafts`` to the ``stored`` problems (matched by item; ``add`` takes each
    new row): returns (the draft's rows, stored rows to drop, rows kept only for a writer's wording)."""
    rows = {r.item_id: r for r in stored}
    current: list[ReportProblem] = []
    for draft in drafts:
        row = rows.pop(draft.item_id, None)
        if row is None:
            row = ReportProblem(item_id=draft.item_id, included=draft.recommended, wording_edited=False,
                                included_edited=False, edited_by=None, edited_at=None)
            add(row)
        row.focus, row.generated_wording = draft.focus, draft.wording
        row.alternatives = [asdict(a) for a in draft.alternatives]
        row.evidence = [asdict(e) for e in draft.evidence]
        if not row.wording_edited:
            row.wording = draft.wording
        if not row.included_edited:
            row.included = draft.recommended
        current.append(row)
    dropped, retained = [], []
    for row in rows.values():
        if not row.wording_edited:
            dropped.append(row)
            continue
        retained.append(row)
        current.append(row)
        if row.evidence:  # just lost its evidence: out of the exports unless a writer says so
            row.included_edited = row.included_edited and not row.included
            row.included, row.evidence = False, []
    return current, dropped, retained


class ReportStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def evidence_keys(self, inspection_id: int) -> set[tuple[int, tuple[str, ...], str | None]] | None:
        """(finding, items, review) the stored draft was built from; None when there is no draft."""
        with self._sessions() as session:
            report = session.scalar(select(Report).where(Report.inspection_id == inspection_id))
            if report is None:
                return None
            rows = session.scalars(select(ReportProblem.evidence).where(ReportProblem.report_id == report.id))
            return {(e["finding_id"], tuple(e.get("items") or ()), e.get("review")) for evidence in rows for e in evidence}

    def get(self, inspection_id: int) -> ReportRecord | None:
        """The current draft; evidence from findings deleted since it was built is left out."""
        with self._sessions() as session:
            report = session.scalar(select(Report).where(Report.inspection_id == inspection_id))
            return None if report is None else self._record(session, report)

    def save(self, inspection_id: int, drafts: Sequence[ProblemDraft], by: str | None) -> SaveResult:
        """Create or rebuild the inspection's draft from freshly built problems."""
        try:
            return self._save(inspection_id, drafts, by)
        except IntegrityError:  # a concurrent first build created the draft: merge into it
            return self._save(inspection_id, drafts, by)

    def edit(self, problem_id: int, by: str, wording: str | None = None,
             included: bool | None = None) -> ProblemRecord | None:
        now = utcnow()
        with self._sessions.begin() as session:
            row = session.get(ReportProblem, problem_id)
            if row is None:
                return None
            if wording is not None:
                row.wording, row.wording_edited = wording, wording != row.generated_wording
            if included is not None:
                row.included, row.included_edited = included, True
            row.edited_by, row.edited_at = by, now
            report = session.get(Report, row.report_id)
            report.updated_at, report.updated_by = now, by
            session.flush()
            return _problem(row, _live(session, [row]))

    def owner(self, problem_id: int) -> Owner | None:
        """The inspection (and team) a problem belongs to, for access checks."""
        query = (select(models.Inspection.id, models.Inspection.team)
                 .join(Report, Report.inspection_id == models.Inspection.id)
                 .join(ReportProblem, ReportProblem.report_id == Report.id)
                 .where(ReportProblem.id == problem_id))
        with self._sessions() as session:
            row = session.execute(query).first()
        return Owner(*row) if row else None

    def preview(self, inspection_id: int, drafts: Sequence[ProblemDraft]) -> ReportRecord:
        """The draft a rebuild from ``drafts`` would store — writers' edits kept exactly as ``save``
        keeps them — computed without writing anything: for readers who may not change the round.
        Problems not stored yet carry negative ids (nothing can be edited through them)."""
        now = utcnow()
        with self._sessions() as session, session.no_autoflush:
            report = session.scalar(select(Report).where(Report.inspection_id == inspection_id))
            stored = [] if report is None else list(session.scalars(
                select(ReportProblem).where(ReportProblem.report_id == report.id)))
            fresh: list[ReportProblem] = []
            rows, _dropped, _retained = _merge(stored, drafts, fresh.append)
            for number, row in enumerate(fresh, 1):
                row.id = -number
            rows.sort(key=lambda r: (r.focus, r.item_id))
            live = _live(session, rows)
            record = ReportRecord(report.id if report else 0, inspection_id,
                                  report.created_at if report else now, now, None,
                                  [_problem(row, live) for row in rows])
            session.rollback()  # nothing was flushed; drop the in-memory changes to stored rows
            return record

    def _save(self, inspection_id: int, drafts: Sequence[ProblemDraft], by: str | None) -> SaveResult:
        now = utcnow()
        with self._sessions.begin() as session:
            report = session.scalar(select(Report).where(Report.inspection_id == inspection_id))
            if report is None:
                report = Report(inspection_id=inspection_id, created_at=now)
                session.add(report)
                session.flush()
            report.updated_at, report.updated_by = now, by
            stored = list(session.scalars(select(ReportProblem).where(ReportProblem.report_id == report.id)))

            def add(row: ReportProblem) -> None:
                row.report_id = report.id
                session.add(row)

            _rows, dropped, retained = _merge(stored, drafts, add)
            for row in dropped:
                session.delete(row)
            session.flush()
            return SaveResult(self._record(session, report), [row.id for row in retained])

    @staticmethod
    def _record(session: Session, report: Report) -> ReportRecord:
        rows = list(session.scalars(select(ReportProblem).where(ReportProblem.report_id == report.id)
                                    .order_by(ReportProblem.focus, ReportProblem.item_id)))
        live = _live(session, rows)
        return ReportRecord(report.id, report.inspection_id, report.created_at, report.updated_at, report.updated_by,
                            [_problem(row, live) for row in rows])
