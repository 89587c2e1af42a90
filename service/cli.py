"""The ``xuncha`` command line. Messages to users are in Chinese.

Start-up stays light: this module and the command modules import only Typer, Rich and small
modules at the top; storage, the NLP pipeline, the tagger, the embedders and the search index are
imported inside the commands that use them (``tests/service/test_cli_startup.py`` checks it).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.markup import escape

from nlp.types import KIND_LABELS, DocumentKind
from service import context
from service.commands import analysis as analysis_commands
from service.commands import checklist as checklist_commands
from service.commands import i18n
from service.commands import inspections as inspection_commands
from service.commands import model as model_commands
from service.commands import rectification as rectification_commands
from service.commands import recheck as recheck_commands
from service.commands import report as report_commands
from service.commands import review as review_commands
from service.commands import search as search_commands
from service.commands import serve as serve_commands
from service.commands import users as users_commands
from service.commands import worker as worker_commands
from service.commands.common import RoundNotFound, find_inspection, resolve_inspection, table

if TYPE_CHECKING:
    from service.ingest import IngestResult

i18n.install()
app = typer.Typer(help="xuncha 巡察文档智能分析", no_args_is_help=True, add_completion=False)
docs_app = typer.Typer(help="查看和管理已入库的文档", no_args_is_help=True)
app.add_typer(docs_app, name="docs")
app.add_typer(checklist_commands.app, name="checklist")
model_commands.register(app)
app.command()(review_commands.review)
search_commands.register(app)
users_commands.register(app)
serve_commands.register(app)
report_commands.register(app)
rectification_commands.register(app)
recheck_commands.register(app)
analysis_commands.register(app)
inspection_commands.register(app)
worker_commands.register(app)
console = Console()
err = Console(stderr=True)

DEFAULT_TEAM = "默认巡察组"
STATUS_LABELS = {"added": "已入库", "duplicate": "已存在", "error": "失败"}


def _kind_label(kind: str | None) -> str:
    return KIND_LABELS[DocumentKind(kind)] if kind else "—"


def _json_default(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def ingest_round(inspection: str, team: str | None, unit: str | None, demo: bool = False):
    """The round to import into: an existing one by id or name, else a new one called ``inspection``
    (of ``team``, or the default team). A number that is no round's id or name is refused."""
    repository = context.repository()
    try:
        return find_inspection(repository, inspection, team)
    except RoundNotFound as error:
        if inspection.strip().isdigit() or "不止一个" in str(error):
            raise
    return repository.ensure_inspection(inspection.strip(), team or DEFAULT_TEAM, unit, demo=demo)


