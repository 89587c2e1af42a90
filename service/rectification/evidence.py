"""Evidence (佐证材料) for a rectification task: ingested through the normal ingest path as documents
of their own kind (整改佐证材料), untagged — they prove a fix, they are not material about problems —
and linked to the task."""

from __future__ import annotations

from nlp.types import DocumentKind
from service.ingest import Ingestor, IngestResult


def evidence_ingestor(repository, originals, settings) -> Ingestor:
    return Ingestor(repository, originals, max_bytes=settings.max_file_bytes, ocr=settings.ocr, tagger=None)


def ingest_evidence(ingestor: Ingestor, data: bytes, filename: str, inspection_id: int) -> IngestResult:
    """Store one evidence file in the task's round (a file already stored there is reused)."""
    return ingestor.ingest_bytes(data, filename, inspection_id, DocumentKind.EVIDENCE)
