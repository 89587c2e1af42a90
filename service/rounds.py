"""Changes to rounds and documents after import: correcting a document's kind, deleting a round.

Both the API and the CLI go through here. Deleting a round deletes each document through the
ingestor's document-deletion path (findings and originals go with it, and the search indexes,
which follow the stored findings, drop them on their next sync), then the round's reviews, the
prior cases made from them, its report draft and its jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nlp import structure
from nlp.types import DocumentKind
from service.ingest import Ingestor
from service.storage import SqlRepository
from service.storage.records import DocumentDetail
from service.storage.years import own_year

DEMO_DELETED = "demo-deleted"
"""Marker file in the data directory: the demo round was deleted, so ``xuncha serve`` does not
import the example material again."""


@dataclass
class RoundDeletion:
    inspection_id: int
    documents: int
    findings: int


def change_kind(repository: SqlRepository, document_id: int, kind: DocumentKind) -> DocumentDetail | None:
    """Set a document's kind by hand and re-extract its structure fields (and its year) for that
    kind. Findings keep their ids, tags and reviews. None if the document does not exist."""
    detail = repository.get_document(document_id)
    if detail is None:
        return None
    fields = structure.extract_fields(detail.text, kind).as_dict(kind)
    if not repository.set_document_kind(document_id, kind.value, fields, own_year(fields, detail.text, kind.value)):
        return None
    return repository.get_document(document_id)


def delete_inspection(repository: SqlRepository, ingestor: Ingestor, inspection_id: int,
                      home: Path | None = None) -> RoundDeletion | None:
    """Delete a round and everything in it; None if it does not exist. Deleting the demo round
    leaves a marker in ``home`` so that the example material is not imported again on start."""
    record = repository.get_inspection(inspection_id)
    if record is None:
        return None
    if record.demo and home is not None:
        home.mkdir(parents=True, exist_ok=True)
        (home / DEMO_DELETED).write_text("示例巡察轮次已被删除；xuncha serve 不再自动导入示例材料。\n", encoding="utf-8")
    repository.purge_inspection_reviews(inspection_id)  # before the findings they point at go
    documents = repository.list_documents(inspection_id=inspection_id)
    for document in documents:
        ingestor.delete(document.id)
    repository.delete_inspection(inspection_id)
    return RoundDeletion(inspection_id, len(documents), sum(d.finding_count for d in documents))
