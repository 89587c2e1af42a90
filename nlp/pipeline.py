"""The document pipeline: parsed file → normalised text → kind → fields → candidate findings."""

from __future__ import annotations

from dataclasses import dataclass

from nlp import entities, segment, structure
from nlp.kinds import KindPrediction, detect_kind
from nlp.normalize import NormalizedText, normalize
from nlp.types import DocumentKind, Entity, ParsedDocument


@dataclass
class DocumentAnalysis:
    parsed: ParsedDocument
    normalized: NormalizedText
    kind: KindPrediction
    fields: dict
    entities: list[Entity]
    findings: list[segment.CandidateFinding]

    def page_of(self, start: int) -> int | None:
        return self.parsed.page_at(self.normalized.source_span(start, start + 1)[0])


def analyse(parsed: ParsedDocument, kind: DocumentKind | None = None) -> DocumentAnalysis:
    """Run every understanding stage on a parsed document. ``kind`` overrides detection."""
    normalized = normalize(parsed.text)
    text = normalized.text
    prediction = detect_kind(text)
    if kind is not None and kind is not prediction.kind:
        prediction = KindPrediction(kind, 1.0, prediction.scores, ["用户指定"])
    fields = structure.extract_fields(text, prediction.kind)
    year = structure.default_year(text, fields)
    findings = segment.segment(text, prediction.kind, fields.interviewee, year, fields)
    return DocumentAnalysis(
        parsed=parsed,
        normalized=normalized,
        kind=prediction,
        fields=fields.as_dict(prediction.kind),
        entities=entities.extract(text, year, entities.RoleContext.from_fields(fields)),
        findings=findings,
    )


def analyse_text(text: str, filename: str = "text.txt", kind: DocumentKind | None = None) -> DocumentAnalysis:
    from nlp.types import Block

    blocks = [Block(line) for line in text.split("\n")]
    return analyse(ParsedDocument(filename, "text", blocks), kind)
