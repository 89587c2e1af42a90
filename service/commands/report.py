"""``xuncha report``: the inspection's report draft (问题清单初稿), exported to Word and Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from service import context
from service.commands.common import console, err, resolve_inspection


def _write(path: Path, content: bytes, label: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as error:
        err.print(f"[red]无法写入{label}文件 {escape(str(path))}：{escape(error.strerror or str(error))}[/]")
        raise typer.Exit(1)
    console.print(f"已导出{label}：{escape(str(path))}")


def report(
    reference: str = typer.Argument(..., metavar="INSPECTION", help="巡察轮次编号或名称"),
    docx_path: Optional[Path] = typer.Option(None, "--docx", help="导出 Word 初稿到该文件"),
    xlsx_path: Optional[Path] = typer.Option(None, "--xlsx", help="导出问题底稿和整改台账（Excel）到该文件"),
    rebuild: bool = typer.Option(False, "--rebuild", help="按当前候选问题和审核结果重新生成（保留撰稿人的修改）"),
    team: Optional[str] = typer.Option(None, "--team", help="巡察组（名称在多个组重复时用于区分）"),
) -> None:
    """生成或查看巡察轮次的问题清单初稿，并可导出 Word 和 Excel。"""
    from nlp.checklist import load_checklist
    from service import reports
    from service.reports.outline import (EMPTY_NOTE, chinese_number, report_document, sections, unfinished,
                                         unfinished_warning)

    repository = context.repository()
    inspection = resolve_inspection(repository, reference, team)
    inspection_id = inspection.id
    checklist = load_checklist()
    current = reports.ReportStore(repository.engine).get(inspection_id)
    if current is None or rebuild or reports.is_stale(repository, inspection_id, checklist):
        result = reports.rebuild(repository, checklist, inspection, None, context.search_service())
        current = result.report
        console.print("已重新生成初稿（撰稿人的修改已保留）" if rebuild else "已生成初稿")
        if result.retained:
            console.print(f"[yellow]有 {len(result.retained)} 个问题已没有候选问题支持，因撰稿人修改过表述而保留，"
                          f"暂不纳入导出（问题编号：{'、'.join(map(str, result.retained))}）[/]")
    included = sum(p.included for p in current.problems)
    console.print(f"[bold]{escape(inspection.name)}[/]（{escape(inspection.team)}，被巡察单位："
                  f"{escape(inspection.target_unit or '未填写')}）：问题 {len(current.problems)} 个，纳入清单 {included} 个")
    if not current.problems:
        console.print(EMPTY_NOTE)
    for number, section in enumerate(sections(current.problems, checklist), 1):
        table = Table(title=f"{chinese_number(number)}、{section.focus_title}", show_lines=True)
        for column in ("编号", "清单条目", "问题表述", "证据", "纳入", "已修改"):
            table.add_column(column, overflow="fold")
        for item in section.items:
            for problem in item.problems:
                table.add_row(str(problem.id), f"{item.item_id} {escape(item.item_title)}", escape(problem.wording),
                              f"{len(problem.evidence)} 条", "是" if problem.included else "否",
                              f"是（{escape(problem.edited_by or '')}）" if problem.edited else "否")
        console.print(table)
    document = report_document(current, inspection, checklist)
    if (docx_path or xlsx_path) and (found := unfinished(document)):
        err.print(f"[yellow]注意：{escape(unfinished_warning(found))}[/]")
    if docx_path is not None:
        from service.reports.docx_export import render_docx

        _write(docx_path, render_docx(document), " Word 初稿")
    if xlsx_path is not None:
        from service.reports.xlsx_export import render_xlsx

        _write(xlsx_path, render_xlsx(document), " Excel 底稿")


def register(app: typer.Typer) -> None:
    app.command()(report)
