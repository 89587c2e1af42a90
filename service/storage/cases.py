"""Storage of prior cases behind a small interface, with the SQL implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from sqlalchemy import select

from service.storage.case_models import Case
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


def _record(row: Case) -> CaseRecord:
    return CaseRecord(row.id, row.external_id, row.text, *(getattr(row, f) for f in CASE_FIELDS),
                      origin=row.origin, finding_id=row.finding_id, extra=row.extra or {})


class SqlCaseRepository:
    def __init__(self, repository: SqlRepository) -> None:
        self._repository = repository

    def upsert_cases(self, cases: Iterable[CaseRecord]) -> tuple[int, int]:
        added = updated = 0
        with self._repository._sessions.begin() as session:
            existing = {row.external_id: row for row in session.scalars(select(Case))}
            for case in cases:
                values = {f: getattr(case, f) for f in ("text", *CASE_FIELDS, "origin", "finding_id", "extra")}
                row = existing.get(case.external_id)
                if row is None:
                    row = Case(external_id=case.external_id, **values)
                    session.add(row)
                    existing[case.external_id] = row
                    added += 1
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for key, value in values.items():
                        setattr(row, key, value)
                    updated += 1
        return added, updated

    def list_cases(self) -> list[CaseRecord]:
        with self._repository.session() as session:
            return [_record(row) for row in session.scalars(select(Case).order_by(Case.id))]

    def delete_cases(self, external_ids: Iterable[str]) -> int:
        ids = list(external_ids)
        if not ids:
            return 0
        with self._repository._sessions.begin() as session:
            rows = session.scalars(select(Case).where(Case.external_id.in_(ids))).all()
            for row in rows:
                session.delete(row)
            return len(rows)
