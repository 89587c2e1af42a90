"""Storing the rectification ledger: tasks, their evidence links and the finalisation of a round.

Rules (who may do what, in which status) live in ``service.rectification.ledger``; this module only
reads and writes rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.rectification.models import RectificationEvidence, RectificationLedger, RectificationTask
from service.storage import models
from service.storage.models import utcnow
from service.storage.scope import Owner

EDITABLE = ("unit", "person", "measures", "deadline", "status")


@dataclass
class EvidenceRecord:
    document_id: int
    filename: str
    kind: str
    added_by: str | None
    added_at: datetime


@dataclass
class TaskRecord:
    id: int
    inspection_id: int
    problem_id: int | None
    item_id: str
    focus: int
    problem: str
    unit: str | None
    person: str | None
    measures: str
    deadline: date
    status: str
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    evidence: list[EvidenceRecord] = field(default_factory=list)


@dataclass
class NewTask:
    problem_id: int | None
    item_id: str
    focus: int
    problem: str
    measures: str
    unit: str | None
    deadline: date


@dataclass
class LedgerInfo:
    inspection_id: int
    finalised_at: datetime
    finalised_by: str | None


def _evidence(session: Session, task_ids: list[int]) -> dict[int, list[EvidenceRecord]]:
    out: dict[int, list[EvidenceRecord]] = {i: [] for i in task_ids}
    if not task_ids:
        return out
    rows = session.execute(
        select(RectificationEvidence, models.Document.filename, models.Document.kind)
        .join(models.Document, models.Document.id == RectificationEvidence.document_id)
        .where(RectificationEvidence.task_id.in_(task_ids)).order_by(RectificationEvidence.id))
    for link, filename, kind in rows:
        out[link.task_id].append(EvidenceRecord(link.document_id, filename, kind, link.added_by, link.added_at))
    return out


def _record(row: RectificationTask, evidence: list[EvidenceRecord]) -> TaskRecord:
    return TaskRecord(row.id, row.inspection_id, row.problem_id, row.item_id, row.focus, row.problem, row.unit,
                      row.person, row.measures, row.deadline, row.status, row.created_at, row.updated_at,
                      row.updated_by, row.submitted_by, row.submitted_at, row.approved_by, row.approved_at, evidence)


class RectificationStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def ledger(self, inspection_id: int) -> LedgerInfo | None:
        with self._sessions() as session:
            row = session.scalar(select(RectificationLedger).where(RectificationLedger.inspection_id == inspection_id))
            return LedgerInfo(row.inspection_id, row.finalised_at, row.finalised_by) if row else None

    def tasks(self, inspection_id: int) -> list[TaskRecord]:
        """The round's tasks in report order (三个聚焦, then checklist item)."""
        with self._sessions() as session:
            rows = list(session.scalars(select(RectificationTask)
                                        .where(RectificationTask.inspection_id == inspection_id)
                                        .order_by(RectificationTask.focus, RectificationTask.item_id)))
            evidence = _evidence(session, [r.id for r in rows])
            return [_record(r, evidence[r.id]) for r in rows]

    def get(self, task_id: int) -> TaskRecord | None:
        with self._sessions() as session:
            row = session.get(RectificationTask, task_id)
            return None if row is None else _record(row, _evidence(session, [row.id])[row.id])

    def owner(self, task_id: int) -> Owner | None:
        """The inspection (and team) a task belongs to, for access checks."""
        query = (select(models.Inspection.id, models.Inspection.team)
                 .join(RectificationTask, RectificationTask.inspection_id == models.Inspection.id)
                 .where(RectificationTask.id == task_id))
        with self._sessions() as session:
            row = session.execute(query).first()
        return Owner(*row) if row else None

    def finalise(self, inspection_id: int, tasks: list[NewTask], by: str | None) -> tuple[list[int], list[int]]:
        """Record the round's finalisation and create a task per new problem; tasks already in the
        ledger (same checklist item) are kept as they are. Returns (added, kept) task ids."""
        try:
            return self._finalise(inspection_id, tasks, by)
        except IntegrityError:  # a concurrent finalisation got there first: merge into it
            return self._finalise(inspection_id, tasks, by)

    def _finalise(self, inspection_id: int, tasks: list[NewTask], by: str | None) -> tuple[list[int], list[int]]:
        now = utcnow()
        with self._sessions.begin() as session:
            ledger = session.scalar(select(RectificationLedger)
                                    .where(RectificationLedger.inspection_id == inspection_id))
            if ledger is None:
                ledger = RectificationLedger(inspection_id=inspection_id)
                session.add(ledger)
            ledger.finalised_at, ledger.finalised_by = now, by
            existing = {r.item_id: r.id for r in session.scalars(
                select(RectificationTask).where(RectificationTask.inspection_id == inspection_id))}
            added, kept = [], []
            for task in tasks:
                if task.item_id in existing:
                    kept.append(existing[task.item_id])
                    continue
                row = RectificationTask(inspection_id=inspection_id, problem_id=task.problem_id, item_id=task.item_id,
                                        focus=task.focus, problem=task.problem, unit=task.unit, person=None,
                                        measures=task.measures, deadline=task.deadline, status="not_started",
                                        created_at=now, updated_at=now, updated_by=by)
                session.add(row)
                session.flush()
                added.append(row.id)
            return added, kept

    def update(self, task_id: int, by: str, **changes) -> TaskRecord | None:
        """Set columns of a task (any of EDITABLE and the 销号 bookkeeping columns)."""
        with self._sessions.begin() as session:
            row = session.get(RectificationTask, task_id)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at, row.updated_by = utcnow(), by
            session.flush()
            return _record(row, _evidence(session, [row.id])[row.id])

    def link_evidence(self, task_id: int, document_id: int, by: str) -> bool:
        """Link an evidence document to a task; False when it was linked already."""
        try:
            with self._sessions.begin() as session:
                session.add(RectificationEvidence(task_id=task_id, document_id=document_id, added_by=by))
                row = session.get(RectificationTask, task_id)
                row.updated_at, row.updated_by = utcnow(), by
            return True
        except IntegrityError:
            return False
