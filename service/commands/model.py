"""``xuncha train``, ``xuncha tag`` and ``xuncha eval``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from service.commands.common import console, err, read_jsonl_stdin


def train(check: bool = typer.Option(False, "--check", help="只检查模型是否存在且与数据一致"),
          ship_vectors: bool = typer.Option(False, "--ship-vectors",
                                            help="把训练文本的语义向量写入 corpora/vectors/（新增标注数据后运行并提交）")
          ) -> None:
    """用仓库中的负面清单和标注数据（训练集）以及审核反馈训练标注模型。"""
    from rich.progress import track

    from nlp.checklist import load_checklist
    from nlp.dataset import load_examples, train_dev
    from nlp.training import fit_tagger
    from service import artefacts, feedback, shipped_vectors
    from service.settings import get_settings

    settings = get_settings()
    reviewed = feedback.training_examples(settings)
    fingerprint = artefacts.data_fingerprint(json.dumps([e.__dict__ for e in reviewed], ensure_ascii=False).encode())
    meta = artefacts.TaggerMeta.read(settings)
    if check:
        fresh = meta is not None and meta.fingerprint == fingerprint and (settings.models_dir / artefacts.TAGGER_FILE).exists()
        fresh = fresh and artefacts.static_model_current(settings)
        console.print("模型已是最新" if fresh else "模型缺失或已过期，需要运行 xuncha train")
        raise typer.Exit(0 if fresh else 1)
    started = time.perf_counter()
    if not artefacts.static_model_current(settings):
        with console.status("蒸馏检索用静态向量模型（首次约 5 分钟）…"):
            path = artefacts.build_static_model(settings)
        console.print(f"检索向量模型已生成：{path}")
    with console.status("读取负面清单和标注数据…"):
        checklist = load_checklist()
        train_examples, dev_examples = train_dev(load_examples())
    console.print(f"负面清单 {len(checklist.items)} 条；训练样本 {len(train_examples)} 条"
                  f"（另有 {len(dev_examples)} 条留作评测，不参与训练）；审核反馈 {len(reviewed)} 条")
    embedder = artefacts.embedder_for(settings)
    shipped = shipped_vectors.seed(embedder)
    groups = shipped_vectors.training_groups(train_examples, checklist)
    texts = list(dict.fromkeys([t for group in groups.values() for t in group] + [e.text for e in reviewed]))
    cached = embedder.lookup(shipped_vectors.ROLE, texts)
    todo = [t for t in texts if t not in cached]
    console.print(f"语义向量：仓库附带 {shipped} 条，需现算 {len(todo)} 条")
    if todo:
        for start in track(range(0, len(todo), 256), description=f"计算语义向量（{embedder.name}）", console=console):
            embedder.embed_queries(todo[start:start + 256])
    if ship_vectors:
        for path in shipped_vectors.export(embedder, groups):
            console.print(f"已更新 {path.relative_to(shipped_vectors.VECTORS_DIR.parents[1])}")
    with console.status("训练标注模型…"):
        tagger = fit_tagger(checklist, train_examples + reviewed, embedder.embed_queries)
    seconds = time.perf_counter() - started
    path = artefacts.save_tagger(tagger, artefacts.TaggerMeta(
        fingerprint, checklist.version, embedder.name, len(train_examples), len(reviewed), round(seconds, 1)),
        settings)
    console.print(f"[green]训练完成[/]，用时 {seconds:.0f} 秒，模型已保存到 {path}")


def tag(texts: list[str] = typer.Argument(None, help="要标注的文字；不提供时从标准输入读取 JSONL"),
        top_k: int = typer.Option(3, "--top-k", "-k", help="每条返回的清单条目数")) -> None:
    """标注文字：是否问题、负面清单条目、三个聚焦、纪律类别及依据，输出 JSONL。"""
    from service import artefacts

    try:
        tagger = artefacts.load_tagger()
        rows = [{"id": i + 1, "text": t} for i, t in enumerate(texts)] if texts else list(read_jsonl_stdin())
    except (artefacts.ModelMissing, ValueError) as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2)
    tagger.top_k = top_k
    for start in range(0, len(rows), 256):
        chunk = rows[start:start + 256]
        for row, result in zip(chunk, tagger.tag([r["text"] for r in chunk])):
            sys.stdout.write(json.dumps(result.as_json(row.get("id")), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def evaluate(only: Optional[str] = typer.Option(None, "--only", help="tag、ingest、search 或 seeds（五份种子工作报告的句子级评测），只运行一项评测"),
             data: Optional[list[Path]] = typer.Option(
                 None, "--data", help="真实语体评测集（JSONL 文件或文件夹，可多次给出），如 ../shared/realdev"),
             half: str = typer.Option("report", "--half", help="评测集的哪一半：choose（用于选择）、report（用于报告）或 all"),
             as_json: bool = typer.Option(False, "--json", help="以 JSON 输出数值")) -> None:
    """在留出的评测集上打印质量指标（标注模型与基线、文档结构抽取、检索）；--data 时在真实语体评测集上评测。"""
    if data:
        from service.commands.realdev import evaluate_realdev

        evaluate_realdev(data, half, only, as_json)
        return
    if only not in (None, "tag", "ingest", "search", "seeds"):
        err.print(f"[red]未知的评测项：{only}（可选：tag、ingest、search、seeds）[/]")
        raise typer.Exit(2)
    if only == "seeds":
        from nlp.evaluation import seeds

        from service.settings import get_settings

        arguments = ["--seeds", str(get_settings().shared_dir / "seeds")]
        raise typer.Exit(seeds.main(arguments + (["--json"] if as_json else [])))
    if only in (None, "tag"):
        _evaluate_tagging()
    if only in (None, "ingest"):
        _evaluate_ingest()
    if only in (None, "search"):
        _evaluate_retrieval()


def _evaluate_tagging() -> None:
    from nlp.checklist import load_checklist
    from nlp.dataset import load_examples, train_dev
    from nlp.evaluation import tagging
    from service import artefacts
    from service.settings import get_settings

    settings = get_settings()
    try:
        tagger = artefacts.load_tagger(settings)
    except artefacts.ModelMissing as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2)
    checklist = load_checklist()
    train_examples, dev = train_dev(load_examples())
    embedder = artefacts.embedder_for(settings)
    with console.status("在开发集上评测…"):
        systems = [
            tagging.tagger_scores(tagger, dev),
            tagging.keyword_baseline(checklist, dev),
            tagging.embedding_baseline(checklist, train_examples, dev, embedder.embed_queries),
        ]
    positives = sum(e.is_finding for e in dev)
    table = Table(title=f"标注评测（开发集 {len(dev)} 条，其中问题 {positives} 条；目标：top-3 ≥ 0.85，聚焦准确率 ≥ 0.85）")
    table.add_column("指标")
    for system in systems:
        table.add_column(system.name, justify="right")
    rows = [
        ("是否问题 精确率", lambda s: s.finding.precision), ("是否问题 召回率", lambda s: s.finding.recall),
        ("是否问题 F1", lambda s: s.finding.f1), ("清单条目 top-1 准确率", lambda s: s.top1),
        ("清单条目 top-3 准确率", lambda s: s.top3), ("三个聚焦 准确率", lambda s: s.focus_accuracy),
        ("三个聚焦 macro-F1", lambda s: s.focus_macro_f1), ("纪律类别 macro-F1", lambda s: s.discipline_macro_f1),
    ]
    for label, metric in rows:
        table.add_row(label, *(_fmt(metric(s)) for s in systems))
    console.print(table)


def _evaluate_ingest() -> None:
    from nlp.evaluation import ingest

    with console.status("评测文档类型识别和结构抽取…"):
        result = ingest.evaluate()
    console.print(f"文档类型识别准确率：{result.kind_accuracy:.3f}（{result.kind_correct}/{result.documents}）")
    confusion = Table(title="类型混淆（行：标注，列：识别）")
    kinds = ["minutes", "petition", "interview", "other"]
    confusion.add_column("")
    for kind in kinds:
        confusion.add_column(kind, justify="right")
    for gold in kinds:
        confusion.add_row(gold, *(str(result.confusion[(gold, p)]) for p in kinds))
    console.print(confusion)
    table = Table(title="结构字段抽取（按标注类型抽取）")
    for column in ("字段", "精确率", "召回率", "F1", "标注数"):
        table.add_column(column, justify="right")
    for name, counts in result.fields.items():
        table.add_row(name, _fmt(counts.precision), _fmt(counts.recall), _fmt(counts.f1), f"{counts.gold:.0f}")
    console.print(table)
    console.print(f"反映事项条数完全正确：{result.allegation_exact}/{result.petitions}")
    people = Table(title="人名识别（标注中的人名）")
    for column in ("方法", "召回率", "识别出的人名数", "其中属于标注人名的比例"):
        people.add_column(column, justify="right")
    for method, counts in result.person_recall.items():
        people.add_row(method, _fmt(counts.recall), f"{counts.predicted:.0f}", _fmt(counts.precision))
    console.print(people)
    if result.persons:
        complete = Table(title="人名识别（全文所有人名的标注）")
        for column in ("方法", "精确率", "召回率", "识别数", "标注数"):
            complete.add_column(column, justify="right")
        for method, counts in result.persons.items():
            complete.add_row(method, _fmt(counts.precision), _fmt(counts.recall), f"{counts.predicted:.0f}",
                             f"{counts.gold:.0f}")
        console.print(complete)
    if result.organisations.predicted:
        orgs = result.organisations
        console.print(f"单位名称识别精确率：{_fmt(orgs.precision)}（{orgs.tp:.0f}/{orgs.predicted:.0f}，"
                      f"完整单位名称才算正确）")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(tag)
    app.command("eval")(evaluate)


def _evaluate_retrieval() -> None:
    from index.embeddings import create_embedder
    from index.evaluation import evaluate as evaluate_retrieval
    from service.settings import get_settings

    settings = get_settings()
    with console.status("评测检索（BM25、向量、混合）…"):
        embedder = create_embedder(settings.search_embedding_backend, settings.search_embedding_model)
        results, chosen, tuning, reporting = evaluate_retrieval(embedder)
    table = Table(title=f"检索评测（报告用查询 {reporting} 条；另 {tuning} 条只用于选择融合方式：{chosen}）")
    for column in ("方法", "Recall@5", "Recall@10", "MRR", "nDCG@10"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r.name, _fmt(r.recall5), _fmt(r.recall10), _fmt(r.mrr), _fmt(r.ndcg10))
    console.print(table)