def run_ingest(paths: list[Path], inspection: str, team: str | None, unit: str | None,
               kind: DocumentKind | None, quiet: bool, demo: bool = False) -> list[IngestResult]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from service.ingest import collect_files

    ingestor = context.ingestor()
    record = ingest_round(inspection, team, unit, demo)
    files = collect_files(paths)
    results: list[IngestResult] = []
    with Progress(TextColumn("[bold]导入[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, disable=quiet, transient=False) as progress:
        task = progress.add_task("", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            results.append(ingestor.ingest_path(path, record.id, kind))
            progress.advance(task)
    return results


def _print_results(results: list[IngestResult]) -> None:
    result = table("导入结果", "文件", "状态", "类型", "页数", "候选问题", "疑似问题", "说明")
    for r in results:
        style = {"added": "green", "duplicate": "yellow", "error": "red"}[r.status]
        result.add_row(escape(Path(r.path).name), f"[{style}]{STATUS_LABELS[r.status]}[/]", _kind_label(r.kind),
                       str(r.pages or ""), str(r.findings or ""), "" if r.flagged is None else str(r.flagged),
                       escape(r.message or ""))
    console.print(result)
    counts = {s: sum(r.status == s for r in results) for s in STATUS_LABELS}
    flagged = [r.flagged for r in results if r.status == "added" and r.flagged is not None]
    tagged = (f"新入库文件共 {sum(r.findings for r in results if r.status == 'added')} 条候选问题，"
              f"其中疑似问题 {sum(flagged)} 条。") if flagged else ""
    console.print(f"共 {len(results)} 个文件：新入库 {counts['added']}，已存在 {counts['duplicate']}，"
                  f"失败 {counts['error']}。{tagged}")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="文件或文件夹（递归导入）"),
    inspection: str = typer.Option(..., "--inspection", "-i",
                                   help="巡察轮次编号或名称（名称不存在时新建该轮次）"),
    team: Optional[str] = typer.Option(None, "--team", help=f"巡察组（新建轮次时默认为“{DEFAULT_TEAM}”）"),
    unit: Optional[str] = typer.Option(None, "--unit", help="被巡察单位（新建轮次时记录）"),
    kind: Optional[DocumentKind] = typer.Option(None, "--kind", help="指定文档类型，不自动识别"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """导入巡察材料：解析、识别类型、抽取结构、切分候选问题并入库。"""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]找不到文件或文件夹：{escape('、'.join(missing))}[/]")
        raise typer.Exit(2)
    try:
        results = run_ingest(paths, inspection, team, unit, kind, quiet=as_json)
    except RoundNotFound as error:
        err.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1))
    else:
        _print_results(results)
    if results and all(r.status == "error" for r in results):
        raise typer.Exit(1)


