"""Evaluate finding detection on the five real seed work reports (``../shared/seeds``).

The gold standard is ``corpora/eval/seeds/labels.jsonl``: one line per sentence of every seed file,
``{"file", "start", "end", "is_finding", "focus", "items"}`` with character offsets into the file
decoded as UTF-8. No seed text is stored in the repository; ``README.md`` beside the labels keeps
the SHA-256 of every file so that a changed file is reported instead of silently mis-scored.

Each seed file goes through the real ingest path up to segmentation (parse → normalise → kind →
segment, :func:`nlp.pipeline.analyse`); segment offsets are mapped back to the file through the
normaliser's offset map and the text parser's lines. Every pipeline segment is matched to the gold
sentence it overlaps most. A flagged segment is correct when that sentence is a finding; a gold
finding sentence is found when flagged segments cover at least half of it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

REPO = Path(__file__).resolve().parents[2]
LABELS_PATH = REPO / "corpora" / "eval" / "seeds" / "labels.jsonl"
README_PATH = LABELS_PATH.with_name("README.md")
FOUND_SHARE = 0.5  # a gold finding is found when flagged segments cover this share of it

TagFn = Callable[[list[str]], list[bool]]

# ---------------------------------------------------------------------------------------------
# Gold sentence units
# ---------------------------------------------------------------------------------------------

_EDGE = " \t\u3000\u00a0\r>＞"
_END = "。！？!?；;"
_CLOSERS = "”’」』）)》"
# list markers that start a new unit inside a line when they follow a comma or a colon
_INLINE_MARKER = re.compile(
    r"(?<=[，,：:])\s*(?=(?:[一二三四五六七八九十]+[是要]|其[一二三四五六七八九十][，,]"
    r"|[（(](?:\d{1,2}|[一二三四五六七八九十]{1,3})[）)]))"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Gold units of ``text``: ``(start, end)`` of every sentence or list item, in order.

    A unit ends after 。！？；(and their ASCII forms, with a closing quote or bracket that follows)
    and at a line break; a list marker (一是/二要/（一）/(1)) after a comma or colon starts a new
    one. Leading and trailing blanks (and the ``>`` quote marks some reports carry) are left out.
    Units without a Chinese character are dropped.
    """
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        cuts = {0, len(line)}
        for index, char in enumerate(line):
            if char in _END:
                end = index + 1
                while end < len(line) and line[end] in _CLOSERS:
                    end += 1
                cuts.add(end)
        cuts.update(m.end() for m in _INLINE_MARKER.finditer(line))
        bounds = sorted(cuts)
        for a, b in zip(bounds, bounds[1:]):
            piece = line[a:b]
            core = piece.strip(_EDGE)
            if not _CJK.search(core):
                continue
            start = line_start + a + piece.index(core)
            spans.append((start, start + len(core)))
    return spans


# ---------------------------------------------------------------------------------------------
# Gold labels and file checks
# ---------------------------------------------------------------------------------------------

_HASH_ROW = re.compile(r"(?P<file>[\w.\-]+\.txt)\W+(?P<sha>[0-9a-f]{64})\b")


@dataclass(frozen=True)
class GoldSentence:
    start: int
    end: int
    is_finding: bool
    self_critique: bool = False  # the author's own shortcoming (``"self": true``)
    focus: int | None = None
    items: tuple[str, ...] = ()

    @property
    def strict_finding(self) -> bool:
        """A finding about an inspected unit or person (the author's own shortcomings excluded)."""
        return self.is_finding and not self.self_critique


def load_labels(labels_path: Path) -> dict[str, list[GoldSentence]]:
    """Gold sentences per file name, sorted by offset."""
    gold: dict[str, list[GoldSentence]] = {}
    with Path(labels_path).open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not (isinstance(row.get("start"), int) and isinstance(row.get("end"), int)
                    and 0 <= row["start"] < row["end"]):
                raise ValueError(f"{labels_path}:{number}: bad offsets {row.get('start')}–{row.get('end')}")
            gold.setdefault(row["file"], []).append(GoldSentence(
                row["start"], row["end"], bool(row["is_finding"]), bool(row.get("self")),
                row.get("focus"), tuple(row.get("items") or ())))
    for sentences in gold.values():
        sentences.sort(key=lambda s: s.start)
    return gold


