"""Storage of prior cases behind a small interface, with the SQL implementation.

Every change is logged for the search replicas (:mod:`service.storage.changes`) in its transaction.
A reviewed finding's case is made, changed or withdrawn with the review itself
(:func:`sync_review_case`, called by ``SqlRepository.add_feedback``) and withdrawn with its document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.storage import models
from service.storage.case_models import Case
from service.storage.changes import ADD, REMOVE, log_changes
from service.storage.sql import SqlRepository

CASE_FIELDS = ("unit", "unit_type", "checklist", "disposal", "sanction", "year", "inspection", "team", "source")


@dataclass
class CaseRecord:
    id: int
    external_id: str
    text: str
    unit: str | None = None
    unit_type: str | None = None
    checklist: list[str] = field(default_factory=list)
    disposal: str | None = None
    sanction: str | None = None
    year: int | None = None
    inspection: str | None = None
    team: str | None = None
    source: str | None = None
    origin: str = "import"
    finding_id: int | None = None
    extra: dict = field(default_factory=dict)


class CaseRepository(Protocol):
    def upsert_cases(self, cases: Iterable[CaseRecord]) -> tuple[int, int]:
        """Insert new cases and update changed ones (by external id); returns (added, updated)."""

    def list_cases(self) -> list[CaseRecord]: ...

    def delete_cases(self, external_ids: Iterable[str]) -> int: ...


def case_record(row: Case) -> CaseRecord:
    return CaseRecord(row.id, row.external_id, row.text, *(getattr(row, f) for f in CASE_FIELDS),
                      origin=row.origin, finding_id=row.finding_id, extra=row.extra or {})


class SqlCaseRepository:
    def __init__(self, repository: SqlRepository) -> None:
        self._repository = repository

    def upsert_cases(self, cases: Iterable[CaseRecord]) -> tuple[int, int]:
        added = updated = 0
        with self._repository._sessions.begin() as session:
            existing = {row.external_id: row for row in session.scalars(select(Case))}
            changed = []
            for case in cases:
                row, new = _upsert(session, existing.get(case.external_id), case)
                if row is not None:
                    existing[case.external_id] = row
                    changed.append(row)
                    added, updated = added + new, updated + (not new)
            session.flush()
            log_changes(session, "cases", ADD, ((row.id, row.text) for row in changed))
        return added, updated

    def list_cases(self) -> list[CaseRecord]:
        with self._repository.session() as session:
            return [case_record(row) for row in session.scalars(select(Case).order_by(Case.id))]

    def delete_cases(self, external_ids: Iterable[str]) -> int:
        ids = list(external_ids)
        if not ids:
            return 0
        with self._repository._sessions.begin() as session:
            rows = session.scalars(select(Case).where(Case.external_id.in_(ids))).all()
            for row in rows:
                session.delete(row)
            log_changes(session, "cases", REMOVE, ((row.id, None) for row in rows))
            return len(rows)

    def withdraw_orphans(self) -> int:
        """Withdraw review cases whose finding is gone (left behind by versions that did not
        withdraw them with the document)."""
        with self._repository._sessions.begin() as session:
            rows = session.scalars(select(Case).where(Case.origin == "review", Case.finding_id.is_(None))).all()
            for row in rows:
                session.delete(row)
            log_changes(session, "cases", REMOVE, ((row.id, None) for row in rows))
            return len(rows)


def _upsert(session: Session, row: Case | None, case: CaseRecord) -> tuple[Case | None, bool]:
    """Insert ``case`` or update ``row`` with it: ``(row, added)``, row None when nothing changed."""
    values = {f: getattr(case, f) for f in ("text", *CASE_FIELDS, "origin", "finding_id", "extra")}
    if row is None:
        row = Case(external_id=case.external_id, **values)
        session.add(row)
        return row, True
    if any(getattr(row, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(row, key, value)
        return row, False
    return None, False


def review_case_id(finding_id: int) -> str:
    return f"finding-{finding_id}"


def sync_review_case(session: Session, finding_id: int) -> None:
    """Make the prior case of a reviewed finding follow its latest verdict, inside the review's
    transaction: confirmed or corrected items make (or change) the case ``finding-<id>``, a
    rejection (or a finding that is gone) withdraws it."""
    external_id = review_case_id(finding_id)
    row = session.scalar(select(Case).where(Case.external_id == external_id))
    finding = session.get(models.Finding, finding_id)
    latest = session.scalar(select(models.TagFeedback).where(models.TagFeedback.finding_id == finding_id)
                            .order_by(models.TagFeedback.id.desc()).limit(1))
    items = list(latest.items or []) if latest is not None else []
    if finding is None or not items:
        if row is not None:
            session.delete(row)
            log_changes(session, "cases", REMOVE, [(row.id, None)])
        return
    document = finding.document
    inspection = document.inspection
    record = CaseRecord(
        id=0, external_id=external_id, text=finding.text, checklist=items, unit=(document.fields or {}).get("unit"),
        origin="review", finding_id=finding_id, team=inspection.team, inspection=inspection.name,
        year=int(document.created_at.year), source="审核确认")
    changed, _ = _upsert(session, row, record)
    if changed is not None:
        session.flush()
        log_changes(session, "cases", ADD, [(changed.id, changed.text)])
