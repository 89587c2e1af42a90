"""The real-register evaluation: fixed halves, alias mapping and the metrics, checked by hand."""

import json

import pytest

from nlp.evaluation.realdev import Prediction, half_of, load_realdev, score


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


ROWS = [
    {"id": "T-1", "kind": "finding", "text": "公务接待不规范", "focus": 2, "discipline": "廉洁纪律",
     "checklist": ["OLD-1"], "topic": "接待", "is_finding": True},
    {"id": "T-2", "kind": "finding", "text": "理论学习不深入", "focus": 1, "discipline": None,
     "checklist": ["A4-01", "GONE"], "topic": "学习", "is_finding": True},
    {"id": "T-3", "kind": "petition", "text": "路灯坏了三个月", "focus": None, "discipline": None,
     "checklist": [], "topic": "路灯", "is_finding": False},
    {"id": "T-4", "kind": "petition", "text": "村主任帮我们修了路，谢谢", "focus": None, "discipline": None,
     "checklist": [], "topic": "感谢", "is_finding": False},
    {"id": "T-5", "kind": "minutes", "text": "会议未经集体研究直接决定", "focus": 3, "discipline": "工作纪律",
     "checklist": ["A3-01"], "topic": "三重一大", "is_finding": True},
]


def _resolve(item_id):
    if item_id == "GONE":
        raise KeyError(item_id)
    return {"OLD-1": "C2-01"}.get(item_id, item_id)


def test_halves_are_fixed_and_disjoint(tmp_path):
    path = tmp_path / "set.jsonl"
    _write(path, ROWS)
    choose = {e.id for e in load_realdev([path], "choose")}
    report = {e.id for e in load_realdev([tmp_path], "report")}  # a folder reads every .jsonl in it
    assert choose | report == {r["id"] for r in ROWS} and not choose & report
    assert all(half_of(i) == "choose" for i in choose)
    with pytest.raises(ValueError):
        load_realdev([path], "train")


def test_aliases_are_resolved_and_unknown_ids_dropped(tmp_path):
    path = tmp_path / "set.jsonl"
    _write(path, ROWS)
    examples = {e.id: e for e in load_realdev([path], "all", _resolve)}
    assert examples["T-1"].items == ("C2-01",)
    assert examples["T-2"].items == ("A4-01",)


def test_metrics_by_hand(tmp_path):
    path = tmp_path / "set.jsonl"
    _write(path, ROWS)
    examples = load_realdev([path], "all", _resolve)
    predictions = [
        Prediction(True, 2, "廉洁纪律", ("C2-01", "C2-02")),   # all right
        Prediction(True, 3, "无", ("B1-01", "A4-01")),         # focus wrong, discipline null right, top-3 hit
        Prediction(True, None, None, ()),                        # a false positive
        Prediction(False, None, None, ()),
        Prediction(False, 4, "组织纪律", ("A3-02",)),          # missed; focus 4 counts as none
    ]
    s = score("t", examples, predictions)
    assert s.overall.finding.precision == pytest.approx(2 / 3)
    assert s.overall.finding.recall == pytest.approx(2 / 3)
    assert s.overall.false_positive_rate == pytest.approx(1 / 2)
    assert s.per_kind["petition"].false_positives == 1 and s.per_kind["petition"].negatives == 2
    assert s.focus_accuracy == pytest.approx(1 / 3)
    assert s.discipline_accuracy == pytest.approx(1 / 2)      # T-1 right, T-5 wrong
    assert s.discipline_accuracy_all == pytest.approx(2 / 3)  # plus T-2's null
    assert s.top1 == pytest.approx(1 / 3) and s.top3 == pytest.approx(2 / 3)