def load_hashes(readme_path: Path) -> dict[str, str]:
    """``file name → sha256`` from the table in the labels' README (empty when there is none)."""
    if not Path(readme_path).exists():
        return {}
    return {m["file"]: m["sha"] for m in _HASH_ROW.finditer(Path(readme_path).read_text(encoding="utf-8"))}


def check_file(name: str, data: bytes, sentences: list[GoldSentence], expected_sha: str | None) -> str | None:
    """Why the labels of ``name`` cannot be trusted for ``data`` (Chinese), or None when they can."""
    if expected_sha is None:
        return f"{name}：标注说明中没有该文件的 sha256，无法确认文件未被改动，已跳过"
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha:
        return (f"{name}：文件内容已改变（sha256 为 {actual[:12]}…，标注时为 {expected_sha[:12]}…），"
                "原有字符位置标注不再可靠，已跳过；请重新标注或恢复原文件")
    try:
        length = len(data.decode("utf-8"))
    except UnicodeDecodeError:
        return f"{name}：文件不是 UTF-8 编码，标注位置无法对应，已跳过"
    beyond = [s for s in sentences if s.end > length]
    if beyond:
        return f"{name}：有 {len(beyond)} 条标注超出文件长度（{length} 字），已跳过"
    return None


# ---------------------------------------------------------------------------------------------
# Pipeline segments in file offsets
# ---------------------------------------------------------------------------------------------


def _parsed_to_file(parsed_text: str, blocks: Sequence[str], file_text: str) -> list[int]:
    """For every character of the parsed text, its offset in ``file_text``.

    The text parser keeps each non-blank line, stripped, as one block and joins the blocks with a
    newline; every block is found in order in the file, and a separator maps to the end of its block.
    """
    origin: list[int] = []
    cursor = 0
    for index, block in enumerate(blocks):
        position = file_text.find(block, cursor)
        if position < 0:
            raise ValueError("a parsed block is not found in the file text")
        origin.extend(range(position, position + len(block)))
        cursor = position + len(block)
        if index < len(blocks) - 1:
            origin.append(cursor)
    if len(origin) != len(parsed_text):
        raise ValueError("parsed text and blocks disagree")
    return origin


@dataclass(frozen=True)
class Segment:
    text: str
    start: int  # offsets in the file decoded as UTF-8
    end: int
    role: str = "statement"  # the segmenter's role (statement, question, answer, row…)


def pipeline_segments(data: bytes, filename: str) -> list[Segment]:
    """Candidate findings of the real ingest path (parse → normalise → kind → segment), file offsets."""
    return analyse_file(data, filename)[0]


def analyse_file(data: bytes, filename: str) -> tuple[list[Segment], str]:
    """Pipeline segments in file offsets and the document kind the pipeline detected."""
    from nlp import parsing
    from nlp.pipeline import analyse

    parsed = parsing.parse_bytes(data, filename, ocr=False)
    if parsed.media_type != "text":
        raise ValueError("seed files must be text files")
    analysis = analyse(parsed)
    file_text = data.decode("utf-8")
    to_file = _parsed_to_file(parsed.text, [b.text for b in parsed.blocks], file_text)
    segments = []
    for finding in analysis.findings:
        start, end = analysis.normalized.source_span(finding.start, finding.end)
        segments.append(Segment(finding.text, to_file[start], to_file[end - 1] + 1, finding.role))
    return segments, analysis.kind.kind.value


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


