"""Console objects and helpers shared by the CLI modules: JSON output, tables that wrap long text,
and the resolver every command taking an inspection round uses (id or name)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Iterable

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from service.storage import InspectionRecord, SqlRepository

console = Console()
err = Console(stderr=True)


def table(title: str | None, *columns: str, **options) -> Table:
    """A table whose cells wrap (fold) instead of being cut to "…" in a narrow terminal."""
    result = Table(title=title, **options)
    for column in columns:
        result.add_column(column, overflow="fold", no_wrap=False)
    return result


class RoundNotFound(LookupError):
    pass


def source_place(filename: str, page: int | None) -> str:
    """Where a quoted sentence comes from; text files have no pages, so only the file is named."""
    return f"{filename} 第{page}页" if page else filename


def find_inspection(repository: SqlRepository, reference: str, team: str | None = None) -> InspectionRecord:
    """The inspection round named ``reference`` (exact name) or numbered ``reference`` (its id);
    ``team`` narrows a name several teams use. Raises :class:`RoundNotFound` with a Chinese message."""
    reference = (reference or "").strip()
    if not reference:
        raise RoundNotFound("请给出巡察轮次的编号或名称")
    found = repository.find_inspections(reference, team)
    if not found:
        where = f"（巡察组：{team}）" if team else ""
        what = f"编号为 {reference} " if reference.isdigit() else f"名称为“{reference}”"
        raise RoundNotFound(f"没有{what}的巡察轮次{where}；用 xuncha inspections list 查看全部轮次")
    if len(found) > 1:
        teams = "、".join(f"{r.team}（编号 {r.id}）" for r in found)
        raise RoundNotFound(f"名称为“{reference}”的巡察轮次不止一个：{teams}。请改用编号，或加 --team 指定巡察组")
    return found[0]


def resolve_inspection(repository: SqlRepository, reference: str, team: str | None = None) -> InspectionRecord:
    """:func:`find_inspection` for commands: prints the reason and exits with status 1 when not found."""
    try:
        return find_inspection(repository, reference, team)
    except RoundNotFound as error:
        err.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from None


def json_default(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, default=json_default, indent=1))


def read_jsonl_stdin() -> Iterable[dict]:
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"标准输入第 {number} 行不是合法的 JSON：{error.msg}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ValueError(f"标准输入第 {number} 行缺少文本字段 text")
        yield row
