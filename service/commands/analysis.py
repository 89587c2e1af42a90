"""``xuncha analysis``: 共性问题分析 — findings counted across units and rounds, recurring items."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from service.commands.common import console, print_json, resolve_inspection, table

BREAKDOWNS = [("by_focus", "三个聚焦"), ("by_item", "清单条目（前 10 项）"), ("by_discipline", "纪律类别"),
              ("by_unit_type", "单位类型"), ("by_year", "年份")]


def analysis(
    inspection: Optional[str] = typer.Option(None, "--inspection", "-i", help="只统计该巡察轮次（编号或名称）"),
    team: Optional[str] = typer.Option(None, "--team", help="只统计该巡察组的轮次"),
    year: Optional[int] = typer.Option(None, "--year", help="只统计该年份的材料"),
    include_demo: bool = typer.Option(False, "--include-demo", help="包括示例巡察轮次"),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="另存为 Excel（每种统计一个工作表）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """共性问题分析：按三个聚焦、清单条目、纪律类别、单位类型和年份统计问题，列出共性问题和问题反复出现的单位。"""
    from nlp.checklist import load_checklist
    from service import context
    from service.analysis import analyse

    repository = context.repository()
    inspection_id = resolve_inspection(repository, inspection, team).id if inspection else None
    result = analyse(repository, load_checklist(), {team} if team else None, inspection_id, year,
                     include_demo or inspection_id is not None)
    data = result.as_json()
    if xlsx is not None:
        from service.analysis.export import workbook_bytes

        xlsx.write_bytes(workbook_bytes(result))
    if as_json:
        print_json({"inspection_id": inspection_id, "year": year, "include_demo": include_demo, **data})
        return
    totals = data["totals"]
    console.print(f"共 {totals['rounds']} 个巡察轮次、{totals['units']} 个被巡察单位，问题 {totals['findings']} 条。")
    if xlsx is not None:
        console.print(f"已导出：{escape(str(xlsx))}")
    if not totals["findings"]:
        console.print("范围内还没有被标注或审核确认的问题。")
        return
    for key, title in BREAKDOWNS:
        rows = table(title, "类别", "问题数")
        for row in data[key][:10]:
            rows.add_row(escape(row["label"]), str(row["count"]))
        console.print(rows)
    recurring = table("共性问题（两个及以上轮次或单位发现）", "条目", "名称", "轮次数", "单位数", "问题数")
    for row in data["recurring"]:
        recurring.add_row(row["item_id"], escape(row["title"]), str(row["rounds"]), str(row["units"]), str(row["findings"]))
    console.print(recurring if data["recurring"] else "没有在两个及以上轮次或单位发现的问题。")
    if data["repeat_units"]:
        units = table("问题反复出现最多的单位", "单位", "类型", "再次出现的条目数", "条目")
        for row in data["repeat_units"]:
            units.add_row(escape(row["unit"]), row["unit_type"], str(row["repeats"]), "、".join(row["items"]))
        console.print(units)


def register(root: typer.Typer) -> None:
    root.command("analysis")(analysis)
