"""Ingestion: file → parse → analyse → store, one transaction per document.

A bad file yields an :class:`IngestResult` with its reason and never stops a batch. A file whose
content is already stored in the inspection is a no-op.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from nlp import parsing, registers
from nlp.parsing.limits import NO_LIMITS, Checkpoint, ParseLimits
from nlp.pipeline import DocumentAnalysis, analyse
from nlp.types import DocumentKind, ParseError
from service.originals import OriginalStore
from service.storage import NewDocument, NewFinding, Repository
from service.storage.records import flagged_count

log = logging.getLogger(__name__)
FindingTagger = Callable[[list[str]], list[dict]]


@dataclass
class IngestResult:
    path: str
    status: str  # "added" | "duplicate" | "error"
    document_id: int | None = None
    kind: str | None = None
    pages: int = 0
    findings: int = 0
    flagged: int | None = None
    """Candidate findings the tagger flags as suspected problems (None when nothing was tagged)."""
    error_code: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus every supported file below named folders (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in parsing.SUPPORTED_SUFFIXES
                                and not p.name.startswith(".")))
        else:
            found.append(path)
    return found


def to_new_document(analysis: DocumentAnalysis, filename: str, data: bytes, sha256: str,
                    original_path: str, tags: list[dict] | None = None) -> NewDocument:
    findings = []
    for seq, finding in enumerate(analysis.findings):
        source_start, source_end = analysis.normalized.source_span(finding.start, finding.end)
        findings.append(NewFinding(
            seq=seq, text=finding.text, start=finding.start, end=finding.end,
            source_start=source_start, source_end=source_end, page=analysis.page_of(finding.start),
            speaker=finding.speaker, role=finding.role, allegation=finding.allegation,
            entities=[{"label": e.label, "text": e.text, "start": e.start, "end": e.end, "value": e.value,
                       **({"extra": e.extra} if e.extra else {})} for e in finding.entities],
            tags=tags[seq] if tags else None,
        ))
    parsed = analysis.parsed
    return NewDocument(
        filename=filename, sha256=sha256, size=len(data), media_type=parsed.media_type,
        kind=analysis.kind.kind.value, kind_score=analysis.kind.score, kind_scores=analysis.kind.scores,
        fields=analysis.fields, pages=parsed.pages, encoding=parsed.encoding, ocr_pages=parsed.ocr_pages,
        warnings=parsed.warnings, original_path=original_path, text=analysis.normalized.text,
        findings=findings, kind_overridden=analysis.kind.cues == ["用户指定"],
    )


class Ingestor:
    """Ingests files into one repository; ``tagger`` (optional) tags every candidate finding."""

    def __init__(self, repository: Repository, originals: OriginalStore, *, max_bytes: int,
                 ocr: bool = True, tagger: FindingTagger | None = None, limits: ParseLimits = NO_LIMITS) -> None:
        self.repository = repository
        self.originals = originals
        self.max_bytes = max_bytes
        self.ocr = ocr
        self.tagger = tagger
        self.limits = limits
        """Per-document page / OCR caps."""

    def ingest_path(self, path: Path, inspection_id: int, kind: DocumentKind | None = None) -> IngestResult:
        try:
            size = path.stat().st_size
        except OSError as error:
            return IngestResult(str(path), "error", error_code="unreadable", message=f"无法读取文件：{error.strerror}")
        if size > self.max_bytes:
            return IngestResult(str(path), "error", error_code="too_large",
                                message=f"文件过大（{size / 1048576:.1f} MB），上限为 {self.max_bytes / 1048576:.0f} MB")
        return self.ingest_bytes(path.read_bytes(), path.name, inspection_id, kind, label=str(path))

    def ingest_bytes(self, data: bytes, filename: str, inspection_id: int,
                     kind: DocumentKind | None = None, label: str | None = None,
                     checkpoint: Checkpoint | None = None) -> IngestResult:
        """``checkpoint``: called between pages and between stages, never once storing has begun; a
        ParseError it raises (timeout, cancel) ends the file like a bad file, with nothing stored."""
        label = label or filename
        check = checkpoint or (lambda: None)
        sha256 = hashlib.sha256(data).hexdigest()
        existing = self.repository.find_document(inspection_id, sha256)
        if existing is not None:
            return IngestResult(label, "duplicate", document_id=existing, message="内容相同的文件已入库，未重复导入")
        try:
            parsed = parsing.parse_bytes(data, filename, max_bytes=self.max_bytes, ocr=self.ocr,
                                         limits=self.limits, checkpoint=checkpoint)
            check()
            analysis = analyse(parsed, kind)
            check()
            tags = None
            if self.tagger and analysis.findings:
                tags = registers.gate_by_role(
                    self.tagger([f.text for f in analysis.findings], analysis.kind.kind.value),
                    [f.role for f in analysis.findings])
                check()
        except ParseError as error:
            log.info("rejected file sha256=%s code=%s", sha256[:12], error.code)
            return IngestResult(label, "error", error_code=error.code, message=error.message)
        original = self.originals.put(data, sha256, Path(filename).suffix)
        try:
            document_id = self.repository.add_document(
                inspection_id, to_new_document(analysis, filename, data, sha256, original, tags))
        except Exception:
            if not self.repository.original_in_use(original):
                self.originals.delete(original)
            existing = self.repository.find_document(inspection_id, sha256)
            if existing is not None:  # a concurrent ingest of the same content stored it first
                return IngestResult(label, "duplicate", document_id=existing, message="内容相同的文件已入库，未重复导入")
            raise
        log.info("stored document id=%s kind=%s findings=%d", document_id, analysis.kind.kind.value,
                 len(analysis.findings))
        return IngestResult(label, "added", document_id, analysis.kind.kind.value, parsed.pages,
                            len(analysis.findings), flagged_count(tags), warnings=parsed.warnings)

    def delete(self, document_id: int) -> bool:
        original = self.repository.delete_document(document_id)
        if original is None:
            return False
        if not self.repository.original_in_use(original):
            self.originals.delete(original)
        return True