@docs_app.command("list")
def docs_list(
    inspection: Optional[str] = typer.Option(None, "--inspection", "-i", help="只列出该巡察轮次（编号或名称）"),
    team: Optional[str] = typer.Option(None, "--team", help="只列出该巡察组"),
    year: Optional[int] = typer.Option(None, "--year", help="只列出该年份的文档（按文档自身日期）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """列出已入库的文档（年份取文档自身的日期，没有日期时取导入日期）。"""
    repository = context.repository()
    if inspection is not None:
        record = resolve_inspection(repository, inspection, team)
        documents = repository.list_documents(inspection_id=record.id)
    else:
        documents = repository.list_documents(None, team)
    if year is not None:
        documents = [d for d in documents if d.year == year]
    if as_json:
        print(json.dumps([asdict(d) for d in documents], ensure_ascii=False, default=_json_default, indent=1))
        return
    result = table(f"文档（{len(documents)} 份）", "编号", "巡察轮次", "文件", "类型", "年份", "置信度", "页数", "候选问题",
                   "疑似问题")
    for d in documents:
        result.add_row(str(d.id), escape(d.inspection), escape(d.filename), _kind_label(d.kind), str(d.year or "—"),
                       f"{d.kind_score:.2f}", str(d.pages), str(d.finding_count),
                       "—" if d.flagged_count is None else str(d.flagged_count))
    console.print(result)


@docs_app.command("show")
def docs_show(document_id: int = typer.Argument(..., help="文档编号（xuncha docs list 中的编号）"),
              as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """显示一份文档的结构化字段和候选问题（含位置）。"""
    detail = context.repository().get_document(document_id)
    if detail is None:
        err.print(f"[red]没有编号为 {document_id} 的文档[/]")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(asdict(detail), ensure_ascii=False, default=_json_default, indent=1))
        return
    console.print(f"[bold]{escape(detail.filename)}[/]  类型：{_kind_label(detail.kind)}"
                  + ("（人工指定）" if detail.kind_overridden else f"（{detail.kind_score:.2f}）")
                  + f"  年份：{detail.year or '—'}"
                  f"  页数：{detail.pages}" + (f"  编码：{detail.encoding}" if detail.encoding else "")
                  + (f"  OCR 页：{detail.ocr_pages}" if detail.ocr_pages else ""))
    for key, value in detail.fields.items():
        if value not in (None, [], {}):
            console.print(f"  {FIELD_LABELS.get(key, key)}：{escape(_format_field(value))}")
    result = table(f"候选问题（{len(detail.findings)} 条）", "#", "页", "位置", "发言人", "内容", "实体", "标注")
    for f in detail.findings:
        ents = "；".join(f"{e['text']}" for e in f.entities)
        result.add_row(str(f.seq + 1), str(f.page or ""), f"{f.source_start}-{f.source_end}", escape(f.speaker or ""),
                       escape(f.text), escape(ents), _tag_summary(f.tags))
    console.print(result)


@docs_app.command("kind")
def docs_kind(document_id: int = typer.Argument(..., help="文档编号"),
              kind: DocumentKind = typer.Argument(..., help="minutes（会议记录/纪要）、petition（信访举报件）、"
                                                            "interview（个别谈话记录）或 other（其他）")) -> None:
    """更正文档类型：按新类型重新抽取结构字段和年份，候选问题及其审核记录保持不变。"""
    from service import rounds

    detail = rounds.change_kind(context.repository(), document_id, kind)
    if detail is None:
        err.print(f"[red]没有编号为 {document_id} 的文档[/]")
        raise typer.Exit(1)
    filled = [FIELD_LABELS.get(k, k) for k, v in detail.fields.items() if v not in (None, [], {})]
    console.print(f"已将文档 {document_id} 的类型更正为{_kind_label(detail.kind)}，年份 {detail.year or '—'}；"
                  f"重新抽取的字段：{'、'.join(filled) or '无'}")


@docs_app.command("delete")
def docs_delete(document_id: int = typer.Argument(..., help="文档编号")) -> None:
    """删除一份文档及其候选问题。"""
    if not context.ingestor(tag=False).delete(document_id):
        err.print(f"[red]没有编号为 {document_id} 的文档[/]")
        raise typer.Exit(1)
    console.print(f"已删除文档 {document_id}")


FIELD_LABELS = {
    "meeting_name": "会议名称", "date": "日期", "place": "地点", "chair": "主持人", "recorder": "记录人",
    "attendees": "出席", "nonvoting": "列席", "absentees": "缺席", "agenda": "议题", "decisions": "决定事项",
    "complainant": "反映人", "reported": "被反映人", "allegations": "反映事项", "amounts": "金额（元）",
    "dates": "涉及日期", "interviewee": "谈话对象", "interviewee_position": "职务", "interviewers": "谈话人",
}


def _tag_summary(tags: dict | None) -> str:
    if not tags:
        return "未标注"
    if not tags.get("is_finding"):
        return f"[dim]非问题 {1 - tags['finding_score']:.2f}[/]"
    top = tags["checklist"][0]
    return f"[bold]{top['id']}[/] {escape(top['title'])}（{top['score']:.2f}）聚焦{tags['focus']}"


def _format_field(value) -> str:
    if isinstance(value, list):
        return "；".join(
            "，".join(str(v) for v in item.values() if v) if isinstance(item, dict) else
            (f"{item:,.0f}" if isinstance(item, float) else str(item)) for item in value)
    return str(value)


@app.command()
def demo() -> None:
    """用内置示例材料演示：导入 corpora/samples 到单独的示例轮次并显示结果（检索默认不含示例材料）。"""
    from service.settings import PROJECT_ROOT, get_settings

    samples = PROJECT_ROOT / "corpora" / "samples"
    console.print(f"数据目录：{get_settings().home}")
    results = run_ingest([samples], serve_commands.DEMO_INSPECTION, serve_commands.DEMO_TEAM, "清河县", None,
                         quiet=False, demo=True)
    _print_results(results)
    console.print("查看文档：[bold]xuncha docs list[/]，查看详情：[bold]xuncha docs show <编号>[/]；"
                  f"不再需要时：[bold]xuncha inspections delete \"{serve_commands.DEMO_INSPECTION}\"[/]")


if __name__ == "__main__":
    app()
