"""Rank fusion for hybrid (vector + keyword) search. Pure functions, no state.

Both return ``[(id, score), ...]`` sorted by score descending, ties broken by id ascending so
results are deterministic.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def _sorted(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    return sorted(((int(i), float(s)) for i, s in scores.items()), key=lambda item: (-item[1], item[0]))


def reciprocal_rank_fusion(rankings: Sequence[Iterable[int]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion (Cormack et al. 2009): ``score(d) = Σ 1 / (k + rank_r(d))``.

    ``rankings`` are id lists, best first; ranks start at 1. Ids < 0 (faiss' empty slots) are
    skipped; an id repeated within one ranking counts once, at its best rank.
    """
    if k < 0:
        raise ValueError(f"RRF 参数 k 不能为负数：{k}")
    scores: dict[int, float] = {}
    for ranking in rankings:
        seen: set[int] = set()
        rank = 0
        for id_ in ranking:
            id_ = int(id_)
            if id_ < 0:
                continue
            rank += 1
            if id_ in seen:
                continue
            seen.add(id_)
            scores[id_] = scores.get(id_, 0.0) + 1.0 / (k + rank)
    return _sorted(scores)


def _min_max(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale to [0, 1] per query; a single value or all-equal values map to 1.0."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return {int(i): 1.0 for i in scores}
    span = high - low
    return {int(i): (float(s) - low) / span for i, s in scores.items()}


def weighted_fusion(vector: Mapping[int, float], keyword: Mapping[int, float], weight: float
                    ) -> list[tuple[int, float]]:
    """``weight · norm(vector) + (1 − weight) · norm(keyword)``, each side min-max normalised.

    ``weight`` is the share of the vector side (0 = keyword only, 1 = vector only). An id missing
    from one side contributes 0 from that side. Ids < 0 are ignored.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"融合权重必须在 0 到 1 之间：{weight}")
    vec = _min_max({i: s for i, s in vector.items() if int(i) >= 0})
    kw = _min_max({i: s for i, s in keyword.items() if int(i) >= 0})
    fused = {i: weight * vec.get(i, 0.0) + (1.0 - weight) * kw.get(i, 0.0) for i in vec.keys() | kw.keys()}
    return _sorted(fused)
