"""``xuncha eval --data``: tagging and retrieval on a real-register set, beside baselines of the same run."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from nlp.checklist import load_checklist
from nlp.evaluation import realdev
from service import artefacts
from service.commands.common import console, err, print_json
from service.settings import get_settings

KIND_NAMES = {"finding": "问题表述", "case": "通报案例", "petition": "信访件", "minutes": "会议/谈话"}
CONFIDENCE_NAMES = {"high": "标注把握高", "medium": "标注把握中", "low": "标注把握低"}


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def _tagging(paths: list[Path], half: str) -> list[realdev.RealScores]:
    settings = get_settings()
    tagger = artefacts.load_tagger(settings)
    checklist = load_checklist()
    resolve = getattr(checklist, "resolve", lambda item_id: item_id)
    examples = realdev.load_realdev(paths, half, resolve)
    if not examples:
        raise ValueError("评测集中没有样本（检查路径和 --half）")
    other_half = {"choose": "report", "report": "choose"}.get(half, "all")
    tuning = realdev.load_realdev(paths, other_half, resolve)
    embedder = artefacts.embedder_for(settings)
    texts = [e.text for e in examples]
    with console.status(f"在 {len(examples)} 条真实语体样本上评测标注模型和零样本基线…"):
        baseline = realdev.PrototypeBaseline(checklist, embedder.embed_queries).fit(tuning)
        return [
            realdev.score("xuncha 标注模型", examples, realdev.tagger_predictions(tagger, texts)),
            realdev.score("e5 原型零样本基线", examples, baseline.predict(texts)),
        ]


def _print_tagging(systems: list[realdev.RealScores], half: str) -> None:
    table = Table(title=f"真实语体标注评测（{half} 半，{systems[0].n} 条）")
    table.add_column("指标")
    for system in systems:
        table.add_column(system.name, justify="right")
    rows = [
        ("是否问题 精确率", lambda s: s.overall.finding.precision),
        ("是否问题 召回率", lambda s: s.overall.finding.recall),
        ("非问题误报率", lambda s: s.overall.false_positive_rate),
        ("三个聚焦 准确率", lambda s: s.focus_accuracy), ("三个聚焦 macro-F1", lambda s: s.focus_macro_f1),
        ("纪律类别 准确率（标注了纪律的）", lambda s: s.discipline_accuracy),
        ("纪律类别 准确率（含“无”）", lambda s: s.discipline_accuracy_all),
        ("清单条目 top-1", lambda s: s.top1), ("清单条目 top-3", lambda s: s.top3),
        ("清单条目 top-1（限标注时已有条目）", lambda s: s.top1_label_space),
        ("清单条目 top-3（限标注时已有条目）", lambda s: s.top3_label_space),
    ]
    for label, metric in rows:
        table.add_row(label, *(_fmt(metric(s)) for s in systems))
    console.print(table)
    kinds = Table(title="按材料类型：是否问题（精确率 / 召回率 / 非问题误报）")
    kinds.add_column("类型")
    for system in systems:
        kinds.add_column(system.name, justify="right")
    for kind in systems[0].per_kind:
        cells = []
        for system in systems:
            k = system.per_kind[kind]
            fp = f"{k.false_positives}/{k.negatives}" if k.negatives else "—"
            cells.append(f"{_fmt(k.finding.precision)} / {_fmt(k.finding.recall)} / {fp}")
        kinds.add_row(f"{KIND_NAMES.get(kind, kind)}（{systems[0].per_kind[kind].n}）", *cells)
    console.print(kinds)
    _print_label_slices(systems, "按材料类型：标签（三个聚焦 / 纪律 / 条目 top-1 / top-3，仅问题）",
                        lambda s: s.labels_by_kind, KIND_NAMES)
    if systems[0].labels_by_confidence:
        _print_label_slices(systems, "按标注把握度：标签（三个聚焦 / 纪律 / 条目 top-1 / top-3，仅问题）",
                            lambda s: s.labels_by_confidence, CONFIDENCE_NAMES)


def _print_label_slices(systems: list[realdev.RealScores], title: str, slices, names: dict[str, str]) -> None:
    """Where the tags can be trusted: the label figures of each slice, with its problem count."""
    table = Table(title=title)
    table.add_column("切片")
    for system in systems:
        table.add_column(system.name, justify="right")
    for key, first in slices(systems[0]).items():
        cells = [" / ".join(_fmt(v) if n else "—" for v, n in ((c.focus_accuracy, c.problems),
                                                               (c.discipline_accuracy, c.labelled),
                                                               (c.top1, c.with_items), (c.top3, c.with_items)))
                 for c in (slices(system)[key] for system in systems)]
        table.add_row(f"{names.get(key, key)}（{first.problems}）", *cells)
    console.print(table)


def _retrieval(paths: list[Path], half: str):
    try:
        from index.realdev import evaluate_realdev as evaluate_retrieval
    except ImportError:
        return None
    with console.status("评测检索（同主题为相关）…"):
        return evaluate_retrieval(paths, half)


def _print_retrieval(results) -> None:
    bm25 = next((r.mrr10 for r in results if "BM25" in r.name), None)
    table = Table(title="真实语体检索评测（同主题为相关，查询自身除外）")
    for column in ("方法", "MRR@10", "Recall@10", "MRR 相对 BM25"):
        table.add_column(column, justify="right")
    for r in results:
        ratio = f"{r.mrr10 / bm25:.2f}×" if bm25 else "—"
        table.add_row(r.name, _fmt(r.mrr10), _fmt(r.recall10), ratio)
    console.print(table)


def evaluate_realdev(paths: list[Path], half: str, only: str | None, as_json: bool) -> None:
    if only not in (None, "tag", "search"):
        err.print(f"[red]--data 只支持 --only tag 或 --only search（收到：{only}）[/]")
        raise typer.Exit(2)
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        err.print(f"[red]找不到评测数据：{'、'.join(missing)}[/]")
        raise typer.Exit(2)
    report: dict = {"half": half}
    try:
        if only in (None, "tag"):
            systems = _tagging(paths, half)
            report["tagging"] = [asdict(s) for s in systems]
            if not as_json:
                _print_tagging(systems, half)
        if only in (None, "search"):
            results = _retrieval(paths, half)
            if results is not None:
                report["retrieval"] = [asdict(r) for r in results]
                if not as_json:
                    _print_retrieval(results)
    except (artefacts.ModelMissing, ValueError) as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2)
    if as_json:
        print_json(report)
