"""Issue 14, minors: an analyst's read of a report draft never stores one (only the round's writers
create and rebuild drafts); leads of admins and analysts merge findings within one round id, never
across other teams' rounds that share its name. Over the real app on a socket."""

from __future__ import annotations

import sqlite3

import pytest

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from service import context
from test_reports_api import _document, _problems, _report, _tags

ROUND = "同名轮次"
GIFT, CAR = "C2-14", "C2-21"
MONEY = {"label": "money", "text": "12万元", "value": 120000.0, "start": 0, "end": 4}
PERSON = {"label": "person", "text": "郑某某", "start": 0, "end": 3}
GIFT_TEXT = "郑某某以加班费名义给局机关干部每人发放补贴，合计12万元"
GIFT_TEXT_2 = "谈话中多人提到郑某某安排发放的加班补贴共12万元，没有考勤依据"
CAR_TEXT = "郑某某节假日把单位公务车开回老家使用"


def _rows(api, query: str, *args) -> list[tuple]:
    return sqlite3.connect(api.home / "xuncha.db").execute(query, args).fetchall()


@pytest.fixture(scope="module")
def rounds(api):
    """Two teams each with a round called ROUND about the same person and amount."""
    tokens = {"east": api.add_user("东组撰稿", "东巡察组"), "west": api.add_user("西组撰稿", "西巡察组"),
              "analyst": api.add_user("巡察办读者", "巡察办", role="analyst"),
              "admin": api.add_user("巡察办管理员", "巡察办", role="admin")}
    repository = context.repository(api.settings)
    ids = {}
    for team in ("east", "west"):
        with api.client(tokens[team]) as client:
            ids[team] = client.post("/api/inspections", json={"name": ROUND}).json()["id"]
        _document(repository, ids[team], f"{team}-举报.docx", "petition",
                  [(GIFT_TEXT, 1, [PERSON, MONEY], _tags(GIFT, 0.9))])
        _document(repository, ids[team], f"{team}-谈话.docx", "interview",
                  [(GIFT_TEXT_2, 2, [PERSON, MONEY], _tags(GIFT, 0.85))])
    return {"tokens": tokens, "ids": ids, "repository": repository}


def _documents_of(api, inspection: int) -> set[int]:
    return {row[0] for row in _rows(api, "select id from documents where inspection_id = ?", inspection)}


def test_an_analysts_read_of_a_report_never_stores_a_draft(api, rounds):
    east, analyst = rounds["ids"]["east"], rounds["tokens"]["analyst"]
    stored = "select count(*) from report_problems join reports on reports.id = report_problems.report_id " \
             "where reports.inspection_id = ?"
    with api.client(analyst) as reader:
        seen = _report(reader, east)
        assert seen["problem_count"] == 1 and _problems(seen)[GIFT]["evidence"]
        assert reader.get(f"/api/inspections/{east}/report.xlsx").status_code == 200
    assert _rows(api, "select count(*) from reports where inspection_id = ?", east) == [(0,)]

    with api.client(rounds["tokens"]["east"]) as writer:
        problem = _problems(_report(writer, east))[GIFT]  # a writer's read stores the draft
        assert problem["id"] > 0
        edited = writer.patch(f"/api/report-problems/{problem['id']}", json={"wording": "撰稿人改写的表述。"})
        assert edited.status_code == 200
    before = _rows(api, "select * from report_problems order by id")
    updated = _rows(api, "select updated_at from reports where inspection_id = ?", east)

    # New evidence makes the stored draft stale: the analyst sees it rebuilt, the writer's edit kept,
    # and the store is not touched.
    _document(rounds["repository"], east, "east-补充.docx", "petition", [(CAR_TEXT, 1, [PERSON], _tags(CAR, 0.9))])
    with api.client(analyst) as reader:
        problems = _problems(_report(reader, east))
    assert problems[GIFT]["wording"] == "撰稿人改写的表述。" and problems[GIFT]["id"] == problem["id"]
    assert problems[CAR]["id"] < 0 and problems[CAR]["evidence"][0]["quote"] == CAR_TEXT
    assert _rows(api, "select * from report_problems order by id") == before
    assert _rows(api, "select updated_at from reports where inspection_id = ?", east) == updated
    assert _rows(api, stored, east) == [(1,)]


@pytest.mark.parametrize("reader", ["admin", "analyst"])
def test_leads_merge_only_within_one_round_id(api, rounds, reader):
    east, west = rounds["ids"]["east"], rounds["ids"]["west"]
    east_documents = _documents_of(api, east)
    with api.client(rounds["tokens"][reader]) as client:
        response = client.get(f"/api/inspections/{east}/leads")
        assert response.status_code == 200, response.text
        leads = response.json()
        document = min(east_documents)
        of_document = client.get(f"/api/documents/{document}/leads").json()
    gift = [lead for lead in leads if lead["item_id"] == GIFT]
    assert len(gift) == 1 and len(gift[0]["sources"]) == 2  # the round's two documents: one act
    for lead in leads + of_document:
        assert {s["document_id"] for s in lead["sources"]} <= east_documents
    assert not _documents_of(api, west) & {s["document_id"] for lead in leads for s in lead["sources"]}
