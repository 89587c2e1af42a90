"""The year a document belongs to: the year of its own date, not the year it was imported.

A meeting record or interview note carries its date in the header (``fields["date"]``); a petition
is dated where it is signed, at its end. Only when the document names no date of its own does the
import date count. Years outside a plausible range (typos, article numbers read as dates) are ignored.
"""

from __future__ import annotations

from datetime import datetime, timezone

MIN_YEAR = 1980
SIGNATURE_LINES = 8


def _year(value) -> int | None:
    text = str(value or "")
    if len(text) >= 4 and text[:4].isdigit():
        year = int(text[:4])
        if MIN_YEAR <= year <= datetime.now(timezone.utc).year + 1:
            return year
    return None


def own_year(fields: dict | None, text: str | None, kind: str | None) -> int | None:
    """The year of the document's own date, or None when it names none."""
    fields = fields or {}
    year = _year(fields.get("date"))
    if year is not None:
        return year
    from nlp import entities  # jieba's POS model loads here, not when the storage is imported

    lines = [line for line in (text or "").split("\n") if line.strip()]
    if kind == "petition":  # dated at the signature: the last dated line near the end
        for line in reversed(lines[-SIGNATURE_LINES:]):
            for entity in reversed(entities.dates(line)):
                year = _year(entity.value)
                if year is not None and len(str(entity.value)) >= 7:
                    return year
    head = "\n".join(lines[:8])  # a dated heading ("2024年3月5日党委会议纪要")
    for entity in entities.dates(head):
        year = _year(entity.value)
        if year is not None and len(str(entity.value)) >= 7:
            return year
    return None


def document_year(fields: dict | None, text: str | None, kind: str | None,
                  imported: datetime | None = None) -> int:
    """The document's own year, falling back to the import year."""
    year = own_year(fields, text, kind)
    if year is not None:
        return year
    return (imported or datetime.now(timezone.utc)).year
