"""Report drafts over HTTP: shapes, team scope, roles, edits surviving rebuilds, exports, audit without text."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from urllib.parse import quote

import docx
import openpyxl
import pytest

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from service import context
from service.reports.outline import EMPTY_NOTE
from service.storage import NewDocument, NewFinding

MISSING = 999999
BONUS, CAR, STAFFING = "C2-14", "C2-21", "B3-01"
BONUS_TEXT = "2023年12月28日镇党委开会决定给干部突击发放年终补助46.8万元"
BONUS_TEXT_2 = "孙桂芳说年底每人发了个辛苦费，一共46.8万元，没有文件依据"
CAR_TEXT = "副镇长钱永军长期把公车开回家私用，加油费在镇里报销"
STAFFING_TEXT = "镇里副科级干部比核定职数多出三个"
SECRETS = [BONUS_TEXT, BONUS_TEXT_2, CAR_TEXT, STAFFING_TEXT, "钱永军", "46.8万元", "辛苦费", "年终补助"]
MONEY = {"label": "money", "text": "46.8万元", "value": 468000.0, "start": 0, "end": 6}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_KEYS = {"inspection_id", "inspection", "team", "target_unit", "updated_at", "updated_by", "problem_count",
               "groups", "previous_round"}
PROBLEM_KEYS = {"id", "item_id", "wording", "generated_wording", "unfinished", "alternatives", "evidence", "included",
                "edited", "edited_by", "edited_at"}
EVIDENCE_KEYS = {"finding_id", "document_id", "filename", "kind", "page", "quote", "review", "items"}


def _tags(item: str, score: float = 0.9) -> dict:
    return {"is_finding": True, "finding_score": score, "labels": [item],
            "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2}


def _document(repository, inspection_id: int, filename: str, kind: str, rows: list[tuple]) -> list[int]:
    findings = [NewFinding(seq, text, 0, len(text), 0, len(text), page, None, "statement", None, entities, tags)
                for seq, (text, page, entities, tags) in enumerate(rows)]
    text = "\n".join(row[0] for row in rows)
    document_id = repository.add_document(inspection_id, NewDocument(
        filename, hashlib.sha256(text.encode()).hexdigest(), len(text.encode()), "docx", kind, 0.9, {}, {}, 2, None,
        [], [], "originals/none", text, findings))
    return [f.id for f in repository.get_document(document_id).findings]


@pytest.fixture(scope="module")
def world(api):
    tokens = {"a": api.add_user("撰稿甲", "撰稿甲组"), "b": api.add_user("撰稿乙", "撰稿乙组"),
              "analyst": api.add_user("撰稿分析员", "巡察办", role="analyst"),
              "admin": api.add_user("撰稿管理员", "巡察办", role="admin")}
    with api.client(tokens["a"]) as a:
        inspection = a.post("/api/inspections", json={"name": "撰稿甲组第一轮", "target_unit": "青石镇"}).json()["id"]
        empty = a.post("/api/inspections", json={"name": "撰稿甲组空轮次"}).json()["id"]
    # Tagging on ingest is off in API tests: store findings with the tags the tagger would give.
    repository = context.repository(api.settings)
    bonus, car = _document(repository, inspection, "举报信.docx", "petition", [
        (BONUS_TEXT, 1, [MONEY], _tags(BONUS, 0.95)), (CAR_TEXT, 2, [], _tags(CAR, 0.8))])
    bonus_2, staffing = _document(repository, inspection, "孙桂芳谈话.docx", "interview", [
        (BONUS_TEXT_2, None, [MONEY], _tags(BONUS, 0.7)), (STAFFING_TEXT, 3, [], _tags(STAFFING, 0.85))])
    return {"tokens": tokens, "inspection": inspection, "empty": empty,
            "findings": {"bonus": bonus, "car": car, "bonus_2": bonus_2, "staffing": staffing}}


def _problems(report: dict) -> dict[str, dict]:
    return {p["item_id"]: p for g in report["groups"] for i in g["items"] for p in i["problems"]}


def _report(client, inspection: int) -> dict:
    response = client.get(f"/api/inspections/{inspection}/report")
    assert response.status_code == 200, response.text
    return response.json()


def test_first_read_builds_the_draft_in_the_documented_shape(api, world):
    with api.client(world["tokens"]["a"]) as a:
        report = _report(a, world["inspection"])
    assert set(report) == REPORT_KEYS
    assert (report["inspection"], report["team"], report["target_unit"]) == ("撰稿甲组第一轮", "撰稿甲组", "青石镇")
    assert report["updated_by"] == "撰稿甲" and report["problem_count"] == 3 and report["previous_round"] is None
    assert [(g["focus"], [i["item_id"] for i in g["items"]]) for g in report["groups"]] == [
        (2, [BONUS, CAR]), (3, [STAFFING])]
    assert report["groups"][0]["focus_title"] == "聚焦群众身边腐败问题和不正之风"
    item = report["groups"][0]["items"][0]
    assert set(item) == {"item_id", "item_title", "discipline", "problems"}
    assert (item["item_title"], item["discipline"]) == ("自设名目发放津补贴和奖金", "廉洁纪律")
    problem = item["problems"][0]
    assert set(problem) == PROBLEM_KEYS and all(set(e) == EVIDENCE_KEYS for e in problem["evidence"])
    # Built from the strongest finding itself; no raw slot, no unit the evidence does not name.
    assert problem["wording"] == problem["generated_wording"] == f"信访反映：{BONUS_TEXT}。"
    assert problem["unfinished"] == []
    assert [e["finding_id"] for e in problem["evidence"]] == [world["findings"]["bonus"], world["findings"]["bonus_2"]]
    assert problem["evidence"][0] == {"finding_id": world["findings"]["bonus"], "document_id": problem["evidence"][0][
        "document_id"], "filename": "举报信.docx", "kind": "petition", "page": 1, "quote": BONUS_TEXT, "review": None,
        "items": [BONUS]}
    sources = [a["source"] for a in problem["alternatives"]]
    assert sources[0] == "finding" and problem["alternatives"][0]["text"] == f"谈话中反映：{BONUS_TEXT_2}。"
    assert "checklist" in sources and sources.count("case") <= 2
    assert all(a["case_id"] for a in problem["alternatives"] if a["source"] == "case")
    assert not any("{" in a["text"] or "青石镇" in a["text"] for a in problem["alternatives"])
    assert problem["included"] is True and problem["edited"] is False and problem["edited_at"] is None


def test_another_team_gets_404_exactly_like_a_missing_inspection_or_problem(api, world):
    with api.client(world["tokens"]["a"]) as a:
        problem = _problems(_report(a, world["inspection"]))[BONUS]
    inspection = world["inspection"]
    probes = [("GET", "/api/inspections/{}/report", None), ("POST", "/api/inspections/{}/report", None),
              ("GET", "/api/inspections/{}/report.docx", None), ("GET", "/api/inspections/{}/report.xlsx", None)]
    with api.client(world["tokens"]["b"]) as b:
        for method, url, body in probes:
            theirs, missing = b.request(method, url.format(inspection)), b.request(method, url.format(MISSING))
            assert theirs.status_code == 404 and theirs.json() == missing.json(), url
            assert theirs.json()["detail"] == "没有找到该巡察轮次"
        patch = b.patch(f"/api/report-problems/{problem['id']}", json={"wording": "乙组改写"})
        missing = b.patch(f"/api/report-problems/{MISSING}", json={"wording": "乙组改写"})
        assert patch.status_code == 404 and patch.json() == missing.json()
        assert patch.json()["detail"] == "没有找到问题清单初稿中的该问题"
    with api.client(world["tokens"]["a"]) as a:
        assert _problems(_report(a, inspection))[BONUS]["wording"] == problem["wording"]


def test_analyst_reads_and_exports_but_cannot_change_the_draft(api, world):
    with api.client(world["tokens"]["a"]) as a:
        problem = _problems(_report(a, world["inspection"]))[CAR]
    with api.client(world["tokens"]["analyst"]) as analyst:
        assert _report(analyst, world["inspection"])["team"] == "撰稿甲组"
        assert analyst.get(f"/api/inspections/{world['inspection']}/report.xlsx").status_code == 200
        for method, url, body in [("PATCH", f"/api/report-problems/{problem['id']}", {"included": False}),
                                  ("POST", f"/api/inspections/{world['inspection']}/report", None)]:
            response = analyst.request(method, url, json=body)
            assert response.status_code == 403 and response.json()["code"] == "forbidden", url
    with api.client(world["tokens"]["admin"]) as admin:
        edited = admin.patch(f"/api/report-problems/{problem['id']}", json={"included": True})
        assert edited.status_code == 200 and edited.json()["edited_by"] == "撰稿管理员"
    with api.client(world["tokens"]["a"]) as a:
        assert _problems(_report(a, world["inspection"]))[CAR]["included"] is True


def test_edits_survive_a_rebuild_and_a_rejected_finding_disappears(api, world):
    wording = "青石镇党委违规突击发放年终补助共计46.8万元（撰稿人改写）。"
    with api.client(world["tokens"]["a"]) as a:
        before = _problems(_report(a, world["inspection"]))
        edited = a.patch(f"/api/report-problems/{before[BONUS]['id']}", json={"wording": f"  {wording} "})
        assert edited.status_code == 200, edited.text
        body = edited.json()
        assert set(body) == PROBLEM_KEYS and body["wording"] == wording and body["edited"] is True
        assert body["edited_by"] == "撰稿甲" and body["edited_at"] and body["generated_wording"] != wording
        excluded = a.patch(f"/api/report-problems/{before[STAFFING]['id']}", json={"included": False}).json()
        assert excluded["included"] is False and excluded["wording"] == before[STAFFING]["wording"]
        review = a.post(f"/api/findings/{world['findings']['car']}/review", json={"action": "reject"})
        assert review.status_code == 201
        # The next read already reflects the review: the unedited problem of a rejected finding is gone.
        assert CAR not in _problems(_report(a, world["inspection"]))
        rebuilt = a.post(f"/api/inspections/{world['inspection']}/report")
        assert rebuilt.status_code == 200, rebuilt.text
        after = _problems(rebuilt.json())
        assert rebuilt.json()["problem_count"] == 2 and set(after) == {BONUS, STAFFING}
        assert after[BONUS]["id"] == before[BONUS]["id"] and after[BONUS]["wording"] == wording
        assert after[BONUS]["generated_wording"] == before[BONUS]["generated_wording"]
        assert after[STAFFING]["included"] is False and after[STAFFING]["edited"] is True
        assert _problems(_report(a, world["inspection"])) == after


def test_exports_contain_the_edited_wording_and_only_included_problems(api, world):
    wording = "青石镇以“辛苦费”名义向干部发放钱款（导出测试）。"
    with api.client(world["tokens"]["a"]) as a:
        problems = _problems(_report(a, world["inspection"]))
        a.patch(f"/api/report-problems/{problems[BONUS]['id']}", json={"wording": wording, "included": True})
        a.patch(f"/api/report-problems/{problems[STAFFING]['id']}", json={"included": False})
        word = a.get(f"/api/inspections/{world['inspection']}/report.docx")
        excel = a.get(f"/api/inspections/{world['inspection']}/report.xlsx")
    assert word.status_code == 200 and word.headers["content-type"] == DOCX_TYPE
    assert f"filename*=UTF-8''{quote('撰稿甲组第一轮-问题清单（初稿）.docx', safe='')}" in \
        word.headers["content-disposition"]
    lines = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert lines[0] == "撰稿甲组第一轮巡察发现问题清单（初稿）" and "被巡察单位：青石镇" in lines
    assert "（一）" + wording in lines and not any(STAFFING_TEXT in line for line in lines)
    assert any(line.startswith("证据1：《举报信.docx》第1页") for line in lines)

    assert excel.status_code == 200 and excel.headers["content-type"] == XLSX_TYPE
    assert quote("撰稿甲组第一轮-问题清单（初稿）.xlsx", safe="") in excel.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(excel.content))
    sheet = [row for row in workbook["问题底稿"].iter_rows(values_only=True)]
    assert sheet[1][2] == f"{BONUS} 自设名目发放津补贴和奖金" and sheet[1][3] == wording and len(sheet) == 2
    ledger = [row for row in workbook["整改台账"].iter_rows(values_only=True)]
    assert ledger[1][1] == wording and ledger[1][2].startswith("立即停止自设名目发放")


def test_exports_refuse_unfinished_wordings_unless_forced(api, world):
    with api.client(world["tokens"]["a"]) as a:
        problem = _problems(_report(a, world["inspection"]))[BONUS]
        a.patch(f"/api/report-problems/{problem['id']}", json={"wording": "违规发放补助【待补充：金额】。", "included": True})
        assert _problems(_report(a, world["inspection"]))[BONUS]["unfinished"] == ["【待补充：金额】"]
        refused = a.get(f"/api/inspections/{world['inspection']}/report.docx")
        forced = a.get(f"/api/inspections/{world['inspection']}/report.xlsx", params={"force": 1})
        a.patch(f"/api/report-problems/{problem['id']}", json={"wording": problem["wording"]})
        clean = a.get(f"/api/inspections/{world['inspection']}/report.docx")
    assert refused.status_code == 409 and refused.json()["code"] == "unfinished_wording"
    assert "【待补充：金额】" in refused.json()["detail"] and "force=1" in refused.json()["detail"]
    assert [(p["id"], p["item_id"], p["unfinished"]) for p in refused.json()["problems"]] == [
        (problem["id"], BONUS, ["【待补充：金额】"])]
    assert forced.status_code == 200 and forced.headers["x-unfinished-problems"] == str(problem["id"])
    assert clean.status_code == 200 and "x-unfinished-problems" not in clean.headers


def test_patch_rejects_empty_and_malformed_edits(api, world):
    with api.client(world["tokens"]["a"]) as a:
        problem = _problems(_report(a, world["inspection"]))[BONUS]
        url = f"/api/report-problems/{problem['id']}"
        for body, detail in [({}, "请至少修改问题表述或是否纳入中的一项"), ({"wording": "   "}, "问题表述不能为空")]:
            response = a.patch(url, json=body)
            assert response.status_code == 422 and response.json()["detail"] == detail
        for body in ({"wording": "长" * 2001}, {"wording": ""}, {"included": "也许"}, {"note": "x"}):
            response = a.patch(url, json=body)
            assert response.status_code == 422 and response.json()["code"] == "invalid_request", body
        assert a.patch("/api/report-problems/0", json={"included": True}).status_code == 422
        assert _problems(_report(a, world["inspection"]))[BONUS]["wording"] == problem["wording"]


def test_empty_inspection_has_an_empty_draft_and_valid_exports(api, world):
    with api.client(world["tokens"]["a"]) as a:
        report = _report(a, world["empty"])
        assert report["problem_count"] == 0 and report["groups"] == [] and report["target_unit"] is None
        word = a.get(f"/api/inspections/{world['empty']}/report.docx")
        excel = a.get(f"/api/inspections/{world['empty']}/report.xlsx")
    assert EMPTY_NOTE in [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    rows = list(openpyxl.load_workbook(io.BytesIO(excel.content))["问题底稿"].iter_rows(values_only=True))
    assert rows[1][0] == EMPTY_NOTE


def test_every_call_is_audited_with_ids_only_and_logs_hold_no_text(api, world):
    with api.client(world["tokens"]["a"]) as a:
        problems = _problems(_report(a, world["inspection"]))
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("select * from audit_log where action like 'report.%' order by id")]
    mine = {(r["action"], r["object_type"], r["object_id"], r["outcome"]) for r in rows if r["user_name"] == "撰稿甲"}
    inspection = str(world["inspection"])
    assert {("report.build", "inspection", inspection, "ok"), ("report.read", "inspection", inspection, "ok"),
            ("report.edit", "report_problem", str(problems[BONUS]["id"]), "ok"),
            ("report.edit", "report_problem", str(problems[BONUS]["id"]), "invalid"),
            ("report.export", "inspection", inspection, "ok")} <= mine
    theirs = {(r["action"], r["outcome"]) for r in rows if r["user_name"] == "撰稿乙"}
    assert theirs == {("report.read", "denied"), ("report.build", "denied"), ("report.export", "denied"),
                      ("report.edit", "denied"), ("report.read", "not_found"), ("report.build", "not_found"),
                      ("report.export", "not_found"), ("report.edit", "not_found")}
    assert ("report.edit", "denied") in {(r["action"], r["outcome"]) for r in rows if r["user_name"] == "撰稿分析员"}
    dump = json.dumps([dict(r) for r in db.execute("select * from audit_log")], ensure_ascii=False)
    log = api.log.getvalue()
    typed = [p["wording"] for p in problems.values()] + ["撰稿人改写", "导出测试", "乙组改写"]
    for secret in SECRETS + typed:
        assert secret not in dump, secret
        assert secret not in log, secret


def test_concurrent_first_reads_build_one_draft(api, world):
    import threading

    with api.client(world["tokens"]["a"]) as a:
        inspection = a.post("/api/inspections", json={"name": "撰稿甲组并发轮次"}).json()["id"]
    _document(context.repository(api.settings), inspection, "并发.docx", "minutes",
              [("村里把集体土地租金放在账外私设小金库", 1, [], _tags("C5-01"))])
    results: list[dict] = []

    def read():
        with api.client(world["tokens"]["a"]) as client:
            results.append(client.get(f"/api/inspections/{inspection}/report").json())

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 4 and all(r.get("problem_count") == 1 for r in results), results
    assert len({_problems(r)["C5-01"]["id"] for r in results}) == 1
    db = sqlite3.connect(api.home / "xuncha.db")
    assert db.execute("select count(*) from reports where inspection_id = ?", (inspection,)).fetchone()[0] == 1
