"""Evaluate tagging on a real-register labelled set (``../shared/realdev`` or any JSONL of its format).

Each line: ``id, kind, text, focus (1/2/3/null), discipline (one of six/null), checklist (ids),
topic, is_finding``. The set is split once by a fixed hash of the id into a half for *choosing*
(features, thresholds, embedders) and a half for *reporting*; nothing is ever trained on it.

Systems are scored on the same texts in the same run: the tagger and a zero-shot e5 prototype
baseline whose finding threshold is chosen on the other half.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from nlp.checklist import Checklist
from nlp.dataset import read_jsonl
from nlp.evaluation.metrics import Counts, macro_f1

HALVES = ("choose", "report", "all")
NO_FOCUS = None  # labels.md: 整改不到位 (the checklist's focus 4) and non-problems have no focus
ADDED_AFTER_REALDEV = frozenset({
    "A1-31", "A1-32", "A1-33", "A1-34", "B2-23", "B3-26", "B3-27", "B3-28", "B3-29", "C2-36",
    "C4-26", "C4-27", "C5-21", "C5-22"})
"""Checklist items written (commit 08e85dd, the checklist-gap round) after realdev was labelled: its
gold never names them, so a text whose best item is one of them always counts as a top-1 miss. The
item figures are also given on the ranking without them (the label space the annotators had)."""


@dataclass(frozen=True)
class RealExample:
    id: str
    kind: str
    text: str
    is_finding: bool
    focus: int | None
    discipline: str | None
    items: tuple[str, ...]
    topic: str = ""
    confidence: str = ""
    """The annotator's confidence in the labels: high / medium / low ("" when not given)."""


@dataclass(frozen=True)
class Prediction:
    is_finding: bool
    focus: int | None
    discipline: str | None
    ranked: tuple[str, ...]
    ranked_all: tuple[str, ...] = ()
    """Every item, best first (for the item figures within the annotators' label space)."""


@dataclass
class KindScores:
    n: int = 0
    finding: Counts = field(default_factory=Counts)
    negatives: int = 0
    false_positives: int = 0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0


@dataclass
class LabelScores:
    """Label figures over the problems of one slice (a kind, an annotator confidence)."""
    problems: int = 0
    focus_accuracy: float = 0.0
    labelled: int = 0
    """Problems whose gold discipline is one of the six."""
    discipline_accuracy: float = 0.0
    with_items: int = 0
    top1: float = 0.0
    top3: float = 0.0


@dataclass
class RealScores:
    name: str
    n: int
    per_kind: dict[str, KindScores]
    overall: KindScores
    focus_accuracy: float
    focus_macro_f1: float
    discipline_accuracy: float
    """On problems whose gold discipline is one of the six (the figure realdev's README reports)."""
    discipline_accuracy_all: float
    """On all problems, null (a shortfall that is no breach) counted as a class."""
    top1: float
    top3: float
    top1_label_space: float = float("nan")
    top3_label_space: float = float("nan")
    """top-1/top-3 on the ranking without the items added after the set was labelled."""
    labels_by_kind: dict[str, LabelScores] = field(default_factory=dict)
    labels_by_confidence: dict[str, LabelScores] = field(default_factory=dict)


def half_of(identifier: str) -> str:
    return "choose" if hashlib.md5(identifier.encode("utf-8")).digest()[0] % 2 == 0 else "report"


def _files(path: Path) -> list[Path]:
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


def load_realdev(paths: Iterable[Path], half: str = "all",
                 resolve: Callable[[str], str] = lambda item_id: item_id) -> list[RealExample]:
    """Examples of ``half`` from JSONL files or folders; checklist ids mapped through ``resolve``
    (the checklist's aliases), unknown ids dropped."""
    if half not in HALVES:
        raise ValueError(f"未知的划分：{half}（可选：{'、'.join(HALVES)}）")
    examples = []
    for path in (f for p in paths for f in _files(Path(p))):
        for row in read_jsonl(path):
            if half != "all" and half_of(row["id"]) != half:
                continue
            items = []
            for item_id in row.get("checklist") or []:
                try:
                    resolved = resolve(item_id)
                except KeyError:
                    continue
                if resolved not in items:
                    items.append(resolved)
            examples.append(RealExample(
                row["id"], row.get("kind", "other"), row["text"], bool(row["is_finding"]),
                row.get("focus"), row.get("discipline"), tuple(items), row.get("topic", ""),
                row.get("confidence") or ""))
    return examples


def as_focus(value: int | None) -> int | None:
    return value if value in (1, 2, 3) else NO_FOCUS


def as_discipline(value: str | None) -> str | None:
    return None if value in (None, "无", "") else value


