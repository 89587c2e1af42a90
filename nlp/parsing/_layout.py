"""Layout helpers shared by the PDF and OCR paths: fragments → lines, and text joining rules."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass


@dataclass
class Fragment:
    """A positioned piece of text: a PDF word or an OCR box (top-left origin, y grows downwards)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float = 0.0  # font size in points (PDF); 0 when unknown
    score: float | None = None  # OCR confidence

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


@dataclass
class Line:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    confidence: float | None = None

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (self.x0, self.top, self.x1, self.bottom)


def is_cjk(ch: str) -> bool:
    """True for Han, kana, Hangul, CJK punctuation and full-width forms: scripts written without spaces."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK punctuation, kana, CJK ext A, unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF  # ext B and beyond
        or ch in "“”‘’—…·"
    )


def join_pair(left: str, right: str, gap: float, size: float) -> str:
    """Separator between two pieces on one line separated horizontally by ``gap`` points."""
    if not left or not right:
        return ""
    a, b = left[-1], right[0]
    if gap > 0.9 * size:  # a visible column-like gap: keep one space even between CJK
        return " "
    if is_cjk(a) or is_cjk(b):
        return ""
    return " " if gap > 0.15 * size else ""


def join_wrapped(left: str, right: str) -> str:
    """Join two visual lines of one paragraph: no space after/before CJK, one between Latin words."""
    if not left or not right:
        return left + right
    if is_cjk(left[-1]) or is_cjk(right[0]):
        return left + right
    if left.endswith("-") and left[-2:-1].isalpha() and right[0].islower():
        return left[:-1] + right
    return left + " " + right


_CJK_CLASS = r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_SPACE_RE = re.compile(rf"(?<={_CJK_CLASS}) +(?={_CJK_CLASS})")


def clean_cell(text: str | None) -> str:
    """Cell text on one line: internal line breaks joined, spaces between CJK characters dropped."""
    if not text:
        return ""
    parts = [p.strip() for p in text.replace("\r", "\n").split("\n") if p.strip()]
    joined = ""
    for part in parts:
        joined = join_wrapped(joined, part)
    return _CJK_SPACE_RE.sub("", joined.replace("\t", " ")).strip()


def table_text(rows: list[list[str]]) -> str:
    return "\n".join("\t".join(row) for row in rows)


def group_lines(fragments: list[Fragment]) -> list[Line]:
    """Group fragments into lines by vertical overlap, then order lines top→bottom, words left→right."""
    frags = [f for f in fragments if f.text.strip()]
    if not frags:
        return []
    frags.sort(key=lambda f: ((f.top + f.bottom) / 2, f.x0))
    groups: list[list[Fragment]] = []
    top = bottom = 0.0
    for frag in frags:
        if groups:
            overlap = min(bottom, frag.bottom) - max(top, frag.top)
            if overlap >= 0.5 * min(frag.height, bottom - top):
                groups[-1].append(frag)
                top, bottom = min(top, frag.top), max(bottom, frag.bottom)
                continue
        groups.append([frag])
        top, bottom = frag.top, frag.bottom
    lines = [_make_line(group) for group in groups]
    lines.sort(key=lambda line: (line.top, line.x0))
    return lines


def _make_line(group: list[Fragment]) -> Line:
    group.sort(key=lambda f: f.x0)
    sizes = [f.size or f.height for f in group]
    size = statistics.median(sizes)
    text, prev = "", None
    for frag in group:
        piece = frag.text.strip()
        if prev is not None:
            text += join_pair(text, piece, frag.x0 - prev.x1, size)
        text += piece
        prev = frag
    scored = [(f.score, len(f.text)) for f in group if f.score is not None]
    confidence = None
    if scored:
        confidence = sum(s * n for s, n in scored) / max(sum(n for _, n in scored), 1)
    return Line(
        text=text,
        x0=min(f.x0 for f in group),
        top=min(f.top for f in group),
        x1=max(f.x1 for f in group),
        bottom=max(f.bottom for f in group),
        size=size,
        confidence=confidence,
    )