@dataclass
class Score:
    segments: int = 0
    flagged: int = 0
    correct: int = 0  # flagged segments whose best-overlapping gold sentence is a finding
    gold_findings: int = 0
    found: int = 0  # gold findings covered ≥ FOUND_SHARE by flagged segments

    @property
    def precision(self) -> float:
        return self.correct / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold_findings if self.gold_findings else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __iadd__(self, other: Score) -> Score:
        for name in ("segments", "flagged", "correct", "gold_findings", "found"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def as_dict(self) -> dict:
        return {"segments": self.segments, "flagged": self.flagged, "correct": self.correct,
                "precision": round(self.precision, 4), "gold_findings": self.gold_findings,
                "found": self.found, "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass
class SystemScores:
    """One system (the tagger or a baseline) on the seeds; ``strict`` excludes self-critique."""

    name: str
    total: Score = field(default_factory=Score)
    strict: Score = field(default_factory=Score)
    files: dict[str, Score] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"name": self.name, "total": self.total.as_dict(), "strict": self.strict.as_dict(),
                "files": {name: score.as_dict() for name, score in self.files.items()}}


@dataclass
class SeedScores:
    systems: list[SystemScores]
    files: list[str]  # files scored
    segments: int = 0
    gold_sentences: int = 0
    gold_findings: int = 0
    segments_on_findings: int = 0  # pipeline segments whose best gold sentence is a finding
    unmatched_segments: int = 0  # segments overlapping no gold sentence
    problems: list[str] = field(default_factory=list)  # files skipped and why (Chinese)
    operating_point: tuple[float, float, float] | None = None  # see evaluate_seeds(score_fn=…)

    def system(self, name: str) -> SystemScores:
        return next(s for s in self.systems if s.name == name)

    def as_dict(self) -> dict:
        return {"files": self.files, "segments": self.segments, "gold_sentences": self.gold_sentences,
                "gold_findings": self.gold_findings, "segments_on_findings": self.segments_on_findings,
                "unmatched_segments": self.unmatched_segments, "problems": self.problems,
                "operating_point": self.operating_point,
                "systems": [s.as_dict() for s in self.systems]}


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def best_gold(segment: Segment, sentences: list[GoldSentence], starts: list[int]) -> GoldSentence | None:
    """The gold sentence ``segment`` overlaps most (the earlier one on a tie), or None."""
    first = max(0, bisect.bisect_right(starts, segment.start) - 1)
    best, best_overlap = None, 0
    for sentence in sentences[first:]:
        if sentence.start >= segment.end:
            break
        overlap = _overlap((segment.start, segment.end), (sentence.start, sentence.end))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def score_file(segments: list[Segment], flags: Sequence[bool], sentences: list[GoldSentence],
               strict: bool = False) -> Score:
    """Precision of flagged segments and recall of gold findings on one file."""
    is_finding = (lambda s: s.strict_finding) if strict else (lambda s: s.is_finding)
    starts = [s.start for s in sentences]
    score = Score(segments=len(segments))
    for segment, flag in zip(segments, flags, strict=True):
        if flag:
            score.flagged += 1
            gold = best_gold(segment, sentences, starts)
            score.correct += bool(gold is not None and is_finding(gold))
    flagged = [(s.start, s.end) for s, flag in zip(segments, flags) if flag]
    for sentence in sentences:
        if not is_finding(sentence):
            continue
        score.gold_findings += 1
        covered = _covered((sentence.start, sentence.end), flagged)
        score.found += covered >= FOUND_SHARE * (sentence.end - sentence.start)
    return score


def _covered(span: tuple[int, int], pieces: list[tuple[int, int]]) -> int:
    """Characters of ``span`` covered by the union of ``pieces``."""
    clipped = sorted((max(a, span[0]), min(b, span[1])) for a, b in pieces if a < span[1] and b > span[0])
    total, reach = 0, span[0]
    for a, b in clipped:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def keyword_flags(texts: list[str]) -> list[bool]:
    """Baseline: a segment is flagged when it contains a keyword or synonym of any checklist item."""
    from nlp.checklist import load_checklist

    terms = sorted({t for item in load_checklist().items for t in (*item.keywords, *item.synonyms) if len(t) >= 2})
    return [any(term in text for term in terms) for text in texts]


def evaluate_seeds(tag_fn: TagFn, seeds_dir: Path, labels_path: Path = LABELS_PATH, *,
                   baselines: bool = True, name: str = "xuncha 标注模型",
                   score_fn: Callable[[list[str]], Sequence[float]] | None = None,
                   min_recall: float = 0.8) -> SeedScores:
    """Score ``tag_fn`` (is-finding per segment text) on the seed files against the gold labels.

    Each seed file named in the labels is checked against the sha256 in the README beside the labels;
    a changed, missing or unreadable file is skipped and reported in ``problems``. With
    ``baselines`` the same segments are also scored for "every segment flagged" (the precision floor)
    and a checklist-keyword match. When ``tag_fn`` also takes the keyword arguments ``kind`` (the
    document kind the pipeline detected) or ``roles`` (each segment's role), it gets them, as the
    ingest path does. With ``score_fn`` (a finding score per segment) the best
    precision reachable at recall ≥ ``min_recall`` by moving the threshold is reported too — a
    diagnostic of the gap to the goal, not a threshold to adopt (that would be tuning on the test).
    """
    seeds_dir, labels_path = Path(seeds_dir), Path(labels_path)
    accepted = _keywords(tag_fn)
    gold = load_labels(labels_path)
    hashes = load_hashes(labels_path.with_name("README.md"))
    systems = [SystemScores(name)]
    if baselines:
        systems += [SystemScores("全部标为问题（基线）"), SystemScores("清单关键词匹配（基线）")]
    result = SeedScores(systems, [])
    scored: list[tuple[list[Segment], list[GoldSentence], list[float]]] = []
    for filename in sorted(gold):
        path = seeds_dir / filename
        if not path.is_file():
            result.problems.append(f"{filename}：在 {seeds_dir} 中找不到该文件，已跳过")
            continue
        data = path.read_bytes()
        sentences = gold[filename]
        problem = check_file(filename, data, sentences, hashes.get(filename))
        if problem:
            result.problems.append(problem)
            continue
        segments, kind = analyse_file(data, filename)
        texts = [s.text for s in segments]
        context = {"kind": kind, "roles": [s.role for s in segments]}
        extra = {key: value for key, value in context.items() if key in accepted}
        flags = [bool(f) for f in tag_fn(texts, **extra)] if texts else []
        if len(flags) != len(texts):
            raise ValueError(f"tag_fn returned {len(flags)} flags for {len(texts)} segments")
        all_flags = [flags]
        if baselines:
            all_flags += [[True] * len(texts), keyword_flags(texts)]
        for system, system_flags in zip(systems, all_flags):
            per_file = score_file(segments, system_flags, sentences)
            system.files[filename] = per_file
            system.total += per_file
            system.strict += score_file(segments, system_flags, sentences, strict=True)
        starts = [s.start for s in sentences]
        matched = [best_gold(s, sentences, starts) for s in segments]
        result.files.append(filename)
        result.segments += len(segments)
        result.gold_sentences += len(sentences)
        result.gold_findings += sum(s.is_finding for s in sentences)
        result.segments_on_findings += sum(bool(m and m.is_finding) for m in matched)
        result.unmatched_segments += sum(m is None for m in matched)
        if score_fn is not None:
            scored.append((segments, sentences, [float(x) for x in score_fn(texts)] if texts else []))
    if score_fn is not None:
        result.operating_point = best_operating_point(scored, min_recall)
    return result


def _keywords(function: Callable) -> set[str]:
    import inspect

    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name in ("kind", "roles") if name in parameters}


