"""The command line without friction: rounds listed and deleted by id or name, a document's kind
corrected, tables that wrap instead of cutting text at 80 columns, and help in Chinese."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
import typer
from typer.testing import CliRunner

from conftest import MINUTES_LINES, PETITION_LINES
from service import context
from service.cli import app
from service.commands.common import RoundNotFound, find_inspection

runner = CliRunner()
LONG_NAME = "2024年第二轮对清河县水利局党组及其下属事业单位开展的常规巡察"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _ingest(tmp_path, name: str, lines: list[str], inspection: str, *extra: str) -> dict:
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(path), "--inspection", inspection, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)[0]


def _flat(text: str) -> str:
    """Table output with borders and line breaks taken out, so wrapped cells read as one string."""
    return re.sub(r"[\s│┃┆╎║|─━┏┓┗┛┡┩└┘┌┐├┤┼╇╈╋╭╮╰╯━]+", "", text)


def _wrapped(needle: str, output: str) -> bool:
    """``needle`` appears whole in a table cell that may wrap over several lines (the other cells of
    those lines come in between): every character in order, nothing cut off."""
    rest = iter(_flat(output))
    return all(char in rest for char in needle)


def test_rounds_by_id_or_name_across_commands(xuncha_home, tmp_path):
    added = _ingest(tmp_path, "举报信.txt", PETITION_LINES, LONG_NAME, "--team", "第三巡察组")
    repository = context.repository()
    record = find_inspection(repository, LONG_NAME)
    assert record.team == "第三巡察组" and find_inspection(repository, str(record.id)).name == LONG_NAME
    again = _ingest(tmp_path, "会议记录.txt", MINUTES_LINES, str(record.id))  # by id: the same round
    assert again["status"] == "added"
    assert len(repository.list_documents(inspection_id=record.id)) == 2

    by_id = json.loads(runner.invoke(app, ["docs", "list", "-i", str(record.id), "--json"]).stdout)
    by_name = json.loads(runner.invoke(app, ["docs", "list", "-i", LONG_NAME, "--json"]).stdout)
    assert [d["id"] for d in by_id] == [d["id"] for d in by_name] and len(by_id) == 2
    assert {d["year"] for d in by_id} == {2024}
    assert added["document_id"] in [d["id"] for d in by_id]

    missing = runner.invoke(app, ["docs", "list", "-i", "9999"])
    assert missing.exit_code == 1 and "没有编号为9999的巡察轮次" in _flat(missing.output)
    unknown_number = runner.invoke(app, ["ingest", str(tmp_path / "举报信.txt"), "-i", "9999"])
    assert unknown_number.exit_code == 1 and "没有编号为9999的巡察轮次" in _flat(unknown_number.output)

    repository.ensure_inspection(LONG_NAME, "第五巡察组")  # the same name in a second team
    with pytest.raises(RoundNotFound, match="不止一个"):
        find_inspection(repository, LONG_NAME)
    assert find_inspection(repository, LONG_NAME, "第五巡察组").team == "第五巡察组"
    ambiguous = runner.invoke(app, ["docs", "list", "-i", LONG_NAME])
    assert ambiguous.exit_code == 1 and "不止一个" in _flat(ambiguous.output)

    listed = json.loads(runner.invoke(app, ["inspections", "list", "--json"]).stdout)
    assert [(r["name"], r["team"], r["document_count"]) for r in listed] == [
        (LONG_NAME, "第三巡察组", 2), (LONG_NAME, "第五巡察组", 0)]


def test_tables_wrap_long_text_at_80_columns(xuncha_home, tmp_path, monkeypatch):
    _ingest(tmp_path, "关于清河县水利局防汛物资采购及办公楼维修项目的举报材料.txt", PETITION_LINES, LONG_NAME)
    monkeypatch.setenv("COLUMNS", "80")
    from service.commands import common

    monkeypatch.setattr(common.console, "_width", 80)
    rounds = runner.invoke(app, ["inspections", "list"], terminal_width=80)
    assert rounds.exit_code == 0, rounds.output
    assert "…" not in rounds.output and _wrapped(LONG_NAME, rounds.output)
    assert max(len(line) for line in rounds.output.splitlines()) <= 80
    docs = runner.invoke(app, ["docs", "list"], terminal_width=80)
    assert "…" not in docs.output and _wrapped("关于清河县水利局防汛物资采购及办公楼维修项目的举报材料.txt", docs.output)
    document_id = context.repository().list_documents()[0].id
    shown = runner.invoke(app, ["docs", "show", str(document_id)], terminal_width=80)
    assert "…" not in shown.output and _wrapped("镇党委开会决定给干部突击发放年终补助46.8万元", shown.output)


def test_docs_kind_corrects_the_type_and_re_extracts_fields(xuncha_home, tmp_path):
    added = _ingest(tmp_path, "举报信.txt", PETITION_LINES, "第二轮")
    before = json.loads(runner.invoke(app, ["docs", "show", str(added["document_id"]), "--json"]).stdout)
    result = runner.invoke(app, ["docs", "kind", str(added["document_id"]), "interview"])
    assert result.exit_code == 0 and "个别谈话记录" in result.output
    after = json.loads(runner.invoke(app, ["docs", "show", str(added["document_id"]), "--json"]).stdout)
    assert after["kind"] == "interview" and after["kind_overridden"] and "complainant" not in after["fields"]
    assert [f["id"] for f in after["findings"]] == [f["id"] for f in before["findings"]]
    assert runner.invoke(app, ["docs", "kind", "999", "minutes"]).exit_code == 1


def test_inspections_delete_asks_first_and_removes_everything(xuncha_home, tmp_path):
    added = _ingest(tmp_path, "举报信.txt", PETITION_LINES, "待删除轮次")
    _ingest(tmp_path, "会议记录.txt", MINUTES_LINES, "保留轮次")
    repository = context.repository()
    original = repository.get_document(added["document_id"]).original_path
    finding = repository.get_document(added["document_id"]).findings[0].id
    repository.add_feedback(finding, "x", "reject", [], "张三")

    cancelled = runner.invoke(app, ["inspections", "delete", "待删除轮次"], input="n\n")
    assert cancelled.exit_code == 1 and "已取消" in cancelled.output
    assert repository.get_document(added["document_id"]) is not None

    deleted = runner.invoke(app, ["inspections", "delete", "待删除轮次"], input="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert "已删除巡察轮次" in deleted.output and "文档 1 份" in deleted.output
    assert repository.get_document(added["document_id"]) is None
    assert not (xuncha_home / "originals" / original).exists()
    assert [r.name for r in repository.list_inspections()] == ["保留轮次"]
    db = sqlite3.connect(xuncha_home / "xuncha.db")
    assert db.execute("select count(*) from tag_feedback").fetchone()[0] == 0
    assert db.execute("select outcome, client from audit_log where action = 'inspection.delete'").fetchall() == [
        ("ok", "cli")]
    assert runner.invoke(app, ["inspections", "delete", "待删除轮次", "--yes"]).exit_code == 1


def _commands(group: typer.Typer, prefix: list[str]):
    from typer.main import get_command

    command = get_command(group)
    stack = [(prefix, command)]
    while stack:
        path, current = stack.pop()
        yield path
        for name, sub in getattr(current, "commands", {}).items():
            stack.append((path + [name], sub))


def test_every_help_text_is_in_chinese():
    paths = list(_commands(app, []))
    assert ["inspections", "list"] in paths and ["inspections", "delete"] in paths and ["docs", "kind"] in paths
    leftovers = []
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        assert "Show this message" not in result.output, path
        for line in result.output.splitlines():
            row = line.strip("│ ")
            # an option or argument row: its name, its type, then the help text, which must be Chinese
            if re.match(r"^(\*\s+)?(--?[a-z][\w-]*|[a-z_]+\s+<)", row) and not CJK.search(row):
                leftovers.append((" ".join(path), row))
    assert not leftovers, leftovers


def test_usage_errors_are_in_chinese():
    missing = runner.invoke(app, ["ingest"])
    assert missing.exit_code == 2 and "缺少参数" in missing.output and "Missing" not in missing.output
    wrong = runner.invoke(app, ["docs", "show", "abc"])
    assert "取值无效" in wrong.output and "应为整数" in wrong.output
    unknown = runner.invoke(app, ["ingest", "x", "--bogus"])
    assert "没有这个选项" in unknown.output
