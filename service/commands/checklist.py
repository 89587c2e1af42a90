"""``xuncha checklist``: browse the negative checklist."""

from __future__ import annotations

import typer
from rich.table import Table

from service.commands.common import console, err, print_json

app = typer.Typer(help="浏览负面清单", no_args_is_help=True)


@app.command("list")
def list_items(group: str = typer.Option(None, "--group", "-g", help="只列出该分组，如 C2"),
               as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """列出负面清单条目。"""
    from nlp.checklist import load_checklist

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
def show(item_id: str = typer.Argument(..., help="条目编号，如 C2-01"), as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """显示一个条目的全部内容。"""
    from nlp.checklist import load_checklist

    checklist = load_checklist()
    try:
        item = checklist.get(item_id.upper())
    except KeyError as error:
        err.print(f"[red]{error.args[0]}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(item.model_dump())
        return
    if item.id != item_id.strip().upper():
        console.print(f"编号 {item_id.strip().upper()} 已合并到 {item.id}")
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
def search(text: str = typer.Argument(..., help="要查找的文字，如 公务接待"), limit: int = typer.Option(10, "--limit", "-n", help="最多显示的条目数"),
           group: str = typer.Option(None, "--group", "-g", help="只看该分组的匹配，如 C2"),
           as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """按文字查找条目：标题、关键词、近义说法、表现形式依次加权，只列出真正相关的条目。"""
    from nlp.checklist import load_checklist

    checklist = load_checklist()
    if group and group.strip().upper() not in checklist.groups:
        err.print(f"[red]没有分组 {group}（可选：{'、'.join(checklist.groups)}）[/]")
        raise typer.Exit(1)
    everywhere = checklist.ranked(text)
    matches = [(item, score) for item, score in everywhere if not group or item.group == group.strip().upper()]
    hidden = len(everywhere) - len(matches)
    shown = matches[:limit]
    if as_json:
        print_json({"query": text, "group": group.strip().upper() if group else None, "total": len(matches),
                    "outside_group": hidden,
                    "items": [{"id": i.id, "title": i.title, "group": i.group, "score": round(s, 3)
                               if s != float("inf") else None} for i, s in shown]})
        return
    if not shown:
        console.print(f"分组 {group.strip().upper()} 中没有找到相关条目" if group else "没有找到相关条目")
    for item, _ in shown:
        console.print(f"{item.id}  {item.title}")
    if len(matches) > len(shown):
        console.print(f"共 {len(matches)} 条匹配，只显示前 {len(shown)} 条（可用 --limit 调整）")
    if hidden:
        console.print(f"另有 {hidden} 条匹配在其他分组，去掉 --group 可查看")
