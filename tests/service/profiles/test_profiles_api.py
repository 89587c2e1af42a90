"""画像 end to end over HTTP on a real SQLite file. One team inspects 柳河镇 twice: round 1 is the
rectification tests' round (documents written for those tests, findings corrected to items, report
finalised, the car task 销号'd with evidence, 冯某某 made 责任人 of the tender task); round 2 brings a
petition written for this test about 冯某某 again (its findings tagged in SQLite: tagging on ingest
is off). A third round of another unit names 柳河镇 in its material. Another team inspects 柳河镇 as
well: neither team sees the other's rounds, findings, people or tasks; admins see both."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rectification"))
from api_fixtures import api  # noqa: E402,F401  (module-scoped server fixture)
from ledger_world import CAR, GIFTS, TENDER, WORDINGS, write_docx  # noqa: E402
from profile_world import PERSON, PETITION_2, TODAY, UNIT, first_round, tag_lines, upload  # noqa: E402

from service.api.routers.profiles import name_digest  # noqa: E402

TEAM, OTHER_TEAM = "画像甲组", "画像乙组"
BUREAU = ["个别谈话记录", "谈话对象：邵某某（县农业农村局办公室主任）", "时间：2026年5月6日", "谈话人：钱某、孙某",
          "邵某某：局里给柳河镇拨付的高标准农田补助资金，有一部分被挪去修了镇政府的食堂。"]
OTHER = ["个别谈话记录", "谈话对象：尹某某（柳河镇文化站站长）", "时间：2026年6月1日", "谈话人：陶某",
         "尹某某：文化站的活动经费有三万元被站里用来给干部买了节日购物卡。"]
SECOND = {"化肥": "C5-04", "皮卡车": CAR}


@pytest.fixture(scope="module")
def world(api, tmp_path_factory):
    api.app.state.rectification_clock = lambda: TODAY
    tokens = {"writer": api.add_user("画像撰稿员", TEAM), "other": api.add_user("画像乙组员", OTHER_TEAM),
              "admin": api.add_user("画像审批人", "巡察办", "admin"), "analyst": api.add_user("画像分析员", "巡察办", "analyst")}
    files = tmp_path_factory.mktemp("profile-files")
    db = api.home / "xuncha.db"
    with api.client(tokens["writer"]) as writer:
        first, tasks = first_round(writer, api.wait, files)
        second = writer.post("/api/inspections", json={"name": "柳河镇2026年第一轮", "target_unit": UNIT}).json()["id"]
        found = tag_lines(db, upload(writer, api.wait, second, write_docx(PETITION_2, files / "再次举报.docx")), SECOND)
        bureau = writer.post("/api/inspections", json={"name": "农业农村局2026年巡察", "target_unit": "县农业农村局"}).json()["id"]
        mention = tag_lines(db, upload(writer, api.wait, bureau, write_docx(BUREAU, files / "邵某某谈话.docx")),
                            {"食堂": "C5-04"})
    with api.client(tokens["admin"]) as admin:
        assert admin.post(f"/api/rectification-tasks/{tasks[CAR]}/approve").json()["status"] == "closed"
    with api.client(tokens["other"]) as other:
        theirs = other.post("/api/inspections", json={"name": "柳河镇文化站专项", "target_unit": UNIT}).json()["id"]
        their_findings = tag_lines(db, upload(other, api.wait, theirs, write_docx(OTHER, files / "尹某某谈话.docx")),
                                   {"购物卡": "C2-01"})
    return {"tokens": tokens, "first": first, "second": second, "bureau": bureau, "theirs": theirs, "tasks": tasks,
            "found": found, "mention": mention["食堂"], "their_finding": their_findings["购物卡"]}


def _get(api, token: str, path: str, status: int = 200, **params):
    with api.client(token) as client:
        response = client.get(path, params=params, timeout=600)
    assert response.status_code == status, response.text
    return response.json()


def test_unit_profile_gathers_both_rounds_findings_and_rectification(api, world):
    profile = _get(api, world["tokens"]["writer"], f"/api/profiles/units/{UNIT}")
    assert profile["unit"] == UNIT and profile["unit_type"] == "乡镇街道" and profile["today"] == TODAY.isoformat()
    assert [r["id"] for r in profile["rounds"]] == [world["first"]["inspection"], world["second"]]
    assert [r["finalised"] for r in profile["rounds"]] == [True, False]
    own = [f for f in profile["findings"] if f["relation"] == "本单位巡察发现"]
    by_round = {(f["inspection_id"], f["item_id"]) for f in own}
    first = world["first"]["inspection"]
    assert by_round == {(first, GIFTS), (first, CAR), (first, TENDER), (world["second"], "C5-04"), (world["second"], CAR)}
    gifts = next(f for f in own if f["item_id"] == GIFTS)
    assert gifts["focus"] == 2 and gifts["focus_label"].startswith("聚焦") and gifts["filename"] == "周某某谈话记录.docx"
    assert gifts["date"] == "2025-03-12" and gifts["review"] == "corrected" and gifts["item_title"]
    tender = [f for f in own if f["item_id"] == TENDER]
    assert len(tender) == 2 and all(f["persons"] == [PERSON] for f in tender)  # the petitions' reported person
    # Material of another unit's round that names 柳河镇 is listed apart.
    mentions = [f for f in profile["findings"] if f["relation"] == "其他轮次材料中提及"]
    assert [f["finding_id"] for f in mentions] == [world["mention"]] and mentions[0]["inspection"] == "农业农村局2026年巡察"
    # Items found in both rounds, and the ledger with its warnings on the injected clock.
    assert {r["item_id"] for r in profile["repeated_items"]} == {CAR, TENDER}
    tasks = {t["item_id"]: t for t in profile["tasks"]}
    assert set(tasks) == {GIFTS, CAR, TENDER}
    assert tasks[CAR]["status"] == "closed" and tasks[CAR]["warning"] is None and tasks[CAR]["evidence"] == 1
    assert tasks[GIFTS]["status_label"] == "未启动" and tasks[GIFTS]["days_left"] == 4 and tasks[GIFTS]["warning"] == "yellow"
    assert profile["task_counts"] == {"not_started": 2, "closed": 1, "yellow": 2}
    assert profile["totals"] == {"rounds": 2, "findings": 5, "mentions": 1, "tasks": 3, "open_tasks": 2}
    # The other team's round of the same unit is not there, nor its finding.
    assert world["theirs"] not in {r["id"] for r in profile["rounds"]}
    assert world["their_finding"] not in {f["finding_id"] for f in profile["findings"]}


def test_person_profile_gathers_petitions_findings_and_tasks(api, world):
    profile = _get(api, world["tokens"]["writer"], f"/api/profiles/people/{PERSON}")
    assert {r["role"]: r["count"] for r in profile["roles"]} == {"被反映人": 2, "问题涉及": 3, "整改责任人": 1}
    assert [(d["inspection_id"], d["role"]) for d in profile["documents"]] == [
        (world["first"]["inspection"], "被反映人"), (world["second"], "被反映人")]
    assert any("农业服务中心主任" in p for p in profile["positions"]) and profile["units"] == [UNIT]
    items = sorted((f["inspection_id"], f["item_id"]) for f in profile["findings"])
    assert items == sorted([(world["first"]["inspection"], TENDER), (world["second"], "C5-04"), (world["second"], CAR)])
    assert all(PERSON in f["persons"] for f in profile["findings"])
    assert [t["id"] for t in profile["tasks"]] == [world["tasks"][TENDER]]
    assert profile["tasks"][0]["person"] == f"{PERSON}（农业服务中心主任）"
    # The interviewee of round 1 is a profile of its own; the interviewers are never profiled.
    interviewee = _get(api, world["tokens"]["writer"], "/api/profiles/people/周某某")
    assert [d["role"] for d in interviewee["documents"]] == ["谈话对象"]
    _get(api, world["tokens"]["writer"], "/api/profiles/people/吴某", status=404)


def test_lists_find_units_and_people_in_scope(api, world):
    units = {u["unit"]: u for u in _get(api, world["tokens"]["writer"], "/api/profiles/units")}
    assert set(units) == {UNIT, "县农业农村局"}
    assert (units[UNIT]["rounds"], units[UNIT]["findings"], units[UNIT]["tasks"], units[UNIT]["open_tasks"]) == (2, 5, 3, 2)
    assert units[UNIT]["last_round"] == "柳河镇2026年第一轮"
    assert [u["unit"] for u in _get(api, world["tokens"]["writer"], "/api/profiles/units", q="农业")] == ["县农业农村局"]
    people = _get(api, world["tokens"]["writer"], "/api/profiles/people")
    by_name = {p["name"]: p for p in people["people"]}
    assert PERSON in by_name and "周某某" in by_name and "尹某某" not in by_name
    assert by_name[PERSON]["roles"] == ["被反映人", "问题涉及", "整改责任人"] and by_name[PERSON]["rounds"] == 2
    assert not {"吴某", "郑某", "钱某", "孙某"} & set(by_name)  # interviewers are roles of the record
    assert [p["name"] for p in _get(api, world["tokens"]["writer"], "/api/profiles/people", q="冯")["people"]] == [PERSON]


def test_other_teams_get_404_exactly_like_nothing(api, world):
    other = world["tokens"]["other"]
    for path in (f"/api/profiles/people/{PERSON}", f"/api/profiles/people/{PERSON}/leads", "/api/profiles/units/县农业农村局"):
        refused = _get(api, other, path, status=404)
        missing = _get(api, other, path.replace("县农业农村局", "不存在的单位").replace(PERSON, "查无此人"), status=404)
        assert refused["detail"] == missing["detail"]
    # Their own profile of 柳河镇 holds their round only: none of our findings, tasks or rounds.
    theirs = _get(api, other, f"/api/profiles/units/{UNIT}")
    assert [r["id"] for r in theirs["rounds"]] == [world["theirs"]] and theirs["tasks"] == []
    assert [f["finding_id"] for f in theirs["findings"]] == [world["their_finding"]]
    assert {u["unit"] for u in _get(api, other, "/api/profiles/units")} == {UNIT}
    assert {p["name"] for p in _get(api, other, "/api/profiles/people")["people"]} == {"尹某某"}
    # 巡察办 (admin, analyst) sees both teams.
    for role in ("admin", "analyst"):
        both = _get(api, world["tokens"][role], f"/api/profiles/units/{UNIT}")
        assert {r["id"] for r in both["rounds"]} == {world["first"]["inspection"], world["second"], world["theirs"]}


def test_leads_of_a_unit_and_a_person(api, world):
    writer = world["tokens"]["writer"]
    unit_leads = _get(api, writer, f"/api/profiles/units/{UNIT}/leads")
    assert unit_leads and {lead["inspection_id"] for lead in unit_leads} == {world["first"]["inspection"], world["second"]}
    assert all(lead["grade"] and lead["sources"] for lead in unit_leads)
    person_leads = _get(api, writer, f"/api/profiles/people/{PERSON}/leads")
    assert person_leads and all(PERSON in lead["persons"] for lead in person_leads)
    assert len(person_leads) < len(unit_leads)


def test_profile_reads_are_audited_without_names(api, world):
    test_other_teams_get_404_exactly_like_nothing(api, world)
    _get(api, world["tokens"]["writer"], f"/api/profiles/units/{UNIT}/leads")
    _get(api, world["tokens"]["writer"], f"/api/profiles/units/{UNIT}")
    _get(api, world["tokens"]["writer"], f"/api/profiles/people/{PERSON}")
    _get(api, world["tokens"]["writer"], "/api/profiles/people", q="冯")
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("select * from audit_log where action like 'profile.%'")]
    seen = {(r["user_name"], r["action"], r["object_type"], r["object_id"], r["outcome"]) for r in rows}
    assert ("画像撰稿员", "profile.read", "unit", name_digest(UNIT), "ok") in seen
    assert ("画像撰稿员", "profile.read", "person", name_digest(PERSON), "ok") in seen
    assert ("画像撰稿员", "profile.list", "person", None, "ok") in seen
    assert ("画像撰稿员", "profile.leads", "unit", name_digest(UNIT), "ok") in seen
    assert ("画像乙组员", "profile.read", "person", name_digest(PERSON), "not_found") in seen
    assert ("画像乙组员", "profile.leads", "person", name_digest(PERSON), "not_found") in seen
    assert ("画像乙组员", "profile.read", "unit", name_digest("县农业农村局"), "not_found") in seen
    assert ("画像乙组员", "profile.list", "unit", None, "ok") in seen
    dump = json.dumps(rows, ensure_ascii=False) + api.log.getvalue()
    for secret in [UNIT, PERSON, "周某某", "尹某某", "县农业农村局", "化肥", *WORDINGS.values()]:
        assert secret not in dump, secret
