"""The recheck matching rule, anchors and reasons; the shipped thresholds are the ones bench/recheck.py
chooses on its half of the labelled pairs."""

from __future__ import annotations

import sys
from pathlib import Path

from service.recheck.matching import ANY_ITEM_SIMILARITY, SAME_ITEM_SIMILARITY, Thresholds, decide, reason, shared, \
    text_anchors

ROOT = Path(__file__).resolve().parents[3]


def _kinds(text: str) -> set[tuple[str, str]]:
    return {(a.kind, a.value) for a in text_anchors(text)}


def test_anchors_are_persons_projects_amounts_and_dated_days():
    found = _kinds("2023年9月15日，李建华在镇文化广场建设项目中收受施工方好处费1.2万元。")
    assert {("person", "李建华"), ("money", "12000.0"), ("date", "2023-09-15"), ("project", "镇文化广场建设项目")} <= found
    assert not any(kind == "date" for kind, _ in _kinds("2024年镇里发放补贴没有文件依据。"))  # a bare year is no anchor
    earlier, new = text_anchors("镇干部每人每月多领500元交通补贴。"), text_anchors("今年仍然每月给每名干部发500元。")
    assert [a.describe() for a in shared(new, earlier)] == ["金额“500元”"]
    assert shared(text_anchors("王志强索要回扣三万元。"), text_anchors("李建华收受好处费。")) == []


def test_same_item_needs_close_text_or_a_shared_anchor_and_another_item_needs_near_identical_text():
    anchor = list(text_anchors("李建华收受好处费。"))
    assert decide(True, SAME_ITEM_SIMILARITY, []).repeat
    assert not decide(True, SAME_ITEM_SIMILARITY - 0.01, []).repeat
    assert decide(True, 0.5, anchor).repeat  # the same person under the same item
    assert not decide(False, 0.5, anchor).repeat and not decide(False, ANY_ITEM_SIMILARITY - 0.01, []).repeat
    assert decide(False, ANY_ITEM_SIMILARITY, []).repeat
    assert decide(True, 0.95, []).rank > decide(False, 0.97, []).rank  # the same item ranks first


def test_reasons_name_the_item_the_similarity_against_its_threshold_and_the_anchors():
    anchor = list(text_anchors("李建华收受好处费。"))
    text = reason(decide(True, 0.85, anchor), "C2-01", "违规收受礼品")
    assert "清单条目相同（上轮 C2-01 违规收受礼品）" in text and "0.850，低于同条目阈值 0.89" in text
    assert "人员“李建华”" in text and "认定为同一问题" in text
    assert "跨条目阈值 0.94" in reason(decide(False, 0.9, []), "C2-01", "x") and "无共同" in reason(decide(False, 0.9, []), "C2-01", "x")


def test_shipped_thresholds_are_the_ones_chosen_on_the_choose_half():
    sys.path.insert(0, str(ROOT / "bench"))
    import recheck as bench

    pairs = bench.scored_pairs()
    assert 80 <= len(pairs) <= 120 and {p["label"] for p in pairs} == {"same", "new"}
    chosen, _ = bench.choose([p for p in pairs if bench.half(p["id"]) == "choose"])
    assert chosen == Thresholds()
    precision, recall, _ = bench.run([p for p in pairs if bench.half(p["id"]) == "report"], Thresholds())
    assert precision >= 0.7 and recall >= 0.8
