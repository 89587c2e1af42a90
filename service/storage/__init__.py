"""Storage behind a small interface (:class:`Repository`); SQL (SQLite by default) implements it."""

from service.storage.records import (
    DocumentDetail,
    DocumentSummary,
    FeedbackRecord,
    FindingRecord,
    InspectionRecord,
    NewDocument,
    NewFinding,
)
from service.storage.repository import Repository
from service.storage.sql import SqlRepository, open_repository

__all__ = [
    "DocumentDetail", "DocumentSummary", "FeedbackRecord", "FindingRecord", "InspectionRecord", "NewDocument",
    "NewFinding", "Repository", "SqlRepository", "open_repository",
]
