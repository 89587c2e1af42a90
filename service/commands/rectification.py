"""``xuncha rectification``: the rectification ledger (整改台账) of a finalised round, with warnings."""

from __future__ import annotations

import json
from datetime import date
from typing import Optional

import typer
from rich.markup import escape

from service.commands.common import console, err, resolve_inspection, table

app = typer.Typer(help="整改台账：反馈定稿后每个问题的整改任务、状态和红黄绿灯预警", no_args_is_help=True)
WARNING_STYLES = {"green": "green", "yellow": "yellow", "red": "red"}


def _today(value: str | None) -> date:
    from service.rectification import system_today

    if value is None:
        return system_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]日期格式不正确：{escape(value)}（应为 YYYY-MM-DD）[/]")
        raise typer.Exit(2) from None


@app.command("list")
def list_tasks(
    inspection: str = typer.Option(..., "--inspection", "-i", help="巡察轮次编号或名称"),
    team: Optional[str] = typer.Option(None, "--team", help="巡察组（名称在多个组重复时用于区分）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    today: Optional[str] = typer.Option(None, "--today", help="按该日期（YYYY-MM-DD）计算剩余天数和预警，默认今天"),
) -> None:
    """列出整改任务：问题、责任单位、完成时限、状态和预警（绿灯/黄灯/红灯）。"""
    from service import context
    from service.rectification import WARNING_LABELS, Ledger
    from service.settings import get_settings

    day = _today(today)
    repository = context.repository()
    record = resolve_inspection(repository, inspection, team)
    ledger = Ledger.from_settings(repository.engine, get_settings(), clock=lambda: day)
    entries = ledger.entries(record.id)
    if as_json:
        print(json.dumps([{"id": e.task.id, "problem": e.task.problem, "item_id": e.task.item_id,
                           "unit": e.task.unit, "person": e.task.person, "measures": e.task.measures,
                           "deadline": e.task.deadline.isoformat(), "status": e.task.status,
                           "status_label": e.status_label, "days_left": e.days_left, "warning": e.warning,
                           "evidence": [x.document_id for x in e.task.evidence], "approved_by": e.task.approved_by}
                          for e in entries], ensure_ascii=False, indent=1))
        return
    if not entries:
        finalised = ledger.store.ledger(record.id) is not None
        console.print("报告定稿时没有纳入清单的问题。" if finalised else
                      "该轮次的报告尚未反馈定稿，没有整改任务（网页“整改台账”或接口 "
                      "POST /api/inspections/{编号}/report/finalise 定稿后生成）。")
        return
    result = table(f"{escape(record.name)} 整改台账（{len(entries)} 项，按 {day.isoformat()} 计算预警）",
                   "编号", "问题", "责任单位", "责任人", "完成时限", "剩余天数", "状态", "预警", "佐证材料")
    for e in entries:
        t = e.task
        light = f"[{WARNING_STYLES[e.warning]}]{WARNING_LABELS[e.warning]}[/]" if e.warning else "—"
        result.add_row(str(t.id), escape(t.problem), escape(t.unit or "—"), escape(t.person or "待填写"),
                       t.deadline.isoformat(), "—" if t.status == "closed" else str(e.days_left), e.status_label,
                       light, f"{len(t.evidence)} 份")
    console.print(result)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rectification")
