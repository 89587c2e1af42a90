"""Evaluate document understanding on the held-out set in ``corpora/eval/ingest``.

Kind accuracy is end to end (parse → detect). Fields are scored given the gold kind, so a kind
error does not hide how well each extractor works. Person names are also scored for jieba's POS
tagger alone against jieba plus our rules: recall of the names the field labels give, and precision
and recall against ``persons.jsonl``, every person named in each text (pooled judgements: each name
any version of the extractor proposed was judged by hand, and the labelled names were added; a name
no one judged counts as wrong). ``orgs.jsonl`` holds the judged organisation names the same way:
a unit named in full counts, a cut one (山镇 for 青山镇) or a non-unit does not.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nlp import entities, parsing
from nlp.evaluation.metrics import Counts, char_overlap
from nlp.pipeline import analyse
from nlp.types import DocumentKind

EVAL_DIR = Path(__file__).resolve().parents[2] / "corpora" / "eval" / "ingest"
SCALARS = ("meeting_name", "date", "place", "chair", "recorder", "complainant", "interviewee",
           "interviewee_position")
NAME_LISTS = ("attendees", "absentees", "interviewers")
TEXT_LISTS = ("agenda", "decisions")


@dataclass
class IngestEvaluation:
    documents: int = 0
    kind_correct: int = 0
    confusion: Counter = field(default_factory=Counter)
    fields: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    allegation_exact: int = 0
    petitions: int = 0
    person_recall: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    persons: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    organisations: Counts = field(default_factory=Counts)

    @property
    def kind_accuracy(self) -> float:
        return self.kind_correct / self.documents if self.documents else 0.0


def _norm(value) -> str:
    if isinstance(value, (int, float)):
        return f"{float(value):.2f}"
    return str(value).replace(" ", "").strip("。；;，,") if value is not None else ""


def _score_scalar(counts: Counts, gold, predicted) -> None:
    counts.add(float(bool(gold) and bool(predicted) and _norm(gold) == _norm(predicted)),
               float(bool(predicted)), float(bool(gold)))


def _score_set(counts: Counts, gold: list, predicted: list) -> None:
    gold_set, predicted_set = {_norm(g) for g in gold}, {_norm(p) for p in predicted}
    counts.add(len(gold_set & predicted_set), len(predicted_set), len(gold_set))


def _score_texts(counts: Counts, gold: list[str], predicted: list[str]) -> None:
    unmatched = list(predicted)
    tp = 0
    for item in gold:
        for candidate in unmatched:
            if item in candidate or candidate in item or char_overlap(item, candidate) >= 0.8:
                unmatched.remove(candidate)
                tp += 1
                break
    counts.add(tp, len(predicted), len(gold))


def _gold_names(label: dict) -> set[str]:
    fields = label["fields"]
    names = {fields.get(k) for k in ("chair", "recorder", "interviewee")}
    names |= {fields.get("complainant")} - {"匿名"}
    for key in NAME_LISTS:
        names |= set(fields.get(key) or [])
    names |= {p["name"] for p in fields.get("reported") or []}
    return {n for n in names if n}


def _judged(path: Path, key: str) -> dict[str, set[str]]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["file"]: set(row[key]) for row in rows}


def document_persons(text: str, fields: dict) -> set[str]:
    """The person names the pipeline finds in a document: the rules with the names its header gives."""
    return {e.text for e in entities.persons(text, entities.RoleContext.from_fields(fields).known)}


def evaluate(directory: Path = EVAL_DIR) -> IngestEvaluation:
    result = IngestEvaluation()
    labels = [json.loads(line) for line in (directory / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    all_persons = _judged(directory / "persons.jsonl", "persons")
    all_orgs = _judged(directory / "orgs.jsonl", "orgs")
    for label in labels:
        parsed = parsing.parse_file(directory / "docs" / label["file"], ocr=False)
        gold_kind = DocumentKind(label["kind"])
        detected = analyse(parsed)
        result.documents += 1
        result.kind_correct += detected.kind.kind is gold_kind
        result.confusion[(gold_kind.value, detected.kind.kind.value)] += 1
        fields = (detected if detected.kind.kind is gold_kind else analyse(parsed, gold_kind)).fields
        gold = label["fields"]
        for key in SCALARS:
            if key in gold:
                _score_scalar(result.fields[key], gold[key], fields.get(key))
        for key in NAME_LISTS + ("amounts", "dates"):
            if key in gold:
                _score_set(result.fields[key], gold[key] or [], fields.get(key) or [])
        for key in TEXT_LISTS:
            if key in gold:
                _score_texts(result.fields[key], gold[key] or [], fields.get(key) or [])
        if gold_kind is DocumentKind.PETITION:
            predicted = fields.get("reported") or []
            _score_set(result.fields["reported.name"], [p["name"] for p in gold["reported"]],
                       [p["name"] for p in predicted])
            by_name = {p["name"]: p for p in predicted}
            for person in gold["reported"]:
                for part in ("position", "unit"):
                    _score_scalar(result.fields[f"reported.{part}"], person.get(part),
                                  (by_name.get(person["name"]) or {}).get(part))
            result.petitions += 1
            result.allegation_exact += len(fields.get("allegations") or []) == gold["allegation_count"]
        names = _gold_names(label)
        text = detected.normalized.text
        found_by = {"jieba": {e.text for e in entities.persons_jieba(text)},
                    "jieba+rules": document_persons(text, fields)}
        for method, found in found_by.items():
            result.person_recall[method].add(len(names & found), len(found), len(names))
            if label["file"] in all_persons:
                gold_persons = all_persons[label["file"]]
                result.persons[method].add(len(gold_persons & found), len(found), len(gold_persons))
        if label["file"] in all_orgs:
            found = {e.text for e in entities.organisations(text)}
            result.organisations.add(len(all_orgs[label["file"]] & found), len(found), len(all_orgs[label["file"]]))
    return result
