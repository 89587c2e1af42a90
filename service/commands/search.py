"""``xuncha search``, ``xuncha cases`` and ``xuncha leads``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from service import context
from service.commands.common import console, err, print_json, read_jsonl_stdin, resolve_inspection, source_place, table

cases_app = typer.Typer(help="往届巡察案例库", no_args_is_help=True)


def _highlight(text: str, matched: list[tuple[str, int, int]]) -> str:
    out, position = [], 0
    for _, start, end in sorted(matched, key=lambda m: m[1]):
        if start < position:
            continue
        out += [escape(text[position:start]), f"[bold red]{escape(text[start:end])}[/]"]
        position = end
    return "".join(out) + escape(text[position:])


def search(
    query: Optional[str] = typer.Argument(None, help="检索内容；使用 --batch 时从标准输入读取 JSONL"),
    k: int = typer.Option(10, "-k", help="返回条数"),
    inspection: Optional[str] = typer.Option(None, "--inspection", "-i", help="巡察轮次（编号或名称）"),
    unit: Optional[str] = typer.Option(None, "--unit", help="单位（包含即可）"),
    year: Optional[int] = typer.Option(None, "--year", help="年份"),
    kind: Optional[str] = typer.Option(None, "--kind", help="文档类型：minutes/petition/interview/other/case"),
    focus: Optional[int] = typer.Option(None, "--focus", help="三个聚焦（1-4）"),
    item: Optional[str] = typer.Option(None, "--item", help="负面清单条目编号"),
    team: Optional[str] = typer.Option(None, "--team", help="巡察组"),
    scope: str = typer.Option("all", "--in", help="cases（往届案例）、findings（已入库材料）或 all"),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid（混合）、vector（语义）或 keyword（关键词）"),
    include_demo: bool = typer.Option(False, "--include-demo", help="包含示例材料轮次中的材料（默认不包含）"),
    batch: bool = typer.Option(False, "--batch", help="从标准输入读取 JSONL 查询，逐行输出 JSONL"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """按语义和关键词检索往届案例和已入库材料，每条结果说明命中原因（年份按文档自身日期）。"""
    from service.search import SearchFilters

    filters = SearchFilters(None, unit, year, kind, focus, item.upper() if item else None, team,
                            include_demo=include_demo)
    if inspection is not None:
        record = resolve_inspection(context.repository(), inspection, team)
        filters.inspection, filters.team = record.name, record.team
        filters.include_demo = include_demo or record.demo  # a demo round named explicitly is searched
    if not batch and not query:
        err.print("[red]请提供检索内容，或使用 --batch 从标准输入读取[/]")
        raise typer.Exit(2)
    try:
        service = context.search_service()
        if batch:
            for row in read_jsonl_stdin():
                hits = service.search(row["text"], k, filters, collection=scope, mode=mode)
                hits_json = [{"id": h.as_json()["id"], "score": round(h.score, 5), "level": h.level, "text": h.text}
                             for h in hits]
                sys.stdout.write(json.dumps({"id": row.get("id"), "hits": hits_json}, ensure_ascii=False) + "\n")
            return
        hits = service.search(query, k, filters, collection=scope, mode=mode)
    except ValueError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2)
    if as_json:
        print_json([h.as_json() for h in hits])
        return
    if not hits:
        console.print("没有相关结果")
        return
    # People read 高/中/低 相关 and why; the raw scores are in --json.
    result = table(f"“{escape(query)}” 的检索结果（{len(hits)} 条）", "#", "来源", "内容", "清单条目", "相关程度", "原因",
                   show_lines=True)
    for rank, hit in enumerate(hits, 1):
        meta = hit.meta
        origin = (f"往届案例 {meta['external_id']}（{meta.get('unit') or ''} {meta.get('year') or ''}）"
                  if meta["collection"] == "cases" else source_place(meta["filename"], meta.get("page")))
        result.add_row(str(rank), escape(origin), _highlight(hit.text, hit.matched), "、".join(meta.get("items") or []),
                       f"{hit.level}相关" if hit.level else "—", escape("；".join(hit.reasons) or "—"))
    console.print(result)


@cases_app.command("import")
def import_cases(path: Path = typer.Argument(..., help="JSONL 文件，每行至少包含 id 和 text")) -> None:
    """导入往届案例（按 id 去重，已存在的会更新）。"""
    from nlp.checklist import load_checklist
    from service.cases import CaseImportError, import_file
    from service.storage.cases import SqlCaseRepository

    if not path.is_file():
        err.print(f"[red]找不到文件：{path}[/]")
        raise typer.Exit(2)
    try:
        added, updated = import_file(path, SqlCaseRepository(context.repository()), load_checklist())
    except CaseImportError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    console.print(f"导入完成：新增 {added} 条，更新 {updated} 条。")


@cases_app.command("list")
def list_cases(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """列出案例库中的案例数量（按来源）。"""
    service = context.search_service()
    cases = service.cases.list_cases()
    if as_json:
        print_json([c.__dict__ for c in cases])
        return
    by_origin: dict[str, int] = {}
    for case in cases:
        by_origin[case.origin] = by_origin.get(case.origin, 0) + 1
    labels = {"corpus": "内置", "import": "导入", "review": "审核确认"}
    console.print(f"案例库共 {len(cases)} 条：" + "，".join(f"{labels.get(k, k)} {v}" for k, v in by_origin.items()))




def leads(document_id: int = typer.Argument(..., help="文档编号"),
          as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """为一份文档生成问题线索建议：相似往届案例、问题表述、线索等级和处置方式。"""
    from service import artefacts
    from service.leads import document_leads
    from service.settings import get_settings

    try:
        found = document_leads(document_id, context.search_service(),
                               artefacts.embedder_for(get_settings()).embed_queries)
    except LookupError as error:
        err.print(f"[red]{error.args[0]}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json([lead.as_json() for lead in found])
        return
    if not found:
        console.print("该文档没有达到线索标准的问题（需要先训练模型并导入，候选问题才会被标注）")
        return
    for number, lead in enumerate(found, 1):
        console.rule(f"线索 {number}：{lead.grade} · 建议{lead.disposal}")
        console.print(f"[bold]{lead.item_id} {lead.item_title}[/]" + (f"  涉及：{'、'.join(lead.persons)}"
                                                                       if lead.persons else ""))
        console.print(f"问题表述：{lead.wording}")
        console.print("依据：" + "；".join(lead.reasons))
        for source in lead.sources:
            console.print(escape(f"  · [{source_place(source.filename, source.page)}] {source.text}"))
        for case in lead.similar_cases:
            console.print(escape(f"  相似案例 {case.id}（{case.unit or ''} {case.year or ''}，{case.disposal or ''}"
                                 f"{'，' + case.sanction if case.sanction else ''}）：{case.text[:60]}…"))


def dedupe(inspection: str = typer.Option(..., "--inspection", "-i", help="巡察轮次（编号或名称）"),
           team: Optional[str] = typer.Option(None, "--team", help="巡察组（名称在多个组重复时用于区分）"),
           as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """信访件判重：找出同一轮巡察中内容实质相同的信访举报件。"""
    from service import artefacts
    from service.dedupe import near_duplicates
    from service.settings import get_settings

    service = context.search_service(refresh=False)
    repository = service.repository
    record = resolve_inspection(repository, inspection, team)
    petitions = [d for d in repository.list_documents(inspection_id=record.id) if d.kind == "petition"]
    details = [repository.get_document(d.id) for d in petitions]
    # The thresholds were calibrated on e5 cosines (bench/dedupe.py), so e5 vectors are used here.
    e5 = artefacts.embedder_for(get_settings())
    pairs = near_duplicates([d.id for d in details], [d.text for d in details], e5.embed_passages)
    names = {d.id: d.filename for d in details}
    if as_json:
        print_json([dict(p.__dict__, first_file=names[p.first], second_file=names[p.second]) for p in pairs])
        return
    console.print(f"共检查信访件 {len(details)} 份，疑似重复 {len(pairs)} 对")
    for pair in pairs:
        console.print(f"  · {names[pair.first]}（{pair.first}） ≈ {names[pair.second]}（{pair.second}）"
                      f"  语义相似度 {pair.cosine:.3f}，共同要素 {pair.shared_anchors} 个")


def register(app: typer.Typer) -> None:
    app.command()(dedupe)
    app.command()(search)
    app.command()(leads)
    app.add_typer(cases_app, name="cases")
