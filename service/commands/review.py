"""``xuncha review``: confirm, reject or correct the tags of a stored finding."""

from __future__ import annotations

from typing import Optional

import typer

from service import context
from service.commands.common import console, err


def review(
    finding_id: int = typer.Argument(..., help="候选问题编号（xuncha docs show --json 中的 id）"),
    action: str = typer.Option(..., "--action", "-a", help="confirm（确认）、reject（否定）或 correct（更正）"),
    items: Optional[str] = typer.Option(None, "--items", help="更正后的清单条目编号，逗号分隔，如 C2-01,C2-05"),
    reviewer: str = typer.Option(..., "--by", help="审核人"),
) -> None:
    """审核候选问题的标注；下次 xuncha train 会从审核结果中学习。"""
    from nlp.checklist import load_checklist
    from service import feedback

    ids = [i.strip().upper() for i in (items or "").split(",") if i.strip()]
    checklist = load_checklist()
    ids = [checklist.resolve_or_none(i) or i for i in ids]  # an old (merged) id means its current item
    known = set(checklist.by_id)
    try:
        feedback.record(context.repository(), finding_id, action, reviewer, ids, known)
    except feedback.FeedbackError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    console.print(f"已记录{feedback.ACTIONS[action]}：候选问题 {finding_id}" + (f" → {'、'.join(ids)}" if ids else ""))