def score(name: str, examples: Sequence[RealExample], predictions: Sequence[Prediction],
          newer_items: frozenset[str] = ADDED_AFTER_REALDEV) -> RealScores:
    per_kind: dict[str, KindScores] = {}
    overall = KindScores()
    for example, prediction in zip(examples, predictions):
        for bucket in (per_kind.setdefault(example.kind, KindScores()), overall):
            bucket.n += 1
            bucket.finding.add(float(example.is_finding and prediction.is_finding),
                               float(prediction.is_finding), float(example.is_finding))
            if not example.is_finding:
                bucket.negatives += 1
                bucket.false_positives += int(prediction.is_finding)
    problems = [(e, p) for e, p in zip(examples, predictions) if e.is_finding]
    labels = _label_scores(problems)
    gold_focus = [as_focus(e.focus) for e, _ in problems]
    with_items = [(e, p) for e, p in problems if e.items]
    older = [(e, [i for i in p.ranked_all if i not in newer_items]) for e, p in with_items if p.ranked_all]
    return RealScores(
        name=name, n=len(examples), per_kind=per_kind, overall=overall,
        focus_accuracy=labels.focus_accuracy,
        focus_macro_f1=macro_f1(gold_focus, [as_focus(p.focus) for _, p in problems]),
        discipline_accuracy=labels.discipline_accuracy,
        discipline_accuracy_all=_mean([as_discipline(e.discipline) == as_discipline(p.discipline)
                                       for e, p in problems]),
        top1=labels.top1, top3=labels.top3,
        top1_label_space=_mean([_hit(e, r, 1) for e, r in older]) if older else float("nan"),
        top3_label_space=_mean([_hit(e, r, 3) for e, r in older]) if older else float("nan"),
        labels_by_kind=_sliced(problems, lambda e: e.kind),
        labels_by_confidence=_sliced([(e, p) for e, p in problems if e.confidence], lambda e: e.confidence),
    )


def _mean(values: list[bool]) -> float:
    return float(np.mean(values)) if values else 0.0


def _hit(example: RealExample, ranked: Sequence[str], k: int) -> bool:
    return bool(set(ranked[:k]) & set(example.items))


def _label_scores(problems: Sequence[tuple[RealExample, Prediction]]) -> LabelScores:
    labelled = [(e, p) for e, p in problems if as_discipline(e.discipline)]
    with_items = [(e, p) for e, p in problems if e.items]
    return LabelScores(
        problems=len(problems),
        focus_accuracy=_mean([as_focus(e.focus) == as_focus(p.focus) for e, p in problems]),
        labelled=len(labelled),
        discipline_accuracy=_mean([as_discipline(e.discipline) == as_discipline(p.discipline) for e, p in labelled]),
        with_items=len(with_items),
        top1=_mean([_hit(e, p.ranked, 1) for e, p in with_items]),
        top3=_mean([_hit(e, p.ranked, 3) for e, p in with_items]))


def _sliced(problems: Sequence[tuple[RealExample, Prediction]],
            key: Callable[[RealExample], str]) -> dict[str, LabelScores]:
    """Label figures per value of ``key`` (the figures of a slice say where the tags can be trusted)."""
    slices: dict[str, list] = {}
    for example, prediction in problems:
        slices.setdefault(key(example), []).append((example, prediction))
    return {value: _label_scores(pairs) for value, pairs in slices.items()}


def tagger_predictions(tagger, texts: Sequence[str]) -> list[Prediction]:
    every_item = copy.copy(tagger)
    every_item.top_k = len(tagger.item_ids_)
    shown = tagger.top_k
    return [Prediction(r.is_finding, r.focus, r.discipline, tuple(i.id for i in r.checklist[:shown]),
                       tuple(i.id for i in r.checklist))
            for r in every_item.tag(list(texts), evidence=False)]


class PrototypeBaseline:
    """Zero-shot: nearest checklist-item prototype (mean e5 vector of title, manifestations and
    synonyms); focus and discipline are the nearest item's; a text is a finding when its best
    cosine reaches a threshold chosen for F1 on labelled texts given to ``fit``."""

    def __init__(self, checklist: Checklist, embed: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.checklist, self.embed = checklist, embed
        self.ids = [item.id for item in checklist.items]
        groups = [item.phrases for item in checklist.items]
        prototypes = np.vstack([np.asarray(embed(group)).mean(axis=0) for group in groups])
        self.prototypes = prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)
        self.threshold = 0.0

    def _best(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.embed(list(texts))) @ self.prototypes.T

    def fit(self, examples: Sequence[RealExample]) -> PrototypeBaseline:
        best = self._best([e.text for e in examples]).max(axis=1)
        gold = np.array([e.is_finding for e in examples])

        def f1(threshold: float) -> float:
            counts = Counts()
            flagged = best >= threshold
            counts.add(float((flagged & gold).sum()), float(flagged.sum()), float(gold.sum()))
            return counts.f1

        self.threshold = float(max(np.unique(np.round(best, 3)), key=f1))
        return self

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        out = []
        for row in self._best(texts):
            order = np.argsort(-row)
            top = self.checklist.get(self.ids[order[0]])
            out.append(Prediction(bool(row.max() >= self.threshold), top.focus, top.discipline,
                                  tuple(self.ids[j] for j in order[:3]), tuple(self.ids[j] for j in order)))
        return out
