"""Fusion math on hand-made rankings."""

from __future__ import annotations

import pytest

from index.fusion import reciprocal_rank_fusion, weighted_fusion


def test_rrf_hand_computed():
    fused = dict(reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[4] == pytest.approx(1 / 63)
    order = [i for i, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], k=60)]
    assert order == [1, 3, 2, 4]  # 1/61+1/62 > 1/61+1/63


def test_rrf_small_k_and_ties():
    assert reciprocal_rank_fusion([[5, 6], [6, 5]], k=0) == [(5, 1.5), (6, 1.5)]  # tie: by id
    assert reciprocal_rank_fusion([], k=60) == [] and reciprocal_rank_fusion([[]]) == []


def test_rrf_skips_empty_slots_and_duplicates():
    fused = dict(reciprocal_rank_fusion([[7, -1, 8, 7], [-1, -1, 8]], k=1))
    assert fused == {7: pytest.approx(1 / 2), 8: pytest.approx(1 / 3 + 1 / 2)}
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[1]], k=-1)


def test_weighted_fusion_hand_computed():
    vector = {1: 0.9, 2: 0.7, 3: 0.5}  # normalised: 1.0, 0.5, 0.0
    keyword = {2: 12.0, 4: 4.0, 3: 8.0}  # normalised: 1.0, 0.0, 0.5
    fused = dict(weighted_fusion(vector, keyword, 0.6))
    assert fused[1] == pytest.approx(0.6)
    assert fused[2] == pytest.approx(0.6 * 0.5 + 0.4 * 1.0)
    assert fused[3] == pytest.approx(0.4 * 0.5)
    assert fused[4] == pytest.approx(0.0)
    assert [i for i, _ in weighted_fusion(vector, keyword, 0.6)] == [2, 1, 3, 4]


def test_weighted_fusion_edges():
    vector, keyword = {1: 0.3, 2: 0.8}, {1: 5.0, 3: 1.0}
    assert [i for i, _ in weighted_fusion(vector, keyword, 1.0)][:1] == [2]
    assert [i for i, _ in weighted_fusion(vector, keyword, 0.0)][:1] == [1]
    assert weighted_fusion({4: 0.2}, {}, 0.5) == [(4, 0.5)]  # single value -> 1.0
    assert weighted_fusion({}, {}, 0.5) == []
    assert weighted_fusion({-1: 1.0, 5: 0.1}, {}, 1.0) == [(5, 1.0)]
    with pytest.raises(ValueError):
        weighted_fusion(vector, keyword, 1.5)