def test_item_figures_within_the_annotators_label_space(tmp_path):
    """An item written after the set was labelled can never be its gold: the label-space figures
    rank without it, the plain figures count it as a miss."""
    path = tmp_path / "set.jsonl"
    _write(path, ROWS)
    examples = load_realdev([path], "all", _resolve)
    predictions = [
        Prediction(True, 2, "廉洁纪律", ("NEW-1", "C2-01"), ("NEW-1", "C2-01", "C2-02")),
        Prediction(True, 1, None, ("NEW-1", "NEW-2", "B1-01"), ("NEW-1", "NEW-2", "B1-01", "A4-01")),
        Prediction(False, None, None, ()),
        Prediction(False, None, None, ()),
        Prediction(True, 3, "工作纪律", ("A3-01",)),  # no full ranking: left out of the label-space figures
    ]
    s = score("t", examples, predictions, newer_items=frozenset({"NEW-1", "NEW-2"}))
    assert s.top1 == pytest.approx(1 / 3) and s.top3 == pytest.approx(2 / 3)
    assert s.top1_label_space == pytest.approx(1 / 2)  # T-1 now C2-01 first; T-2 B1-01 first
    assert s.top3_label_space == pytest.approx(1.0)    # T-2's A4-01 moves into the top 3


def test_label_figures_by_kind_and_annotator_confidence(tmp_path):
    """Each slice is scored on its own problems; texts without a confidence are left out of that view."""
    rows = [dict(r) for r in ROWS]
    rows[0]["confidence"], rows[1]["confidence"], rows[4]["confidence"] = "high", "medium", "high"
    path = tmp_path / "set.jsonl"
    _write(path, rows)
    examples = load_realdev([path], "all", _resolve)
    assert [e.confidence for e in examples] == ["high", "medium", "", "", "high"]
    predictions = [
        Prediction(True, 2, "廉洁纪律", ("C2-01", "C2-02")),
        Prediction(True, 3, "无", ("B1-01", "A4-01")),
        Prediction(False, None, None, ()),
        Prediction(False, None, None, ()),
        Prediction(True, 3, "组织纪律", ("A3-02", "B1-01", "A3-01")),
    ]
    s = score("t", examples, predictions)
    finding, minutes = s.labels_by_kind["finding"], s.labels_by_kind["minutes"]
    assert set(s.labels_by_kind) == {"finding", "minutes"}  # petitions here are no problems
    assert (finding.problems, finding.focus_accuracy, finding.top1, finding.top3) == (2, 0.5, 0.5, 1.0)
    assert (finding.labelled, finding.discipline_accuracy) == (1, 1.0)
    assert (minutes.focus_accuracy, minutes.discipline_accuracy, minutes.top1, minutes.top3) == (1.0, 0.0, 0.0, 1.0)
    high, medium = s.labels_by_confidence["high"], s.labels_by_confidence["medium"]
    assert (high.problems, high.focus_accuracy, high.discipline_accuracy, high.top1) == (2, 1.0, 0.5, 0.5)
    assert (medium.problems, medium.focus_accuracy, medium.labelled, medium.top3) == (1, 0.0, 0, 1.0)
    assert s.top1 == pytest.approx(1 / 3) and s.focus_accuracy == pytest.approx(2 / 3)


def test_the_eval_command_prints_the_label_slices(tmp_path):
    from service.commands.common import console
    from service.commands.realdev import _print_tagging

    rows = [dict(r, confidence="medium" if r["id"] == "T-2" else "high") for r in ROWS]
    path = tmp_path / "set.jsonl"
    _write(path, rows)
    examples = load_realdev([path], "all", _resolve)
    predictions = [Prediction(e.is_finding, e.focus, e.discipline, e.items) for e in examples]  # all right
    with console.capture() as captured:
        _print_tagging([score("xuncha 标注模型", examples, predictions)], "all")
    printed = captured.get()
    assert "按材料类型：标签" in printed and "问题表述（2）" in printed and "会议/谈话（1）" in printed
    assert "标注把握高（2）" in printed and "1.000 / 1.000 / 1.000 / 1.000" in printed
    assert "标注把握中（1）" in printed and "1.000 / — / 1.000 / 1.000" in printed  # no labelled discipline
