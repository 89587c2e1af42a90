"""Typed values passed between the NLP stages.

Every stage takes and returns these plain dataclasses; no stage keeps state between calls.
Offsets are Python string indices (code points), half-open ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class DocumentKind(str, Enum):
    MINUTES = "minutes"
    PETITION = "petition"
    INTERVIEW = "interview"
    OTHER = "other"
    EVIDENCE = "evidence"
    """Rectification evidence (整改佐证材料): only ever set by the rectification ledger, never detected."""

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[DocumentKind, str] = {
    DocumentKind.MINUTES: "会议记录/纪要",
    DocumentKind.PETITION: "信访举报件",
    DocumentKind.INTERVIEW: "个别谈话记录",
    DocumentKind.OTHER: "其他材料",
    DocumentKind.EVIDENCE: "整改佐证材料",
}


@dataclass
class Block:
    """One unit of text in reading order: a paragraph, a heading or a table.

    ``text`` is what the block contributes to the document text; a table contributes its rows,
    cells joined by a tab and rows by a newline, and keeps the cells in ``rows``.
    """

    text: str
    page: int | None = None  # 1-based page number; None for flowing formats (DOCX, TXT)
    kind: str = "paragraph"  # "paragraph" | "heading" | "table"
    rows: list[list[str]] | None = None
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom in PDF points
    ocr: bool = False  # text came from OCR
    confidence: float | None = None  # mean OCR confidence when ocr is True


@dataclass
class ParsedDocument:
    """What a parser returns: the blocks of a file in reading order plus facts about the file."""

    filename: str
    media_type: str  # "pdf" | "docx" | "doc" | "text" | "image"
    blocks: list[Block]
    pages: int = 1
    encoding: str | None = None  # detected encoding of a text file
    ocr_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    BLOCK_SEPARATOR = "\n"

    @property
    def text(self) -> str:
        return self.BLOCK_SEPARATOR.join(block.text for block in self.blocks)

    def block_offsets(self) -> list[int]:
        """Start offset of every block inside :attr:`text`."""
        offsets, position = [], 0
        for block in self.blocks:
            offsets.append(position)
            position += len(block.text) + len(self.BLOCK_SEPARATOR)
        return offsets

    def page_at(self, offset: int) -> int | None:
        """Page of the character at ``offset`` of :attr:`text`."""
        page = None
        for start, block in zip(self.block_offsets(), self.blocks):
            if start > offset:
                break
            page = block.page
        return page


class ParseError(Exception):
    """A file that cannot be read. ``code`` is stable; ``message`` is Chinese for the user."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(f"{code}: {message}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass
class Entity:
    """A thing named in the text. ``value`` is normalised (yuan as float, dates as ISO)."""

    label: str  # "person" | "position" | "org" | "money" | "date"
    text: str
    start: int
    end: int
    value: str | float | None = None
    extra: dict[str, str] = field(default_factory=dict)  # e.g. {"position": "局长"} for a person
