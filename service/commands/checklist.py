"""``xuncha checklist``: browse the negative checklist."""

from __future__ import annotations

import typer
from rich.table import Table

from nlp.checklist import load_checklist
from service.commands.common import console, err, print_json

app = typer.Typer(help="浏览负面清单", no_args_is_help=True)


@app.command("list")
def list_items(group: str = typer.Option(None, "--group", "-g", help="只列出该分组，如 C2"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """列出负面清单条目。"""
    checklist = load_checklist()
    items = [i for i in checklist.items if group is None or i.group == group.upper()]
    if as_json:
        print_json([i.model_dump() for i in items])
        return
    table = Table(title=f"负面清单 {checklist.version}（{len(items)} 条）")
    for column in ("编号", "分组", "问题", "聚焦", "纪律"):
        table.add_column(column)
    for item in items:
        table.add_row(item.id, checklist.groups[item.group].name, item.title, str(item.focus), item.discipline)
    console.print(table)


@app.command()
def show(item_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """显示一个条目的全部内容。"""
    checklist = load_checklist()
    try:
        item = checklist.get(item_id.upper())
    except KeyError as error:
        err.print(f"[red]{error.args[0]}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(item.model_dump())
        return
    console.print(f"[bold]{item.id} {item.title}[/]")
    console.print(f"分组：{checklist.groups[item.group].name}  三大问题：{item.head}  "
                  f"聚焦：{item.focus}（{checklist.focus[item.focus]}）  纪律：{item.discipline}")
    console.print("依据：" + "；".join(b.cite() for b in item.basis))
    if item.eight_rules_category:
        console.print(f"八项规定统计类别：{item.eight_rules_category}")
    for label, values in (("问题表现形式", item.manifestations), ("监督要点", item.check_points),
                          ("问题表述", item.wordings)):
        console.print(f"{label}：")
        for value in values:
            console.print(f"  · {value}")
    console.print(f"整改建议：{item.rectification}")
    console.print("关键词：" + "、".join(item.keywords + item.synonyms))


@app.command()
def search(text: str, limit: int = typer.Option(10, "--limit", "-n"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """按文字查找条目（标题、关键词、表现形式）。"""
    items = load_checklist().search(text, limit)
    if as_json:
        print_json([{"id": i.id, "title": i.title} for i in items])
        return
    if not items:
        console.print("没有找到相关条目")
    for item in items:
        console.print(f"{item.id}  {item.title}")
