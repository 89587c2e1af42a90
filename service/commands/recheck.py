"""``xuncha recheck``: 回头看 — a round's findings compared with the earlier rounds of the same unit."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from service.commands.common import console, print_json, resolve_inspection, table


def recheck(
    inspection: str = typer.Argument(..., help="巡察轮次编号或名称"),
    team: Optional[str] = typer.Option(None, "--team", help="巡察组（名称在多个组重复时用于区分）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """回头看：本轮每个问题与同一被巡察单位以往轮次反馈的问题比对（整改不到位/反弹回潮/新问题），并列出未销号的问题。"""
    from service import artefacts, context
    from service.recheck import recheck as compare
    from service.settings import get_settings

    repository = context.repository()
    record = resolve_inspection(repository, inspection, team)
    checklist = _checklist()
    # the model loads only when the unit has an earlier round to compare with
    result = compare(repository, checklist, record,
                     lambda texts: artefacts.embedder_for(get_settings()).embed_queries(texts))
    if as_json:
        print_json(result.as_json())
        return
    if not record.target_unit:
        console.print("该轮次没有填写被巡察单位，无法与以往轮次比对。")
        return
    if not result.earlier_rounds:
        console.print(f"{escape(record.target_unit)} 此前没有巡察轮次，本轮问题均为首次发现。")
        return
    names = "、".join(r.name for r in result.earlier_rounds)
    found = table(f"{escape(record.name)} 回头看（对照：{escape(names)}）", "候选问题", "本轮问题", "类别",
                  "对应的上轮问题", "依据")
    for f in result.findings:
        earlier = f"{f.matched.inspection}：{f.matched.wording}（{f.matched.status_label}）" if f.matched else "—"
        found.add_row(str(f.finding_id), escape(f.text), f.class_label, escape(earlier), escape(f.reason))
    console.print(found if result.findings else "本轮还没有被标注或审核确认的问题。")
    unclosed = result.unclosed
    if not unclosed:
        console.print("以往轮次反馈的问题均已销号。")
        return
    rows = table(f"未销号的上轮问题（{len(unclosed)} 项）", "轮次", "条目", "问题", "整改状态")
    for p in unclosed:
        rows.add_row(escape(p.inspection), p.item_id, escape(p.wording), p.status_label)
    console.print(rows)


def _checklist():
    from nlp.checklist import load_checklist

    return load_checklist()


def register(root: typer.Typer) -> None:
    root.command("recheck")(recheck)
