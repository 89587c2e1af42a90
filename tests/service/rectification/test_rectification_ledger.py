"""The rectification ledger (整改台账) end to end over HTTP: two documents written for this test are
uploaded into a round, a reviewer corrects their findings to checklist items, the writer finalises
the report, and the ledger follows — warnings on an injected clock, edits, evidence uploaded and
ingested as documents of their own kind, 销号 by a different approver, exports, the CLI, team
isolation and audit rows."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_fixtures import api  # noqa: E402,F401  (module-scoped server fixture)

from ledger_world import CAR, EVIDENCE, GIFTS, TENDER, WORDINGS, build_round, write_docx  # noqa: E402

from service.cli import app as cli_app  # noqa: E402

TEAM, OTHER_TEAM = "整改甲组", "整改乙组"
TODAY = date(2025, 4, 1)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def clock(api):
    """The ledger's clock, set per test through ``app.state.rectification_clock``."""
    now = {"today": TODAY}
    api.app.state.rectification_clock = lambda: now["today"]
    return now


@pytest.fixture(scope="module")
def world(api, clock, tmp_path_factory):
    tokens = {"writer": api.add_user("整改撰稿员", TEAM), "colleague": api.add_user("整改组员", TEAM),
              "other": api.add_user("乙组组员", OTHER_TEAM), "analyst": api.add_user("整改分析员", "巡察办", "analyst"),
              "admin": api.add_user("巡察办主任", "巡察办", "admin"), "admin2": api.add_user("巡察办副主任", "巡察办", "admin")}
    files = tmp_path_factory.mktemp("rectification-files")
    with api.client(tokens["writer"]) as writer:
        built = build_round(writer, api.wait, files, "柳河镇2025年第一轮")
    return {"tokens": tokens, "files": files, **built}


@pytest.fixture(scope="module")
def ledger(api, world, clock):
    with api.client(world["tokens"]["writer"]) as writer:
        assert writer.get(f"/api/inspections/{world['inspection']}/rectification").json()["finalised"] is False
        response = writer.post(f"/api/inspections/{world['inspection']}/report/finalise")
    assert response.status_code == 200, response.text
    return response.json()


def _tasks(ledger: dict) -> dict[str, dict]:
    return {t["item_id"]: t for t in ledger["tasks"]}


def _get(api, token: str, inspection: int) -> dict:
    with api.client(token) as client:
        response = client.get(f"/api/inspections/{inspection}/rectification")
    assert response.status_code == 200, response.text
    return response.json()


def test_finalising_turns_each_included_problem_into_a_task(api, world, ledger):
    from nlp.checklist import load_checklist

    checklist = load_checklist()
    tasks = _tasks(ledger)
    assert ledger["finalised"] and ledger["finalised_by"] == "整改撰稿员" and ledger["today"] == TODAY.isoformat()
    assert set(tasks) == {GIFTS, CAR, TENDER}
    for item, task in tasks.items():
        assert task["problem"] == WORDINGS[item] and task["problem_id"] == world["problems"][item]["id"]
        assert task["measures"] == checklist.get(item).rectification and task["measures"]
        assert task["unit"] == "柳河镇" and task["person"] is None
        assert task["deadline"] == (TODAY + timedelta(days=60)).isoformat() and task["days_left"] == 60
        assert task["status"] == "not_started" and task["status_label"] == "未启动" and task["warning"] is None
    # Finalising again keeps the tasks (and any edits) and adds nothing new.
    with api.client(world["tokens"]["writer"]) as writer:
        again = writer.post(f"/api/inspections/{world['inspection']}/report/finalise").json()
    assert [t["id"] for t in again["tasks"]] == [t["id"] for t in ledger["tasks"]]


