"""Plain records that cross the storage interface (no ORM objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable


@dataclass
class InspectionRecord:
    id: int
    name: str
    team: str
    target_unit: str | None
    created_at: datetime
    demo: bool = False


@dataclass
class NewFinding:
    seq: int
    text: str
    start: int
    end: int
    source_start: int
    source_end: int
    page: int | None
    speaker: str | None
    role: str
    allegation: int | None
    entities: list[dict] = field(default_factory=list)
    tags: dict | None = None


@dataclass
class FindingRecord(NewFinding):
    id: int = 0
    document_id: int = 0
    review: dict | None = None
    """The latest reviewer verdict: action, items, reviewer, at (None when not reviewed)."""


@dataclass
class NewDocument:
    filename: str
    sha256: str
    size: int
    media_type: str
    kind: str
    kind_score: float
    kind_scores: dict
    fields: dict
    pages: int
    encoding: str | None
    ocr_pages: list[int]
    warnings: list[str]
    original_path: str
    text: str
    findings: list[NewFinding] = field(default_factory=list)
    kind_overridden: bool = False


def flagged_count(tags: Iterable[dict | None] | None) -> int | None:
    """How many findings the tagger flags as suspected problems; None when none carries tags."""
    tags = [t for t in tags or () if t is not None]
    return sum(bool(t.get("is_finding")) for t in tags) if tags else None


@dataclass
class DocumentSummary:
    id: int
    inspection: str
    team: str
    filename: str
    kind: str
    kind_score: float
    pages: int
    finding_count: int
    created_at: datetime
    inspection_id: int = 0
    year: int | None = None
    """The year of the document's own date (else of its import)."""
    demo: bool = False
    flagged_count: int | None = None
    """Of its candidate findings, those the tagger flags as suspected problems (None: none tagged)."""


@dataclass
class DocumentDetail(DocumentSummary):
    sha256: str = ""
    size: int = 0
    media_type: str = ""
    kind_scores: dict = field(default_factory=dict)
    kind_overridden: bool = False
    fields: dict = field(default_factory=dict)
    encoding: str | None = None
    ocr_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    original_path: str = ""
    text: str = ""
    findings: list[FindingRecord] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class FeedbackRecord:
    id: int
    finding_id: int | None
    text: str
    action: str
    items: list[str]
    reviewer: str
    created_at: datetime
