import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import MINUTES_LINES, PETITION_LINES
from nlp.checklist import Checklist, load_checklist
from nlp.dataset import load_examples, train_dev
from nlp.training import fit_tagger
from service import artefacts
from service.cli import app
from service.settings import get_settings

runner = CliRunner()


def test_ingest_folder_with_a_bad_file_reports_it_and_goes_on(xuncha_home, make_docx, tmp_path):
    folder = tmp_path / "材料"
    folder.mkdir()
    make_docx(MINUTES_LINES, "会议记录.docx").rename(folder / "会议记录.docx")
    (folder / "举报信.txt").write_bytes("\n".join(PETITION_LINES).encode("gbk"))
    (folder / "损坏.pdf").write_bytes(b"%PDF-1.5 garbage")
    result = runner.invoke(app, ["ingest", str(folder), "--inspection", "第二轮", "--team", "一组", "--json"])
    assert result.exit_code == 0, result.output
    rows = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
    assert rows["会议记录.docx"]["kind"] == "minutes" and rows["会议记录.docx"]["status"] == "added"
    assert rows["举报信.txt"]["kind"] == "petition"
    assert rows["损坏.pdf"]["status"] == "error" and "PDF" in rows["损坏.pdf"]["message"]

    listed = json.loads(runner.invoke(app, ["docs", "list", "--json"]).stdout)
    assert sorted(d["filename"] for d in listed) == ["举报信.txt", "会议记录.docx"]
    document_id = next(d["id"] for d in listed if d["filename"] == "举报信.txt")
    shown = json.loads(runner.invoke(app, ["docs", "show", str(document_id), "--json"]).stdout)
    assert shown["fields"]["complainant"] == "田富贵" and shown["encoding"] in ("gbk", "gb18030")
    assert all(f["page"] is None and f["end"] > f["start"] for f in shown["findings"])

    table = runner.invoke(app, ["docs", "show", str(document_id)])
    assert "反映人：田富贵" in table.stdout and "候选问题" in table.stdout
    assert runner.invoke(app, ["docs", "delete", str(document_id)]).exit_code == 0
    missing = runner.invoke(app, ["docs", "show", str(document_id)])
    assert missing.exit_code == 1 and "没有编号" in missing.output


def test_ingest_of_a_missing_path_fails_in_chinese(xuncha_home):
    result = runner.invoke(app, ["ingest", "/nonexistent/x.pdf", "--inspection", "第二轮"])
    assert result.exit_code == 2 and "找不到文件" in result.output


def test_checklist_commands():
    listed = json.loads(runner.invoke(app, ["checklist", "list", "--group", "c2", "--json"]).stdout)
    assert listed and all(i["group"] == "C2" for i in listed)
    shown = runner.invoke(app, ["checklist", "show", listed[0]["id"]])
    assert "问题表述" in shown.stdout and "依据" in shown.stdout
    bad = runner.invoke(app, ["checklist", "show", "Z9-99"])
    assert bad.exit_code == 1 and "没有编号为 Z9-99" in bad.output


@pytest.fixture
def small_model(tmp_path, monkeypatch):
    """A tagger trained on two groups, saved where the CLI looks for it."""
    monkeypatch.setenv("XUNCHA_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    full = load_checklist()
    checklist = Checklist(version=full.version, focus=full.focus, disciplines=full.disciplines,
                          groups=full.groups, items=[i for i in full.items if i.group in ("C2", "C6")])
    keep = {i.id for i in checklist.items}
    train, _ = train_dev(load_examples())
    train = [e for e in train if not e.items or set(e.items) <= keep]
    tagger = fit_tagger(checklist, train, None)
    artefacts.save_tagger(tagger, artefacts.TaggerMeta(artefacts.data_fingerprint(b"[]"), full.version, "", len(train), 0, 0.0),
                          get_settings())
    yield
    get_settings.cache_clear()


def test_tag_reads_jsonl_and_writes_jsonl(small_model):
    lines = [{"id": "a", "text": "村支书把低保名额都给了自家亲戚，真正困难的户评不上"},
             {"id": "b", "text": "会议传达学习了上级文件精神"}]
    stdin = "\n".join(json.dumps(l, ensure_ascii=False) for l in lines) + "\n"
    result = runner.invoke(app, ["tag", "-k", "2"], input=stdin)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    keys = {"id", "is_finding", "finding_score", "checklist", "focus", "focus_score", "discipline",
            "discipline_score", "evidence"}
    assert all(keys <= set(r) for r in rows)
    assert rows[0]["is_finding"] and not rows[1]["is_finding"]
    assert len(rows[0]["checklist"]) == 2 and rows[0]["checklist"][0]["id"].startswith("C6")


def test_tag_rejects_bad_jsonl_in_chinese(small_model):
    result = runner.invoke(app, ["tag"], input='{"id": 1}\n')
    assert result.exit_code == 2 and "缺少文本字段" in result.output


def test_console_script_is_installed():
    completed = subprocess.run([str(Path(sys.executable).parent / "xuncha"), "--help"], capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0 and "巡察" in completed.stdout


def test_reviewed_tags_become_training_data(xuncha_home, small_model, make_docx):
    from service import context, feedback

    result = runner.invoke(app, ["ingest", str(make_docx(PETITION_LINES, "信.docx")), "-i", "第二轮", "--json"])
    (ingested,) = json.loads(result.stdout)
    document_id = ingested["document_id"]
    findings = context.repository().get_document(document_id).findings
    assert ingested["findings"] == len(findings)
    assert 0 < ingested["flagged"] == sum(bool(f.tags["is_finding"]) for f in findings) < len(findings)
    shown = runner.invoke(app, ["ingest", str(make_docx(MINUTES_LINES, "纪要.docx")), "-i", "第二轮"])
    assert shown.exit_code == 0 and "疑似问题" in shown.stdout
    assert re.search(r"新入库文件共\s*\d+\s*条候选问题，其中疑似问题\s*\d+\s*条", shown.stdout), shown.stdout
    listed = json.loads(runner.invoke(app, ["docs", "list", "--json"]).stdout)
    assert next(d for d in listed if d["id"] == document_id)["flagged_count"] == ingested["flagged"]
    tagged = next(f for f in findings if f.tags and f.tags["labels"])
    assert {"finding_score", "checklist", "focus", "evidence"} <= set(tagged.tags)

    assert runner.invoke(app, ["train", "--check"]).exit_code == 0
    assert runner.invoke(app, ["review", str(tagged.id), "-a", "confirm", "--by", "张审核"]).exit_code == 0
    other = next(f for f in findings if f.id != tagged.id)
    corrected = runner.invoke(app, ["review", str(other.id), "-a", "correct", "--items", "c2-01", "--by", "张审核"])
    assert corrected.exit_code == 0, corrected.output
    bad = runner.invoke(app, ["review", str(other.id), "-a", "correct", "--items", "Z9-99", "--by", "张审核"])
    assert bad.exit_code == 1 and "Z9-99" in bad.output

    examples = {e.text: e.items for e in feedback.training_examples(get_settings())}
    assert examples[tagged.text] == tuple(tagged.tags["labels"])
    assert examples[other.text] == ("C2-01",)
    rows = context.repository().list_feedback()
    assert [r.reviewer for r in rows] == ["张审核", "张审核"] and all(r.created_at for r in rows)
    check = runner.invoke(app, ["train", "--check"])
    assert check.exit_code == 1  # new feedback makes the saved model stale
