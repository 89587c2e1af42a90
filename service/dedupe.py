"""Near-duplicate detection (判重) for petitions: the same complaint sent twice in other words.

Two texts are duplicates when their embeddings are very close *and* they share concrete anchors:
the same amounts, dates, people or units. The second check keeps two different complaints about
the same kind of unit apart, which embeddings alone tend to merge; rephrasing does not change
anchors, while it defeats character overlap. Thresholds were chosen with ``bench/dedupe.py`` on the labelled
duplicate pairs of the prior-case corpus (``dup_group``), not on any evaluation set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from nlp import entities

COSINE_MIN = 0.95  # bench/dedupe.py: P 0.95, R 0.63 on the 30 labelled pairs among 29,754
ANCHORS_MIN = 1


@dataclass
class DuplicatePair:
    first: int
    second: int
    cosine: float
    shared_anchors: int


def anchors(text: str) -> set[tuple[str, str]]:
    """Amounts, dates, people and units named in ``text``, normalised."""
    return {(e.label, str(e.value)) for e in entities.extract(text) if e.label in ("money", "date", "person", "org")}


def pair_scores(texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.asarray(embed(list(texts)), dtype=np.float32)
    cosine = vectors @ vectors.T
    found = [anchors(t) for t in texts]
    shared = np.array([[len(a & b) for b in found] for a in found], dtype=np.int32)
    return cosine, shared


def near_duplicates(ids: Sequence[int], texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray],
                    cosine_min: float = COSINE_MIN, anchors_min: int = ANCHORS_MIN) -> list[DuplicatePair]:
    if len(texts) < 2:
        return []
    cosine, shared = pair_scores(texts, embed)
    pairs = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if cosine[i, j] >= cosine_min and shared[i, j] >= anchors_min:
                pairs.append(DuplicatePair(ids[i], ids[j], float(cosine[i, j]), int(shared[i, j])))
    return sorted(pairs, key=lambda p: -p.cosine)
