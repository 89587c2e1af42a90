"""``xuncha inspections list`` and ``xuncha inspections delete``: the inspection rounds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Optional

import typer
from rich.markup import escape

from service import context
from service.commands.common import console, print_json, resolve_inspection, table

app = typer.Typer(help="查看和管理巡察轮次", no_args_is_help=True)


@app.command("list")
def list_inspections(team: Optional[str] = typer.Option(None, "--team", help="只列出该巡察组的轮次"),
                     as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """列出巡察轮次：编号、名称、巡察组、被巡察单位、文档数和候选问题数。"""
    repository = context.repository()
    records = repository.list_inspections(team)
    counts = repository.inspection_counts()
    if as_json:
        print_json([{**asdict(r), "document_count": counts.get(r.id, (0, 0))[0],
                     "finding_count": counts.get(r.id, (0, 0))[1]} for r in records])
        return
    if not records:
        console.print("还没有巡察轮次。导入材料时用 --inspection 给出轮次名称即可新建，如："
                      "xuncha ingest 材料/ --inspection \"2024年第二轮\"")
        return
    result = table(f"巡察轮次（{len(records)} 个）", "编号", "名称", "巡察组", "被巡察单位", "文档", "候选问题", "创建时间")
    for r in records:
        documents, findings = counts.get(r.id, (0, 0))
        result.add_row(str(r.id), escape(r.name) + ("（示例）" if r.demo else ""), escape(r.team),
                       escape(r.target_unit or "—"), str(documents), str(findings), r.created_at.strftime("%Y-%m-%d"))
    console.print(result)


@app.command("delete")
def delete_inspection(
    inspection: str = typer.Argument(..., help="巡察轮次编号或名称"),
    team: Optional[str] = typer.Option(None, "--team", help="巡察组（名称在多个组重复时用于区分）"),
    yes: bool = typer.Option(False, "--yes", "-y", help="不再询问，直接删除"),
) -> None:
    """删除巡察轮次及其全部文档、候选问题、审核记录、报告初稿和原件（不可恢复）。"""
    from service import rounds
    from service.security import AuditLog
    from service.settings import get_settings

    repository = context.repository()
    record = resolve_inspection(repository, inspection, team)
    documents, findings = repository.inspection_counts().get(record.id, (0, 0))
    label = f"“{escape(record.name)}”（编号 {record.id}，{escape(record.team)}）"
    if not yes:
        console.print(f"将删除巡察轮次 {label}：文档 {documents} 份，候选问题 {findings} 条，"
                      "以及审核记录、报告初稿和原件，删除后不可恢复。")
        if not typer.confirm("确认删除？", default=False):
            console.print("已取消，未删除任何内容。")
            raise typer.Exit(1)
    deleted = rounds.delete_inspection(repository, context.ingestor(tag=False), record.id, get_settings().home)
    if deleted is None:
        console.print(f"巡察轮次 {label} 已不存在。")
        raise typer.Exit(1)
    AuditLog(repository.engine).append("inspection.delete", "ok", user_name="命令行", object_type="inspection",
                                       object_id=record.id, inspection_id=record.id, client="cli")
    console.print(f"已删除巡察轮次 {label}：文档 {deleted.documents} 份，候选问题 {deleted.findings} 条。"
                  "检索索引会在下次检索时同步。")


def register(cli: typer.Typer) -> None:
    cli.add_typer(app, name="inspections")
