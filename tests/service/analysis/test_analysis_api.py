"""共性问题分析 end to end over HTTP on a real SQLite file: one team inspects two units twice each
(县水利局 in 2023 and 2024, 城关镇 twice in 2024). Findings are tagged in SQLite (tagging on ingest is
off) and reviewed over the API: a rejected finding drops out, a confirmed non-finding counts, a
corrected one counts under its new item. Another team sees none of it; admins and analysts see all."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_fixtures import api  # noqa: E402,F401  (module-scoped server fixture)

from service.analysis import unit_type  # noqa: E402
from service.cli import app as cli_app  # noqa: E402

TEAM, OTHER_TEAM = "分析甲组", "分析乙组"
GIFT, MEET, CAR = "C2-01", "B1-05", "C2-21"  # focus 2 廉洁纪律, focus 3 组织纪律, focus 2 廉洁纪律
LINES = {"购物卡": "{who}副职负责人春节前收受管理服务对象送的购物卡五千元。",
         "党课": "{who}机关支部全年没有按规定召开支部党员大会，也没有上党课。",
         "公车": "{who}主要负责人周末开单位公务车回老家，长期公车私用。"}
# (round name, unit, document year, {keyword: (tagged item or None, is_finding, review)})
ROUNDS = [
    ("水利局2023年巡察", "县水利局", 2023, {"购物卡": (GIFT, True, None), "党课": (MEET, True, None),
                                          "公车": (GIFT, True, ("reject", []))}),
    ("水利局2024年巡察", "县水利局", 2024, {"购物卡": (GIFT, True, None), "公车": (CAR, False, ("confirm", []))}),
    ("城关镇2024年第一轮", "城关镇", 2024, {"购物卡": (GIFT, True, None), "公车": (MEET, True, ("correct", [CAR]))}),
    ("城关镇2024年第二轮", "城关镇", 2024, {"党课": (MEET, True, None)}),
]
SECRETS = ["购物卡", "党课", "公车私用", "五千元"]


def _tags(item: str, is_finding: bool) -> str:
    return json.dumps({"is_finding": is_finding, "finding_score": 0.9 if is_finding else 0.2, "labels": [item],
                       "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2, "discipline": "廉洁纪律"})


def _upload(api, client, inspection: int, path: Path) -> int:
    job = api.wait(client, client.post(f"/api/inspections/{inspection}/documents",
                                       files=[("files", (path.name, path.read_bytes()))]).json()["id"])
    assert job["status"] == "done", job
    return job["files"][0]["document_id"]


@pytest.fixture(scope="module")
def world(api, tmp_path_factory):
    import docx

    tokens = {"member": api.add_user("分析甲组员", TEAM), "other": api.add_user("分析乙组员", OTHER_TEAM),
              "analyst": api.add_user("分析巡察办", "巡察办", "analyst")}
    files = tmp_path_factory.mktemp("analysis-files")
    db = sqlite3.connect(api.home / "xuncha.db")
    rounds = []
    with api.client(tokens["member"]) as client:
        for number, (name, unit, year, plan) in enumerate(ROUNDS):
            inspection = client.post("/api/inspections", json={"name": name, "target_unit": unit}).json()["id"]
            document = docx.Document()
            document.add_heading("举报信", level=1)
            for words in plan:
                document.add_paragraph(LINES[words].format(who=unit))
            path = files / f"举报{number}.docx"
            document.save(path)
            document_id = _upload(api, client, inspection, path)
            findings = client.get(f"/api/documents/{document_id}").json()["findings"]
            with db:
                db.execute("update documents set year = ? where id = ?", (year, document_id))
            for words, (item, is_finding, review) in plan.items():
                finding = next(f["id"] for f in findings if words in f["text"])
                with db:
                    db.execute("update findings set tags = ? where id = ?", (_tags(item, is_finding), finding))
                if review:
                    response = client.post(f"/api/findings/{finding}/review",
                                           json={"action": review[0], "items": review[1]})
                    assert response.status_code == 201, response.text
            rounds.append(inspection)
        # a demo round of the same team: left out unless asked for
        demo = client.post("/api/inspections", json={"name": "分析示例轮次", "target_unit": "县水利局"}).json()["id"]
        document = docx.Document()
        document.add_heading("举报信", level=1)
        document.add_paragraph(LINES["购物卡"].format(who="示例单位"))
        path = files / "示例.docx"
        document.save(path)
        demo_document = _upload(api, client, demo, path)
        with db:
            db.execute("update inspections set demo = 1 where id = ?", (demo,))
            db.execute("update findings set tags = ? where document_id = ? and text like '%购物卡%'",
                       (_tags(GIFT, True), demo_document))
    return {"tokens": tokens, "rounds": rounds, "demo": demo}


def _get(api, token: str, path: str = "/api/analysis", **params) -> dict:
    with api.client(token) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _counts(rows: list[dict]) -> dict:
    return {row["key"]: row["count"] for row in rows}


def test_unit_types_come_from_the_name_suffix():
    assert [unit_type(n) for n in ["县水利局", "县发改委", "县政府办", "城关镇", "白云乡", "东城街道", "李家村",
                                   "幸福社区", "县第一中学", "县人民医院", "县融媒体中心", "县城投公司",
                                   "县交通投资集团", "县人大", None]] == [
        "机关部门", "机关部门", "机关部门", "乡镇街道", "乡镇街道", "乡镇街道", "村社区", "村社区", "其他", "事业单位",
        "事业单位", "国有企业", "国有企业", "其他", "其他"]
    assert unit_type("县第一学校") == "事业单位"


def test_counts_across_units_and_rounds(api, world):
    data = _get(api, world["tokens"]["member"])
    assert data["totals"] == {"findings": 7, "rounds": 4, "units": 2, "rounds_with_findings": 4}
    assert _counts(data["by_item"]) == {GIFT: 3, MEET: 2, CAR: 2}  # rejected out, confirmed in, corrected moved
    assert _counts(data["by_focus"]) == {2: 5, 3: 2}
    assert data["by_focus"][0]["label"].startswith("聚焦群众身边腐败问题")
    assert _counts(data["by_discipline"]) == {"廉洁纪律": 5, "组织纪律": 2}
    assert _counts(data["by_unit_type"]) == {"机关部门": 4, "乡镇街道": 3}
    assert _counts(data["by_year"]) == {2023: 2, 2024: 5}
    assert _counts(data["by_unit"]) == {"县水利局": 4, "城关镇": 3}
    assert _counts(data["by_round"]) == dict(zip(world["rounds"], [2, 2, 2, 1]))
    recurring = {r["item_id"]: (r["rounds"], r["units"], r["findings"]) for r in data["recurring"]}
    assert recurring == {GIFT: (3, 2, 3), MEET: (2, 2, 2), CAR: (2, 2, 2)}
    assert data["recurring"][0]["item_id"] == GIFT and data["recurring"][0]["title"] == "收受管理服务对象礼金、购物卡"
    assert [(u["unit"], u["repeats"], u["items"]) for u in data["repeat_units"]] == [("县水利局", 1, [GIFT])]


def test_filters_by_round_year_and_demo(api, world):
    member = world["tokens"]["member"]
    first = _get(api, member, inspection_id=world["rounds"][0])
    assert first["totals"]["findings"] == 2 and _counts(first["by_item"]) == {GIFT: 1, MEET: 1}
    assert first["recurring"] == [] and first["repeat_units"] == []
    year = _get(api, member, year=2023)
    assert year["totals"]["findings"] == 2 and _counts(year["by_year"]) == {2023: 2}
    with_demo = _get(api, member, include_demo="true")
    assert with_demo["totals"]["findings"] == 8 and _counts(with_demo["by_item"])[GIFT] == 4
    assert _get(api, member, inspection_id=world["demo"])["totals"]["findings"] == 1  # asked for by id


def test_other_teams_see_none_of_it_and_analysts_see_all(api, world):
    other = _get(api, world["tokens"]["other"])
    assert other["totals"]["findings"] == 0 and other["by_item"] == [] and other["recurring"] == []
    with api.client(world["tokens"]["other"]) as client:
        refused = client.get("/api/analysis", params={"inspection_id": world["rounds"][0]})
        missing = client.get("/api/analysis", params={"inspection_id": 999999})
        export = client.get("/api/analysis/export.xlsx", params={"inspection_id": world["rounds"][0]})
    assert refused.status_code == missing.status_code == export.status_code == 404
    assert refused.json() == missing.json()
    analyst = _get(api, world["tokens"]["analyst"])
    assert analyst["totals"]["findings"] == 7 and _counts(analyst["by_item"]) == {GIFT: 3, MEET: 2, CAR: 2}


def test_export_opens_with_openpyxl_and_holds_the_counts(api, world):
    with api.client(world["tokens"]["member"]) as client:
        response = client.get("/api/analysis/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["三个聚焦", "清单条目", "纪律类别", "单位类型", "年份", "被巡察单位", "巡察轮次",
                               "共性问题", "反复出现问题的单位"]
    rows = lambda name: [list(r) for r in book[name].iter_rows(min_row=2, values_only=True)]  # noqa: E731
    assert rows("单位类型") == [["机关部门", 4], ["乡镇街道", 3]]
    assert rows("纪律类别") == [["组织纪律", 2], ["廉洁纪律", 5]]
    assert rows("年份") == [["2023年", 2], ["2024年", 5]]
    assert {r[0]: r[1] for r in rows("清单条目")} == {f"{GIFT} 收受管理服务对象礼金、购物卡": 3,
                                                   f"{MEET} “三会一课”未按规定频次开展": 2, f"{CAR} 公车私用": 2}
    assert [(r[0], r[3], r[4], r[5]) for r in rows("共性问题")] == [(GIFT, 3, 2, 3), (MEET, 2, 2, 2), (CAR, 2, 2, 2)]
    assert [(r[0], r[2]) for r in rows("反复出现问题的单位")] == [("县水利局", 1)]


def test_reads_and_exports_are_audited_with_ids_only(api, world):
    test_other_teams_see_none_of_it_and_analysts_see_all(api, world)
    _get(api, world["tokens"]["member"], inspection_id=world["rounds"][1])
    with api.client(world["tokens"]["member"]) as client:
        assert client.get("/api/analysis/export.xlsx").status_code == 200
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("select * from audit_log where action like 'analysis.%'")]
    seen = {(r["user_name"], r["action"], r["object_id"], r["outcome"]) for r in rows}
    assert ("分析甲组员", "analysis.read", str(world["rounds"][1]), "ok") in seen
    assert ("分析甲组员", "analysis.read", None, "ok") in seen
    assert ("分析甲组员", "analysis.export", None, "ok") in seen
    assert ("分析乙组员", "analysis.read", str(world["rounds"][0]), "denied") in seen
    assert ("分析乙组员", "analysis.read", "999999", "not_found") in seen
    dump = json.dumps(rows, ensure_ascii=False) + api.log.getvalue()
    for secret in SECRETS + [name for name, *_ in ROUNDS]:
        assert secret not in dump, secret


def test_cli_json_and_table(api, world, tmp_path):
    result = CliRunner().invoke(cli_app, ["analysis", "--team", TEAM, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["findings"] == 7 and _counts(data["by_item"]) == {GIFT: 3, MEET: 2, CAR: 2}
    one = json.loads(CliRunner().invoke(cli_app, ["analysis", "--inspection", str(world["rounds"][2]), "--json"]).stdout)
    assert _counts(one["by_item"]) == {GIFT: 1, CAR: 1} and _counts(one["by_unit_type"]) == {"乡镇街道": 2}
    assert json.loads(CliRunner().invoke(cli_app, ["analysis", "--team", OTHER_TEAM, "--json"]).stdout)["totals"]["findings"] == 0
    out = tmp_path / "分析.xlsx"
    table = CliRunner().invoke(cli_app, ["analysis", "--team", TEAM, "--xlsx", str(out)])
    assert table.exit_code == 0 and "共性问题" in table.stdout and "县水利局" in table.stdout
    assert openpyxl.load_workbook(out)["三个聚焦"]["B2"].value == 5
    assert CliRunner().invoke(cli_app, ["analysis", "--inspection", "999999"]).exit_code == 1
