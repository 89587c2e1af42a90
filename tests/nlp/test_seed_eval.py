"""Seed-report evaluation: offsets-only gold labels, pipeline segments mapped back to file offsets,
precision of flagged segments and recall of gold findings, and detection of changed files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from nlp.checklist import load_checklist
from nlp.evaluation.seeds import (
    LABELS_PATH,
    GoldSentence,
    Segment,
    default_seeds_dir,
    evaluate_seeds,
    format_scores,
    load_hashes,
    load_labels,
    main,
    pipeline_segments,
    score_file,
    sentence_spans,
)

# Our own sentences (never seed text). Findings are marked by the sentences listed in FINDINGS.
DOC_A = (
    "关于某局巡察情况的报告\n"
    "巡察组于三月进驻某局开展常规巡察。\n"
    "巡察发现，该局存在公务接待不规范问题，部分接待无公函。\n"
    "　　有的科室存在违规发放津补贴问题。\n"
    "要严防已经存在的隐患扩大，做到早发现早处置。\n"
    "班子成员落实一岗双责不到位。\n"
    "下一步，我们将督促该局认真整改，切实抓好落实。\n"
)
DOC_B = (
    "该局党组会议记录缺失。部分决策存在先定后议情况，未经集体研究。\n"
    "\n"
    "感谢各位领导的指导和帮助。\n"
)
FINDINGS = {
    "巡察发现，该局存在公务接待不规范问题，部分接待无公函。",
    "有的科室存在违规发放津补贴问题。",
    "班子成员落实一岗双责不到位。",
    "该局党组会议记录缺失。",
    "部分决策存在先定后议情况，未经集体研究。",
}


def flags_cunzai(texts: list[str]) -> list[bool]:
    return ["存在" in text for text in texts]


def _write_set(root: Path, docs: dict[str, str]) -> tuple[Path, Path]:
    seeds, labels_dir = root / "seeds", root / "labels"
    seeds.mkdir()
    labels_dir.mkdir()
    rows, table = [], ["| file | sha256 |", "| --- | --- |"]
    for name, text in docs.items():
        data = text.encode("utf-8")
        (seeds / name).write_bytes(data)
        table.append(f"| {name} | {hashlib.sha256(data).hexdigest()} |")
        for start, end in sentence_spans(text):
            finding = text[start:end] in FINDINGS
            rows.append({"file": name, "start": start, "end": end, "is_finding": finding,
                         **({"focus": 2, "items": []} if finding else {})})
    labels = labels_dir / "labels.jsonl"
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (labels_dir / "README.md").write_text("\n".join(table) + "\n", encoding="utf-8")
    return seeds, labels


def test_sentence_spans_cut_at_ends_lines_and_list_markers():
    text = "　　> 一、总体情况\n巡察发现问题较多；有的单位账目不清！其一，制度缺失，二是执行不力。\n\n"
    units = [text[a:b] for a, b in sentence_spans(text)]
    assert units == ["一、总体情况", "巡察发现问题较多；", "有的单位账目不清！", "其一，制度缺失，", "二是执行不力。"]


def test_pipeline_segments_map_back_to_file_offsets(tmp_path):
    data = DOC_A.encode("utf-8")
    segments = pipeline_segments(data, "a.txt")
    texts = [s.text for s in segments]
    assert "关于某局巡察情况的报告" not in texts  # the title line is not a candidate
    assert len(segments) == 6
    for segment in segments:
        assert DOC_A[segment.start:segment.end] == segment.text  # this text needs no normalisation
    indented = next(s for s in segments if s.text.startswith("有的科室"))
    assert DOC_A[indented.start - 1] == "　"  # the full-width indent is outside the segment


def test_evaluate_seeds_matches_hand_computed_scores(tmp_path):
    seeds, labels = _write_set(tmp_path, {"a.txt": DOC_A, "b.txt": DOC_B})
    scores = evaluate_seeds(flags_cunzai, seeds, labels)

    assert scores.problems == []
    assert scores.files == ["a.txt", "b.txt"]
    assert scores.segments == 9 and scores.gold_findings == 5 and scores.segments_on_findings == 5
    tagger = scores.systems[0]
    # flagged: A 接待 ✓, A 津补贴 ✓, A 严防隐患 ✗ ; B 先定后议 ✓  → 3/4
    # found:   A 接待, A 津补贴 (not 一岗双责) ; B 先定后议 (not 记录缺失) → 3/5
    assert (tagger.total.flagged, tagger.total.correct, tagger.total.found) == (4, 3, 3)
    assert tagger.total.precision == pytest.approx(0.75)
    assert tagger.total.recall == pytest.approx(0.6)
    assert tagger.files["a.txt"].precision == pytest.approx(2 / 3)
    assert tagger.files["a.txt"].recall == pytest.approx(2 / 3)
    assert tagger.files["b.txt"].precision == pytest.approx(1.0)
    assert tagger.files["b.txt"].recall == pytest.approx(0.5)

    everything = scores.system("全部标为问题（基线）")
    assert everything.total.precision == pytest.approx(5 / 9)
    assert everything.total.recall == pytest.approx(1.0)
    assert "清单关键词匹配（基线）" in [s.name for s in scores.systems]
    table = format_scores(scores)
    assert "0.750" in table and "3/5" in table


def test_changed_file_is_reported_and_skipped(tmp_path):
    seeds, labels = _write_set(tmp_path, {"a.txt": DOC_A, "b.txt": DOC_B})
    (seeds / "b.txt").write_text(DOC_B.replace("缺失", "不全"), encoding="utf-8")
    scores = evaluate_seeds(flags_cunzai, seeds, labels, baselines=False)

    assert scores.files == ["a.txt"]
    assert len(scores.problems) == 1
    assert scores.problems[0].startswith("b.txt：文件内容已改变")
    assert (scores.systems[0].total.flagged, scores.systems[0].total.found) == (3, 2)
    assert "注意：b.txt：文件内容已改变" in format_scores(scores)


def test_missing_file_and_missing_hash_are_reported(tmp_path):
    seeds, labels = _write_set(tmp_path, {"a.txt": DOC_A, "b.txt": DOC_B})
    (seeds / "a.txt").unlink()
    readme = labels.with_name("README.md")
    readme.write_text("\n".join(line for line in readme.read_text().splitlines() if "b.txt" not in line))
    scores = evaluate_seeds(flags_cunzai, seeds, labels, baselines=False)
    assert scores.files == []
    assert any(p.startswith("a.txt：") and "找不到" in p for p in scores.problems)
    assert any(p.startswith("b.txt：") and "sha256" in p for p in scores.problems)


def test_score_file_uses_best_overlap_and_half_coverage():
    gold = [GoldSentence(0, 10, True), GoldSentence(10, 30, False), GoldSentence(30, 50, True)]
    segments = [Segment("x", 2, 14), Segment("y", 14, 30), Segment("z", 30, 39), Segment("w", 39, 50)]
    # segment 0 overlaps gold 0 by 8 and gold 1 by 4 → finding; 2 and 3 together cover gold 2
    score = score_file(segments, [True, True, False, True], gold)
    assert (score.flagged, score.correct) == (3, 2)
    assert (score.gold_findings, score.found) == (2, 2)  # gold 0 covered 8/10, gold 2 covered 11/20
    assert score_file(segments, [True, False, False, False], gold).found == 1
    assert score_file(segments, [False, False, True, False], gold).found == 0  # 9/20 < half


def test_cli_without_seeds_dir_says_so(tmp_path, capsys):
    assert main(["--seeds", str(tmp_path / "nowhere")]) == 2
    assert "找不到种子报告目录" in capsys.readouterr().err


def test_repo_labels_store_offsets_only():
    allowed = {"file", "start", "end", "is_finding", "focus", "items", "self"}
    ids = {item.id for item in load_checklist().items}
    rows = [json.loads(line) for line in LABELS_PATH.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500
    for row in rows:
        assert set(row) <= allowed
        assert isinstance(row["start"], int) and isinstance(row["end"], int) and row["start"] < row["end"]
        if row["is_finding"]:
            assert row["focus"] in (1, 2, 3, None)
            assert len(row["items"]) <= 3 and set(row["items"]) <= ids
        else:
            assert "focus" not in row and "items" not in row and "self" not in row
    hashes = load_hashes(LABELS_PATH.with_name("README.md"))
    assert set(hashes) == {row["file"] for row in rows}


SEEDS = default_seeds_dir()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seed reports are not available")
def test_real_seed_labels_lie_on_sentence_boundaries():
    gold = load_labels(LABELS_PATH)
    hashes = load_hashes(LABELS_PATH.with_name("README.md"))
    for name, sentences in gold.items():
        data = (SEEDS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == hashes[name], f"{name} changed since it was labelled"
        text = data.decode("utf-8")
        assert all(0 <= s.start < s.end <= len(text) for s in sentences)
        # every label is exactly one unit of the sentence splitter, and every unit is labelled
        assert [(s.start, s.end) for s in sentences] == sentence_spans(text)
        for s in sentences:
            assert text[s.start] not in " \u3000\n" and text[s.end - 1] not in " \u3000\n"
            assert s.end == len(text) or text[s.end - 1] in "。！？!?；;”’」』）)》" or text[s.end] in "\n" \
                or text[s.end:].lstrip("，,：: ")[:1] in "一二三四五六七八九十其（("


def test_operating_point_is_best_precision_at_required_recall(tmp_path):
    seeds, labels = _write_set(tmp_path, {"a.txt": DOC_A, "b.txt": DOC_B})

    def score(texts: list[str]) -> list[float]:
        return [1.0 if "存在" in t else 0.5 if ("不到位" in t or "缺失" in t) else 0.0 for t in texts]

    scores = evaluate_seeds(flags_cunzai, seeds, labels, baselines=False, score_fn=score)
    # threshold 1.0 → recall 3/5 (too low); 0.5 → 6 flagged, 5 correct, recall 5/5; 0.0 → 5/9
    threshold, precision, recall = scores.operating_point
    assert threshold == 0.5 and precision == pytest.approx(5 / 6) and recall == 1.0
    assert "召回率 ≥ 0.8 的最高精确率为 0.833" in format_scores(scores)
    assert evaluate_seeds(flags_cunzai, seeds, labels, baselines=False).operating_point is None


def test_tag_fn_gets_document_kind_and_roles_when_it_takes_them(tmp_path):
    seeds, labels = _write_set(tmp_path, {"a.txt": DOC_A, "b.txt": DOC_B})
    seen = []

    def tag(texts: list[str], kind: str | None = None, roles: list[str] | None = None) -> list[bool]:
        seen.append((kind, len(roles), len(texts)))
        return flags_cunzai(texts)

    scores = evaluate_seeds(tag, seeds, labels, baselines=False)
    assert scores.systems[0].total.precision == pytest.approx(0.75)
    assert [(n_roles, n_texts) for _, n_roles, n_texts in seen] == [(6, 6), (3, 3)]
    assert all(kind in {"minutes", "petition", "interview", "other"} for kind, _, _ in seen)
