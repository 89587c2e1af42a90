"""The storage interface the rest of xuncha depends on."""

from __future__ import annotations

from typing import Protocol

from service.storage.records import (
    DocumentDetail,
    DocumentSummary,
    FeedbackRecord,
    FindingRecord,
    InspectionRecord,
    NewDocument,
)


class Repository(Protocol):
    def ensure_inspection(self, name: str, team: str, target_unit: str | None = None) -> InspectionRecord:
        """The inspection round called ``name`` of ``team``, created if missing."""

    def list_inspections(self, team: str | None = None) -> list[InspectionRecord]: ...

    def get_inspection(self, inspection_id: int) -> InspectionRecord | None: ...

    def find_document(self, inspection_id: int, sha256: str) -> int | None:
        """Id of the document with this content in this inspection, if stored."""

    def add_document(self, inspection_id: int, document: NewDocument) -> int:
        """Store a document and its findings in one transaction; return its id."""

    def list_documents(self, inspection: str | None = None, team: str | None = None, *,
                       inspection_id: int | None = None, kind: str | None = None) -> list[DocumentSummary]: ...

    def get_document(self, document_id: int) -> DocumentDetail | None: ...

    def delete_document(self, document_id: int) -> str | None:
        """Delete a document with its findings; return its original's path, or None if absent."""

    def original_in_use(self, original_path: str) -> bool: ...

    def get_finding(self, finding_id: int) -> FindingRecord | None: ...

    def add_feedback(self, finding_id: int | None, text: str, action: str, items: list[str], reviewer: str) -> int:
        """Record a reviewer's confirm/reject/correct verdict; returns its id."""

    def list_feedback(self) -> list[FeedbackRecord]: ...