def test_finalising_with_unfinished_wording_asks_first(api, world, ledger):
    problem = world["problems"][TENDER]["id"]
    with api.client(world["tokens"]["writer"]) as writer:
        marked = WORDINGS[TENDER] + "涉及金额【待补充：金额】。"
        assert writer.patch(f"/api/report-problems/{problem}", json={"wording": marked}).status_code == 200
        refused = writer.post(f"/api/inspections/{world['inspection']}/report/finalise")
        assert refused.status_code == 409 and refused.json()["code"] == "unfinished_wording"
        assert "定稿" in refused.json()["detail"] and refused.json()["problems"][0]["id"] == problem
        forced = writer.post(f"/api/inspections/{world['inspection']}/report/finalise", params={"force": 1})
        assert forced.status_code == 200 and _tasks(forced.json())[TENDER]["problem"] == WORDINGS[TENDER]
        assert writer.patch(f"/api/report-problems/{problem}", json={"wording": WORDINGS[TENDER]}).status_code == 200


def test_warnings_follow_days_left_on_the_injected_clock(api, world, ledger, clock):
    deadline = date.fromisoformat(ledger["tasks"][0]["deadline"])
    seen = {}
    try:
        for left, expected in ((21, None), (20, "green"), (11, "green"), (10, "yellow"), (0, "yellow"), (-1, "red")):
            clock["today"] = deadline - timedelta(days=left)
            task = _get(api, world["tokens"]["writer"], world["inspection"])["tasks"][0]
            seen[left] = (task["days_left"], task["warning"])
            assert task["days_left"] == left and task["warning"] == expected, (left, task["warning"])
        counts = _get(api, world["tokens"]["writer"], world["inspection"])["counts"]
        assert counts["red"] == 3 and counts["not_started"] == 3
    finally:
        clock["today"] = TODAY
    assert len(seen) == 6


def test_cli_lists_the_ledger_with_warnings_as_json(api, world, ledger):
    deadline = date.fromisoformat(ledger["tasks"][0]["deadline"])
    result = CliRunner().invoke(cli_app, ["rectification", "list", "--inspection", str(world["inspection"]), "--json",
                                          "--today", (deadline - timedelta(days=5)).isoformat()])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["item_id"] for r in rows} == {GIFTS, CAR, TENDER}
    assert all({"id", "problem", "unit", "deadline", "status", "warning"} <= set(r) for r in rows)
    assert {(r["warning"], r["days_left"], r["status"], r["unit"]) for r in rows} == {("yellow", 5, "not_started", "柳河镇")}
    table = CliRunner().invoke(cli_app, ["rectification", "list", "-i", str(world["inspection"]),
                                         "--today", (deadline + timedelta(days=3)).isoformat()])
    assert table.exit_code == 0 and "红灯" in table.stdout and "未启动" in table.stdout
    missing = CliRunner().invoke(cli_app, ["rectification", "list", "-i", "999999", "--json"])
    assert missing.exit_code == 1


def test_writers_edit_tasks_and_analysts_cannot(api, world, ledger):
    task = _tasks(ledger)[CAR]
    with api.client(world["tokens"]["writer"]) as writer:
        response = writer.patch(f"/api/rectification-tasks/{task['id']}", json={
            "person": "张某（柳河镇党委书记）", "measures": "建立公车节假日封存和行车轨迹监控制度。",
            "deadline": "2025-06-30", "status": "in_progress"})
        assert response.status_code == 200, response.text
        edited = response.json()
        assert (edited["person"], edited["deadline"], edited["status"], edited["status_label"]) == \
            ("张某（柳河镇党委书记）", "2025-06-30", "in_progress", "整改中")
        assert edited["updated_by"] == "整改撰稿员"
        # 待销号 and 已销号 have actions of their own; empty measures are refused.
        assert writer.patch(f"/api/rectification-tasks/{task['id']}", json={"status": "closed"}).status_code == 422
        assert writer.patch(f"/api/rectification-tasks/{task['id']}", json={"measures": "  "}).status_code == 422
    with api.client(world["tokens"]["analyst"]) as analyst:
        assert analyst.get(f"/api/inspections/{world['inspection']}/rectification").status_code == 200
        assert analyst.patch(f"/api/rectification-tasks/{task['id']}", json={"person": "x"}).status_code == 403


