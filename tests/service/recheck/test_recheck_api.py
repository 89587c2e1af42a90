"""回头看 end to end over HTTP: a unit (柳河镇) is inspected twice by one team. Round 1 is the
rectification tests' round (documents written for those tests, findings corrected to items, report
finalised into the ledger, the car task 销号'd with evidence). Round 2 brings documents written for
this test: the gifts problem again (its task never 销号: 整改不到位), the car problem again (销号'd:
反弹回潮) and a new problem. Findings of round 2 are tagged in SQLite (tagging on ingest is off)."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rectification"))
from api_fixtures import api  # noqa: E402,F401  (module-scoped server fixture)
from ledger_world import CAR, EVIDENCE, GIFTS, TENDER, WORDINGS, build_round, write_docx  # noqa: E402

from service.cli import app as cli_app  # noqa: E402

TEAM, OTHER_TEAM = "回头看甲组", "回头看乙组"
MEETINGS = "B1-05"
INTERVIEW_2 = ["个别谈话记录", "谈话对象：韩某某（柳河镇党政办主任）", "时间：2026年4月8日", "谈话人：钱某、孙某",
               "韩某某：今年中秋节前镇里又拿办公经费买了月饼，分给各村的村干部过节。",
               "韩某某：国庆假期分管副镇长又把镇政府那辆越野车开回老家去了。",
               "韩某某：镇机关第二党支部去年下半年一次支部党员大会都没开，党课也没有上过。"]
SECOND = {"月饼": GIFTS, "越野车": CAR, "党课": MEETINGS}


def _tag(api, finding_id: int, item: str) -> None:
    tags = json.dumps({"is_finding": True, "finding_score": 0.9, "labels": [item],
                       "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2})
    db = sqlite3.connect(api.home / "xuncha.db")
    with db:
        db.execute("update findings set tags = ? where id = ?", (tags, finding_id))


@pytest.fixture(scope="module")
def world(api, tmp_path_factory):
    tokens = {"writer": api.add_user("回头看撰稿员", TEAM), "other": api.add_user("回头看乙组员", OTHER_TEAM),
              "admin": api.add_user("回头看审批人", "巡察办", "admin")}
    files = tmp_path_factory.mktemp("recheck-files")
    with api.client(tokens["writer"]) as writer:
        first = build_round(writer, api.wait, files, "柳河镇2025年第一轮")
        ledger = writer.post(f"/api/inspections/{first['inspection']}/report/finalise")
        assert ledger.status_code == 200, ledger.text
        tasks = {t["item_id"]: t["id"] for t in ledger.json()["tasks"]}
        evidence = write_docx(EVIDENCE, files / "公车整改说明.docx")
        upload = writer.post(f"/api/rectification-tasks/{tasks[CAR]}/evidence",
                             files=[("files", (evidence.name, evidence.read_bytes()))])
        assert upload.status_code == 200, upload.text
        assert writer.post(f"/api/rectification-tasks/{tasks[CAR]}/submit").status_code == 200
        second = writer.post("/api/inspections", json={"name": "柳河镇2026年第一轮", "target_unit": "柳河镇"}).json()["id"]
        path = write_docx(INTERVIEW_2, files / "韩某某谈话记录.docx")
        job = api.wait(writer, writer.post(f"/api/inspections/{second}/documents",
                                           files=[("files", (path.name, path.read_bytes()))]).json()["id"])
        assert job["status"] == "done", job
        findings = writer.get(f"/api/documents/{job['files'][0]['document_id']}").json()["findings"]
    with api.client(tokens["admin"]) as admin:
        assert admin.post(f"/api/rectification-tasks/{tasks[CAR]}/approve").json()["status"] == "closed"
    ids = {}
    for words, item in SECOND.items():
        ids[words] = next(f["id"] for f in findings if words in f["text"])
        _tag(api, ids[words], item)
    return {"tokens": tokens, "first": first["inspection"], "second": second, "tasks": tasks, "findings": ids}


def _recheck(api, token: str, inspection: int) -> dict:
    with api.client(token) as client:
        response = client.get(f"/api/inspections/{inspection}/recheck")
    assert response.status_code == 200, response.text
    return response.json()


def test_each_new_finding_is_classed_against_the_earlier_round(api, world):
    result = _recheck(api, world["tokens"]["writer"], world["second"])
    assert [r["id"] for r in result["earlier_rounds"]] == [world["first"]] and result["target_unit"] == "柳河镇"
    by_finding = {f["finding_id"]: f for f in result["findings"]}
    assert set(by_finding) == set(world["findings"].values())  # untagged header lines are no findings
    gifts, car, meetings = (by_finding[world["findings"][w]] for w in ("月饼", "越野车", "党课"))
    # The gifts task was never 销号: the same problem again is 整改不到位.
    assert gifts["class"] == "整改不到位" and gifts["repeat"]
    assert gifts["matched"]["task_id"] == world["tasks"][GIFTS] and gifts["matched"]["wording"] == WORDINGS[GIFTS]
    assert gifts["matched"]["inspection_id"] == world["first"] and gifts["matched"]["status_label"] == "未启动"
    assert "清单条目相同" in gifts["reason"] and GIFTS in gifts["reason"] and "相似度" in gifts["reason"]
    # The car task was 销号'd with evidence and the problem is back: 反弹回潮.
    assert car["class"] == "反弹回潮" and car["matched"]["task_id"] == world["tasks"][CAR]
    assert car["matched"]["closed"] and car["matched"]["status_label"] == "已销号"
    # Nothing earlier under the meetings item, nothing that close: a new problem, with its closest one named.
    assert meetings["class"] == "新问题" and meetings["matched"] is None and not meetings["repeat"]
    assert meetings["reason"].startswith("上轮巡察反馈的问题中没有同一问题") and "清单条目不同" in meetings["reason"]
    assert result["counts"] == {"整改不到位": 1, "反弹回潮": 1, "新问题": 1}
    # Earlier problems without 销号 are listed; the closed car task is not.
    unclosed = {p["item_id"]: p for p in result["unclosed"]}
    assert set(unclosed) == {GIFTS, TENDER} and unclosed[TENDER]["status_label"] == "未启动"
    assert all(not p["closed"] and p["task_id"] for p in unclosed.values())


def test_the_first_round_has_nothing_earlier(api, world):
    result = _recheck(api, world["tokens"]["writer"], world["first"])
    assert result["earlier_rounds"] == [] and result["unclosed"] == []
    assert sorted(f["items"][0] for f in result["findings"]) == sorted([CAR, GIFTS, TENDER])  # the reviewed findings
    assert all(f["class"] == "新问题" and f["matched"] is None and "首次发现" in f["reason"] for f in result["findings"])
    assert result["counts"] == {"整改不到位": 0, "反弹回潮": 0, "新问题": 3}


def test_the_report_draft_gets_the_previous_round_section(api, world):
    with api.client(world["tokens"]["writer"]) as writer:
        report = writer.get(f"/api/inspections/{world['second']}/report", timeout=600)
        assert report.status_code == 200, report.text
        exported = writer.get(f"/api/inspections/{world['second']}/report.docx", params={"force": 1}, timeout=600)
        first = writer.get(f"/api/inspections/{world['first']}/report").json()
    section = report.json()["previous_round"]
    assert section["title"] == "上轮巡察反馈问题整改情况" and section["earlier_rounds"] == ["柳河镇2025年第一轮"]
    problems = {p["item_id"]: p for p in section["problems"]}
    assert set(problems) == {GIFTS, CAR, TENDER}
    assert {k: p["status_label"] for k, p in problems.items()} == {GIFTS: "未启动", CAR: "已销号", TENDER: "未启动"}
    assert [(r["finding_id"], r["class"]) for r in problems[GIFTS]["repeated_by"]] == [(world["findings"]["月饼"], "整改不到位")]
    assert [(r["finding_id"], r["class"]) for r in problems[CAR]["repeated_by"]] == [(world["findings"]["越野车"], "反弹回潮")]
    assert problems[TENDER]["repeated_by"] == []
    assert (section["unclosed"], section["repeats"], section["new"]) == (2, 2, 1)
    assert first["previous_round"] is None  # nothing earlier: no section
    assert exported.status_code == 200, exported.text
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(exported.content)).paragraphs)
    assert "上轮巡察反馈问题整改情况" in text and WORDINGS[CAR] in text and "整改状态：已销号" in text
    assert "本轮再次发现（反弹回潮）" in text and "本轮再次发现（整改不到位）" in text
    assert "未销号 2 个" in text and "1 个为新问题" in text


def test_cli_prints_classes_reasons_and_the_unclosed_list(api, world):
    result = CliRunner().invoke(cli_app, ["recheck", str(world["second"]), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    classes = {f["finding_id"]: (f["class"], (f["matched"] or {}).get("item_id")) for f in data["findings"]}
    assert classes == {world["findings"]["月饼"]: ("整改不到位", GIFTS), world["findings"]["越野车"]: ("反弹回潮", CAR),
                       world["findings"]["党课"]: ("新问题", None)}
    assert all(f["reason"] for f in data["findings"]) and {p["item_id"] for p in data["unclosed"]} == {GIFTS, TENDER}
    table = CliRunner().invoke(cli_app, ["recheck", "柳河镇2026年第一轮", "--team", TEAM])
    assert table.exit_code == 0 and "反弹回潮" in table.stdout and "未销号" in table.stdout
    assert CliRunner().invoke(cli_app, ["recheck", "999999"]).exit_code == 1


def test_other_teams_get_404_and_see_none_of_our_rounds(api, world):
    with api.client(world["tokens"]["other"]) as other:
        refused = other.get(f"/api/inspections/{world['second']}/recheck")
        missing = other.get("/api/inspections/999999/recheck")
        own = other.post("/api/inspections", json={"name": "柳河镇2026年专项", "target_unit": "柳河镇"}).json()["id"]
        mine = other.get(f"/api/inspections/{own}/recheck")
    assert refused.status_code == 404 and refused.json() == missing.json()
    assert mine.status_code == 200 and mine.json()["earlier_rounds"] == [] and mine.json()["unclosed"] == []
    # An admin sees every team: the other team's round is compared with ours.
    admin = _recheck(api, world["tokens"]["admin"], own)
    assert [r["id"] for r in admin["earlier_rounds"]] == [world["first"], world["second"]]


def test_recheck_reads_are_audited_with_ids_only(api, world):
    test_other_teams_get_404_and_see_none_of_our_rounds(api, world)
    _recheck(api, world["tokens"]["writer"], world["second"])
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("select * from audit_log where action = 'recheck.read'")]
    seen = {(r["user_name"], r["object_id"], r["outcome"]) for r in rows}
    assert ("回头看撰稿员", str(world["second"]), "ok") in seen
    assert ("回头看乙组员", str(world["second"]), "denied") in seen
    assert ("回头看乙组员", "999999", "not_found") in seen
    dump = json.dumps(rows, ensure_ascii=False) + api.log.getvalue()
    for secret in [*WORDINGS.values(), "月饼", "越野车", "韩某某", "党课"]:
        assert secret not in dump, secret
