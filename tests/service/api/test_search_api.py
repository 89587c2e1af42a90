"""Search and leads over HTTP: highlights, filters, team scope, index kept in step, audit without terms."""

import json
import sqlite3

import pytest

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import PETITION_LINES

INTERVIEW_LINES = [
    "个别谈话记录",
    "谈话对象：孙桂芳（青石镇党政办主任）",
    "谈话人：巡察组 王强",
    "孙桂芳：2023年12月28日镇党委会上，陈立国决定给干部突击发放年终补助46.8万元，没有任何文件依据。",
    "孙桂芳：其他的我不太清楚。",
]
BONUS = "C2-14"  # 自设名目发放津补贴和奖金
CAR = "C2-21"  # 公车私用


def _tags(item: str) -> str:
    return json.dumps({"is_finding": True, "finding_score": 0.9, "labels": [item],
                       "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2})


def _upload(api, client, inspection: int, path) -> int:
    job = client.post(f"/api/inspections/{inspection}/documents", files=[("files", (path.name, path.read_bytes()))])
    return api.wait(client, job.json()["id"])["files"][0]["document_id"]


@pytest.fixture(scope="module")
def world(api, tmp_path_factory):
    import docx

    folder = tmp_path_factory.mktemp("files")
    paths = {}
    for name, lines in (("举报信.docx", PETITION_LINES), ("孙桂芳谈话.docx", INTERVIEW_LINES)):
        document = docx.Document()
        for line in lines:
            document.add_paragraph(line)
        document.save(folder / name)
        paths[name] = folder / name
    tokens = {"a": api.add_user("检索甲", "检索甲组"), "b": api.add_user("检索乙", "检索乙组"),
              "analyst": api.add_user("检索分析员", "巡察办", role="analyst")}
    with api.client(tokens["a"]) as a:
        inspection = a.post("/api/inspections", json={"name": "检索甲组第一轮", "target_unit": "青石镇"}).json()["id"]
        petition = _upload(api, a, inspection, paths["举报信.docx"])
        interview = _upload(api, a, inspection, paths["孙桂芳谈话.docx"])
        findings = {f["text"]: f["id"] for d in (petition, interview)
                    for f in a.get(f"/api/documents/{d}/findings").json()}
    # Tagging on ingest is off in API tests (it needs the trained model); tag the findings of the
    # two acts deterministically, as the tagger would, before anything is searched.
    db = sqlite3.connect(api.home / "xuncha.db")
    with db:
        for text, finding_id in findings.items():
            item = BONUS if "年终补助" in text else CAR if "公车" in text else None
            if item:
                db.execute("update findings set tags = ? where id = ?", (_tags(item), finding_id))
    bonus = [i for t, i in findings.items() if "年终补助" in t]
    assert len(bonus) == 2, findings
    return {"tokens": tokens, "inspection": inspection, "petition": petition, "interview": interview,
            "bonus": bonus, "paths": paths}


def _search(client, **params) -> dict:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_search_returns_the_finding_with_highlights_and_its_document(api, world):
    with api.client(world["tokens"]["a"]) as a:
        body = _search(a, q="突击发放年终补助", collection="findings", k=5)
    top = body["hits"][0]
    assert top["id"] in world["bonus"] and top["collection"] == "findings"
    assert top["document_id"] in (world["petition"], world["interview"]) and top["filename"].endswith(".docx")
    assert top["items"] == [BONUS] and top["focus"] == [2] and top["inspection"] == "检索甲组第一轮"
    assert top["matched"], "keyword side must report the matched words"
    for match in top["matched"]:
        assert top["text"][match["start"]:match["end"]] == match["term"]


def test_filters_and_unknown_checklist_item(api, world):
    with api.client(world["tokens"]["a"]) as a:
        by_item = _search(a, q="公车", item=CAR.lower(), collection="findings")["hits"]
        assert by_item and all(h["items"] == [CAR] for h in by_item)
        assert _search(a, q="补助", item=BONUS, collection="findings", mode="keyword")["hits"][0]["items"] == [BONUS]
        assert all(h["kind"] == "interview" for h in _search(a, q="年终补助", kind="interview")["hits"])
        assert all(h["collection"] == "cases" for h in _search(a, q="公车私用", collection="cases")["hits"])
        unknown = a.get("/api/search", params={"q": "公车", "item": "ZZ-99"})
        assert unknown.status_code == 400 and unknown.json()["detail"] == "没有编号为 ZZ-99 的负面清单条目"
        blank = a.get("/api/search", params={"q": "   "})
        assert blank.status_code == 400 and blank.json()["detail"] == "请输入检索内容"
        assert a.get("/api/search").status_code == 422


def test_other_team_never_sees_the_findings_but_shares_the_case_corpus(api, world):
    with api.client(world["tokens"]["b"]) as b:
        hits = _search(b, q="陈立国突击发放年终补助46.8万元", k=50)["hits"]
        assert hits and all(h["collection"] == "cases" for h in hits)
        theirs = b.get("/api/search", params={"q": "年终补助", "inspection_id": world["inspection"]})
        missing = b.get("/api/search", params={"q": "年终补助", "inspection_id": 999999})
        assert theirs.status_code == missing.status_code == 404 and theirs.json() == missing.json()
        for url in (f"/api/documents/{world['petition']}/leads", f"/api/inspections/{world['inspection']}/leads"):
            assert b.get(url).status_code == 404
    with api.client(world["tokens"]["analyst"]) as analyst:
        found = _search(analyst, q="突击发放年终补助", collection="findings",
                        inspection_id=world["inspection"])["hits"]
        assert found and found[0]["id"] in world["bonus"]


def test_leads_merge_the_petition_and_the_interview_about_the_same_act(api, world):
    with api.client(world["tokens"]["a"]) as a:
        one = a.get(f"/api/documents/{world['petition']}/leads")
        assert one.status_code == 200, one.text
        bonus = [lead for lead in one.json() if lead["item_id"] == BONUS]
        assert bonus and "陈立国" in bonus[0]["persons"] and bonus[0]["wording"]
        assert bonus[0]["grade"] in ("进一步了解关注类", "了解关注类", "参考类") and bonus[0]["reasons"]
        assert len(bonus[0]["similar_cases"]) <= 3
        whole = a.get(f"/api/inspections/{world['inspection']}/leads").json()
    merged = [lead for lead in whole if lead["item_id"] == BONUS]
    assert len(merged) == 1
    assert {s["document_id"] for s in merged[0]["sources"]} == {world["petition"], world["interview"]}
    assert {lead["item_id"] for lead in whole} == {BONUS, CAR}


def test_index_follows_deletions_and_new_uploads(api, world, tmp_path):
    import docx

    with api.client(world["tokens"]["a"]) as a:
        inspection = a.post("/api/inspections", json={"name": "检索甲组第二轮"}).json()["id"]
        path = tmp_path / "新材料.docx"
        document = docx.Document()
        document.add_paragraph("村会计李某某挪用扶贫资金12万元用于个人炒股。")
        document.save(path)
        added = _upload(api, a, inspection, path)
        hits = _search(a, q="挪用扶贫资金炒股", collection="findings", mode="keyword")["hits"]
        assert hits and hits[0]["document_id"] == added
        assert a.delete(f"/api/documents/{added}").status_code == 204
        hits = _search(a, q="挪用扶贫资金炒股", collection="findings", mode="keyword")["hits"]
        assert all(h["document_id"] != added for h in hits)


def test_search_is_audited_without_the_query(api, world):
    secret = "田富贵举报的钱永军公车私用"
    with api.client(world["tokens"]["a"]) as a:
        _search(a, q=secret, inspection_id=world["inspection"])
    db = sqlite3.connect(api.home / "xuncha.db")
    rows = db.execute("select action, object_type, object_id, outcome from audit_log where user_name = '检索甲' "
                      "and action in ('search', 'leads.read')").fetchall()
    assert ("search", "inspection", str(world["inspection"]), "ok") in rows
    assert ("leads.read", "document", str(world["petition"]), "ok") in rows
    dump = json.dumps(db.execute("select * from audit_log").fetchall(), ensure_ascii=False)
    for text in (secret, "田富贵", "钱永军", "年终补助"):
        assert text not in dump and text not in api.log.getvalue(), text


def test_searches_during_concurrent_uploads_stay_correct(api, world, make_docx):
    import threading

    from index.replica import load_replica
    from service.storage.changes import text_hash

    token = world["tokens"]["a"]
    with api.client(token) as a:
        inspection = a.post("/api/inspections", json={"name": "检索并发轮次"}).json()["id"]
    places = ["东岭村", "西岭村", "南岭村", "北岭村", "中岭村", "上岭村"]
    paths = [make_docx([f"{place}会计挪用集体资金{n + 3}万元购买私家车。"], f"并发检索{n}.docx")
             for n, place in enumerate(places)]
    errors, statuses = [], []

    def upload(batch):
        try:
            with api.client(token) as client:
                response = client.post(f"/api/inspections/{inspection}/documents",
                                       files=[("files", (p.name, p.read_bytes())) for p in batch])
                assert api.wait(client, response.json()["id"])["status"] == "done"
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def search():
        with api.client(token) as client:
            for _ in range(15):
                statuses.append(client.get("/api/search", params={"q": "挪用集体资金购买私家车"}).status_code)

    threads = [threading.Thread(target=upload, args=(paths[i::3],)) for i in range(3)]
    threads += [threading.Thread(target=search) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not errors, errors
    assert statuses and set(statuses) == {200}
    with api.client(token) as a:
        for place in places:
            hits = _search(a, q=f"{place}会计挪用集体资金", collection="findings", inspection_id=inspection)["hits"]
            assert place in hits[0]["text"], place
    db = sqlite3.connect(api.home / "xuncha.db")
    stored = {row[0] for row in db.execute("select id from findings")}
    texts = dict(db.execute("select id, text from findings"))
    (path,) = (api.home / "index").glob("findings-*.replica")
    replica = load_replica(path)  # vectors and content hashes on disk: exactly the stored findings
    assert set(replica.vectors.ids().tolist()) == stored
    assert replica.hashes == {i: text_hash(t) for i, t in texts.items()}


def test_hits_carry_a_level_and_reasons_and_nonsense_finds_nothing(api, world):
    with api.client(world["tokens"]["a"]) as a:
        top = _search(a, q="突击发放年终补助", collection="findings", k=5)["hits"][0]
        assert top["level"] in ("高", "中", "低") and top["reasons"]
        assert any(r.startswith("命中词：") and "补助" in r for r in top["reasons"]), top["reasons"]
        assert top["chars_score"] > 0 and top["vector_score"] is not None  # raw numbers stay in the API fields
        for query in ("asdfgh qwerty", "今天天气怎么样", "篮球比赛规则"):
            body = _search(a, q=query, k=10)
            assert body["hits"] == [] and body["message"] == "没有相关结果", (query, body["hits"][:1])
        assert _search(a, q="公车私用", collection="cases")["message"] is None


def test_a_rejected_finding_leaves_search_in_the_next_request(api, world, make_docx):
    with api.client(world["tokens"]["a"]) as a:
        inspection = a.post("/api/inspections", json={"name": "检索驳回轮次"}).json()["id"]
        path = make_docx(["反映柳湾村会计孙某某把村集体鱼塘低价租给自己的小舅子。"], "驳回.docx")
        document = _upload(api, a, inspection, path)
        (finding,) = [f["id"] for f in a.get(f"/api/documents/{document}/findings").json() if "鱼塘" in f["text"]]
        query = {"q": "村集体鱼塘低价租给小舅子", "collection": "findings", "inspection_id": inspection}
        assert finding in [h["id"] for h in _search(a, **query)["hits"]]
        corrected = a.post(f"/api/findings/{finding}/review", json={"action": "correct", "items": ["C6-06"]})
        assert corrected.status_code == 201, corrected.text
        assert finding in [h["id"] for h in _search(a, **query)["hits"]]
        assert a.post(f"/api/findings/{finding}/review", json={"action": "reject"}).status_code == 201
        assert finding not in [h["id"] for h in _search(a, **query)["hits"]]
        assert finding not in [h["id"] for h in _search(a, **{**query, "mode": "keyword"})["hits"]]
        # a later verdict that it is a problem after all brings it back, with the reviewer's item
        assert a.post(f"/api/findings/{finding}/review", json={"action": "correct", "items": ["C6-06"]}).status_code == 201
        back = [h for h in _search(a, **query)["hits"] if h["id"] == finding]
        assert back and back[0]["items"] == ["C6-06"]