def test_evidence_upload_then_closure_by_a_different_approver(api, world, ledger):
    task = _tasks(ledger)[CAR]
    path = write_docx(EVIDENCE, world["files"] / "公车整改说明.docx")
    with api.client(world["tokens"]["writer"]) as writer:
        refused = writer.post(f"/api/rectification-tasks/{task['id']}/submit")
        assert refused.status_code == 409 and "佐证材料" in refused.json()["detail"]
        report_before = writer.get(f"/api/inspections/{world['inspection']}/report").json()
        response = writer.post(f"/api/rectification-tasks/{task['id']}/evidence",
                               files=[("files", (path.name, path.read_bytes()))])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["files"][0]["status"] == "added"
        document_id = body["files"][0]["document_id"]
        assert [e["document_id"] for e in body["task"]["evidence"]] == [document_id]
        assert body["task"]["evidence"][0]["kind"] == "evidence"
        # Ingested through the normal path as a document of its own kind, in the same round...
        detail = writer.get(f"/api/documents/{document_id}").json()
        assert detail["kind"] == "evidence" and "轨迹监控" in detail["text"] and detail["inspection_id"] == world["inspection"]
        # ...and never read as evidence of a problem by the report.
        report_after = writer.post(f"/api/inspections/{world['inspection']}/report").json()
        assert report_after["problem_count"] == report_before["problem_count"]
        submitted = writer.post(f"/api/rectification-tasks/{task['id']}/submit").json()
        assert submitted["status"] == "pending_closure" and submitted["submitted_by"] == "整改撰稿员"
        # A team member is not an approver (XUNCHA_RECTIFICATION_APPROVER_ROLES defaults to admin).
        assert writer.post(f"/api/rectification-tasks/{task['id']}/approve").status_code == 403
    with api.client(world["tokens"]["colleague"]) as colleague:
        assert colleague.post(f"/api/rectification-tasks/{task['id']}/approve").status_code == 403
    with api.client(world["tokens"]["admin"]) as admin:
        approved = admin.post(f"/api/rectification-tasks/{task['id']}/approve")
        assert approved.status_code == 200, approved.text
        closed = approved.json()
        assert (closed["status"], closed["status_label"], closed["approved_by"], closed["warning"]) == \
            ("closed", "已销号", "巡察办主任", None)
        assert admin.patch(f"/api/rectification-tasks/{task['id']}", json={"person": "x"}).status_code == 409
        assert admin.post(f"/api/rectification-tasks/{task['id']}/evidence",
                          files=[("files", ("再补充.txt", "补充说明".encode()))]).status_code == 409


def test_the_submitter_never_approves_their_own_request_and_rejection_reopens(api, world, ledger):
    task = _tasks(ledger)[GIFTS]
    with api.client(world["tokens"]["admin"]) as admin:
        upload = admin.post(f"/api/rectification-tasks/{task['id']}/evidence",
                            files=[("files", ("退款凭证说明.txt", "已收回月饼款项并上缴财政。".encode()))])
        assert upload.status_code == 200 and upload.json()["task"]["status"] == "in_progress"
        assert admin.post(f"/api/rectification-tasks/{task['id']}/submit").json()["submitted_by"] == "巡察办主任"
        same = admin.post(f"/api/rectification-tasks/{task['id']}/approve")
        assert same.status_code == 403 and "提交人以外" in same.json()["detail"]
    with api.client(world["tokens"]["admin2"]) as admin2:
        rejected = admin2.post(f"/api/rectification-tasks/{task['id']}/reject").json()
        assert rejected["status"] == "in_progress" and rejected["submitted_by"] is None
        assert admin2.post(f"/api/rectification-tasks/{task['id']}/approve").status_code == 409


