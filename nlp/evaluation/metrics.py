"""Small metric helpers shared by the evaluations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Counts:
    tp: float = 0.0
    predicted: float = 0.0
    gold: float = 0.0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, tp: float, predicted: float, gold: float) -> None:
        self.tp += tp
        self.predicted += predicted
        self.gold += gold


def macro_f1(gold: list, predicted: list) -> float:
    labels = sorted(set(gold), key=str)
    scores = []
    for label in labels:
        counts = Counts()
        counts.add(sum(g == p == label for g, p in zip(gold, predicted)),
                   sum(p == label for p in predicted), sum(g == label for g in gold))
        scores.append(counts.f1)
    return sum(scores) / len(scores) if scores else 0.0


def char_overlap(a: str, b: str) -> float:
    """Share of the shorter string's characters found in the other (bag of characters)."""
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    pool = list(long_)
    hit = 0
    for char in short:
        if char in pool:
            pool.remove(char)
            hit += 1
    return hit / len(short)
