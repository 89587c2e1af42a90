"""Report drafts for report writers (问题清单初稿): built from findings, edited, exported to DOCX/XLSX."""

from __future__ import annotations

from nlp.checklist import Checklist
from service.reports.draft import CaseSearch, build_problems
from service.reports.store import ReportStore, SaveResult
from service.storage.records import InspectionRecord
from service.storage.sql import SqlRepository


def rebuild(repository: SqlRepository, checklist: Checklist, inspection: InspectionRecord, by: str | None,
            search: CaseSearch | None = None) -> SaveResult:
    """Build the inspection's draft from its current findings and store it, keeping writers' edits."""
    problems = build_problems(repository, checklist, inspection, search)
    return ReportStore(repository.engine).save(inspection.id, problems, by)


__all__ = ["CaseSearch", "ReportStore", "SaveResult", "rebuild"]