def best_operating_point(scored: list[tuple[list[Segment], list[GoldSentence], list[float]]],
                         min_recall: float) -> tuple[float, float, float] | None:
    """``(threshold, precision, recall)`` with the best precision at recall ≥ ``min_recall``."""
    thresholds = sorted({x for _, _, scores in scored for x in scores}, reverse=True)
    best = None
    for threshold in thresholds:
        total = Score()
        for segments, sentences, scores in scored:
            total += score_file(segments, [x >= threshold for x in scores], sentences)
        if total.recall >= min_recall and (best is None or total.precision > best[1]):
            best = (threshold, total.precision, total.recall)
    return best


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def default_seeds_dir() -> Path:
    shared = os.environ.get("XUNCHA_SHARED_DIR")
    return (Path(shared) if shared else REPO.parent / "shared") / "seeds"


def _pad(value, width: int, left: bool = False) -> str:
    """``value`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    text = str(value)
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    fill = " " * max(0, width - columns)
    return text + fill if left else fill + text


def format_scores(scores: SeedScores) -> str:
    lines = [f"种子报告评测：{len(scores.files)} 份文件，{scores.segments} 个候选片段，"
             f"金标句子 {scores.gold_sentences} 句，其中问题 {scores.gold_findings} 句；"
             f"落在问题句上的片段 {scores.segments_on_findings} 个，未对上任何句子的片段 {scores.unmatched_segments} 个"]
    lines += [f"注意：{p}" for p in scores.problems]
    heads = ("标为问题", "正确", "精确率", "找到/问题句", "召回率", "F1")
    header = _pad("系统", 26, left=True) + "".join(_pad(h, 12) for h in heads)
    for label, pick in (("全部问题句", lambda s: s.total), ("仅被巡察对象的问题（不含自查不足）", lambda s: s.strict)):
        lines += ["", f"[{label}]", header]
        for system in scores.systems:
            score = pick(system)
            cells = (score.flagged, score.correct, f"{score.precision:.3f}", f"{score.found}/{score.gold_findings}",
                     f"{score.recall:.3f}", f"{score.f1:.3f}")
            lines.append(_pad(system.name, 26, left=True) + "".join(_pad(c, 12) for c in cells))
    lines += ["", f"[按文件：{scores.systems[0].name}]",
              _pad("文件", 26, left=True) + "".join(_pad(h, 12) for h in ("片段", *heads[:-1]))]
    for filename, score in scores.systems[0].files.items():
        cells = (score.segments, score.flagged, score.correct, f"{score.precision:.3f}",
                 f"{score.found}/{score.gold_findings}", f"{score.recall:.3f}")
        lines.append(_pad(filename, 26, left=True) + "".join(_pad(c, 12) for c in cells))
    if scores.operating_point is not None:
        threshold, precision, recall = scores.operating_point
        lines += ["", f"诊断：只调整阈值时，召回率 ≥ 0.8 的最高精确率为 {precision:.3f}"
                      f"（阈值 {threshold:.3f}，召回率 {recall:.3f}）；仅供参考，不应据此在评测集上调阈值"]
    return "\n".join(lines)


def _tagger_functions(tagger):
    """(tag_fn, score_fn) as ingest tags: with the document kind when the tagger takes one, and with
    record roles (questions, form lines) gated out when ``nlp.registers`` provides the gate."""
    import inspect

    takes_kind = "kind" in inspect.signature(tagger.tag).parameters
    from nlp.registers import gate_by_role
    last: dict = {"key": None, "kind": None, "results": []}  # evaluate_seeds scores a file, then its scores

    def results(texts: list[str], kind: str | None) -> list:
        key = (kind, *texts)
        if last["key"] != key:
            last.update(key=key, kind=kind,
                        results=tagger.tag(texts, evidence=False, **({"kind": kind} if takes_kind else {})))
        return last["results"]

    def tag_fn(texts: list[str], kind: str | None = None, roles: list[str] | None = None) -> list[bool]:
        tags = [{"is_finding": r.is_finding, "finding_score": r.finding_score, "checklist": []}
                for r in results(texts, kind)]
        if roles is not None:
            tags = gate_by_role(tags, roles)
        return [t["is_finding"] for t in tags]

    def score_fn(texts: list[str]) -> list[float]:
        return [r.finding_score for r in results(texts, last["kind"])]

    return tag_fn, score_fn


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nlp.evaluation.seeds",
                                     description="在五份真实巡察工作报告上评测“是否问题”的句子级精确率和召回率")
    parser.add_argument("--seeds", type=Path, default=None, help="种子报告目录（默认 $XUNCHA_SHARED_DIR/seeds 或 ../shared/seeds）")
    parser.add_argument("--labels", type=Path, default=LABELS_PATH, help="句子级标注文件（labels.jsonl）")
    parser.add_argument("--json", action="store_true", help="以 JSON 输出")
    args = parser.parse_args(argv)
    seeds_dir = args.seeds or default_seeds_dir()
    if not seeds_dir.is_dir():
        print(f"找不到种子报告目录：{seeds_dir}（可用 --seeds 或环境变量 XUNCHA_SHARED_DIR 指定）", file=sys.stderr)
        return 2
    from service.artefacts import ModelMissing, load_tagger

    try:
        tagger = load_tagger()
    except ModelMissing as error:
        print(str(error), file=sys.stderr)
        return 2
    tag_fn, score_fn = _tagger_functions(tagger)
    scores = evaluate_seeds(tag_fn, seeds_dir, args.labels, score_fn=score_fn)
    print(json.dumps(scores.as_dict(), ensure_ascii=False, indent=2) if args.json else format_scores(scores))
    return 1 if scores.problems and not scores.files else 0


if __name__ == "__main__":
    raise SystemExit(main())
