"""Storage behind a small interface (:class:`Repository`); SQL (SQLite by default) implements it.

The SQL implementation (and with it Alembic) is imported on first use of ``SqlRepository`` or
``open_repository``, so that importing the table models (e.g. for the security store) stays light.
"""

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

__all__ = [
    "DocumentDetail", "DocumentSummary", "FeedbackRecord", "FindingRecord", "InspectionRecord", "NewDocument",
    "NewFinding", "Repository", "SqlRepository", "open_repository",
]
_LAZY = {"SqlRepository", "open_repository"}


def __getattr__(name: str):
    if name in _LAZY:
        from service.storage import sql

        return getattr(sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
