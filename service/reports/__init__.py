"""Report drafts for report writers (问题清单初稿): built from findings, edited, exported to DOCX/XLSX."""

from __future__ import annotations

from nlp.checklist import Checklist
from service.reports.draft import CaseSearch, build_problems
from service.reports.evidence import load_round
from service.reports.store import ReportStore, SaveResult
from service.storage.records import InspectionRecord
from service.storage.sql import SqlRepository


def rebuild(repository: SqlRepository, checklist: Checklist, inspection: InspectionRecord, by: str | None,
            search: CaseSearch | None = None) -> SaveResult:
    """Build the inspection's draft from its current findings and store it, keeping writers' edits."""
    problems = build_problems(repository, checklist, inspection, search)
    return ReportStore(repository.engine).save(inspection.id, problems, by)


def is_stale(repository: SqlRepository, inspection_id: int, checklist: Checklist) -> bool:
    """Whether the stored draft is missing or was built from other evidence than the round has now:
    a finding reviewed (confirmed, rejected, corrected), added or deleted since. Reads never show a stale draft."""
    stored = ReportStore(repository.engine).evidence_keys(inspection_id)
    current = {(s.finding.id, tuple(s.items), s.review) for s in load_round(repository, inspection_id).sources
               if any(checklist.resolve_or_none(i) for i in s.items)}
    return stored is None or stored != current


__all__ = ["CaseSearch", "ReportStore", "SaveResult", "is_stale", "rebuild"]