def test_exports_hold_the_three_lists_and_the_ledger(api, world, ledger):
    with api.client(world["tokens"]["writer"]) as writer:
        response = writer.get(f"/api/inspections/{world['inspection']}/rectification.xlsx")
        single = writer.get(f"/api/inspections/{world['inspection']}/rectification.xlsx", params={"sheet": "responsibilities"})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["问题清单", "任务清单", "责任清单", "整改台账"]
    problems = list(book["问题清单"].iter_rows(values_only=True))
    assert {row[3] for row in problems[1:]} == set(WORDINGS.values())
    responsibilities = list(book["责任清单"].iter_rows(values_only=True))
    assert responsibilities[0][:3] == ("序号", "责任单位", "责任人")
    assert ("柳河镇", "张某（柳河镇党委书记）") in {row[1:3] for row in responsibilities[1:]}
    ledger_rows = {row[1]: row for row in book["整改台账"].iter_rows(min_row=2, values_only=True)}
    assert ledger_rows[WORDINGS[CAR]][8] == "已销号" and ledger_rows[WORDINGS[CAR]][10] == "巡察办主任"
    assert "公车整改说明.docx" in ledger_rows[WORDINGS[CAR]][9]
    assert ledger_rows[WORDINGS[TENDER]][8] == "未启动" and ledger_rows[WORDINGS[TENDER]][6] == 60
    assert openpyxl.load_workbook(io.BytesIO(single.content)).sheetnames == ["责任清单"]


def test_another_team_gets_404_everywhere(api, world, ledger):
    task = _tasks(ledger)[TENDER]
    with api.client(world["tokens"]["other"]) as other:
        inspection = world["inspection"]
        answers = [other.get(f"/api/inspections/{inspection}/rectification"),
                   other.post(f"/api/inspections/{inspection}/report/finalise"),
                   other.get(f"/api/inspections/{inspection}/rectification.xlsx"),
                   other.patch(f"/api/rectification-tasks/{task['id']}", json={"person": "乙组改写"}),
                   other.post(f"/api/rectification-tasks/{task['id']}/evidence",
                              files=[("files", ("乙组.txt", "乙组材料".encode()))]),
                   other.post(f"/api/rectification-tasks/{task['id']}/submit"),
                   other.post(f"/api/rectification-tasks/{task['id']}/approve"),
                   other.post(f"/api/rectification-tasks/{task['id']}/reject")]
        missing = other.patch("/api/rectification-tasks/999999", json={"person": "乙组改写"})
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert {r.json()["detail"] for r in answers[3:]} == {missing.json()["detail"]} and missing.status_code == 404
    assert _tasks(_get(api, world["tokens"]["writer"], world["inspection"]))[TENDER]["person"] is None


def test_every_change_is_audited_with_ids_only(api, world, ledger):
    test_another_team_gets_404_everywhere(api, world, ledger)
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("select * from audit_log where action like 'rectification.%'")]
    done = {(r["user_name"], r["action"], r["object_type"], r["outcome"]) for r in rows}
    tasks = _tasks(ledger)
    assert {("整改撰稿员", "rectification.finalise", "inspection", "ok"),
            ("整改撰稿员", "rectification.edit", "rectification_task", "ok"),
            ("整改撰稿员", "rectification.edit", "rectification_task", "invalid"),
            ("整改撰稿员", "rectification.evidence", "rectification_task", "ok"),
            ("整改撰稿员", "rectification.evidence", "document", "ok"),
            ("整改撰稿员", "rectification.submit", "rectification_task", "invalid"),
            ("整改撰稿员", "rectification.submit", "rectification_task", "ok"),
            ("整改撰稿员", "rectification.approve", "rectification_task", "denied"),
            ("巡察办主任", "rectification.approve", "rectification_task", "ok"),
            ("巡察办副主任", "rectification.reject", "rectification_task", "ok"),
            ("整改分析员", "rectification.edit", "rectification_task", "denied")} <= done
    denied = {(r["action"], r["outcome"]) for r in rows if r["user_name"] == "乙组组员"}
    assert ("rectification.read", "denied") in denied and ("rectification.approve", "denied") in denied
    assert ("rectification.edit", "not_found") in denied
    approved = [r for r in rows if r["action"] == "rectification.approve" and r["outcome"] == "ok"]
    assert [r["object_id"] for r in approved] == [str(tasks[CAR]["id"])]
    assert all(r["inspection_id"] == world["inspection"] for r in rows if r["outcome"] == "ok")
    dump = json.dumps(rows, ensure_ascii=False) + api.log.getvalue()
    for secret in [*WORDINGS.values(), "张某", "轨迹监控", "公车整改说明", "月饼", "乙组改写"]:
        assert secret not in dump, secret
