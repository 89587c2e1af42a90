"""Team isolation: another team's material is indistinguishable from material that does not exist."""

import sqlite3

import pytest

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import PETITION_LINES

MISSING = 999999


@pytest.fixture(scope="module")
def world(api, tmp_path_factory):
    import docx

    path = tmp_path_factory.mktemp("files") / "甲组举报信.docx"
    document = docx.Document()
    for line in PETITION_LINES:
        document.add_paragraph(line)
    document.save(path)
    tokens = {"a": api.add_user("甲组成员", "甲巡察组"), "b": api.add_user("乙组成员", "乙巡察组"),
              "analyst": api.add_user("巡察办分析员", "巡察办", role="analyst"),
              "admin": api.add_user("系统管理员", "巡察办", role="admin")}
    with api.client(tokens["a"]) as a:
        inspection = a.post("/api/inspections", json={"name": "甲组第二轮"}).json()["id"]
        upload = a.post(f"/api/inspections/{inspection}/documents", files=[("files", (path.name, path.read_bytes()))])
        job = api.wait(a, upload.json()["id"])
        document_id = job["files"][0]["document_id"]
        finding_id = a.get(f"/api/documents/{document_id}").json()["findings"][0]["id"]
    return {"tokens": tokens, "inspection": inspection, "document": document_id, "finding": finding_id,
            "job": job["id"], "path": path}


def _probes(world, document, finding, job, inspection):
    return [
        ("GET", f"/api/documents/{document}", None),
        ("GET", f"/api/documents/{document}/findings", None),
        ("GET", f"/api/documents/{document}/original", None),
        ("DELETE", f"/api/documents/{document}", None),
        ("POST", f"/api/findings/{finding}/review", {"action": "reject"}),
        ("GET", f"/api/jobs/{job}", None),
        ("GET", f"/api/jobs/{job}/events", None),
        ("POST", f"/api/jobs/{job}/retry", None),
        ("GET", f"/api/documents?inspection_id={inspection}", None),
        ("GET", f"/api/inspections/{inspection}", None),
        ("GET", f"/api/documents/{document}/leads", None),
        ("GET", f"/api/inspections/{inspection}/leads", None),
        ("GET", f"/api/search?q=补助&inspection_id={inspection}", None),
    ]


def test_member_of_another_team_gets_404_exactly_like_a_missing_object(api, world):
    real = _probes(world, world["document"], world["finding"], world["job"], world["inspection"])
    fake = _probes(world, MISSING, MISSING, "f" * 32, MISSING)
    with api.client(world["tokens"]["b"]) as b:
        for (method, url, body), (_, fake_url, _) in zip(real, fake):
            theirs = b.request(method, url, json=body)
            missing = b.request(method, fake_url, json=body)
            assert theirs.status_code == 404, (method, url, theirs.text)
            assert theirs.json() == missing.json(), url
        upload = b.post(f"/api/inspections/{world['inspection']}/documents",
                        files=[("files", (world["path"].name, world["path"].read_bytes()))])
        assert upload.status_code == 404 and upload.json()["detail"] == "没有找到该巡察轮次"
        assert b.get("/api/documents").json() == []
        assert b.get("/api/inspections").json() == []
        assert b.get("/api/inspections", params={"team": "甲巡察组"}).json() == []
    with api.client(world["tokens"]["a"]) as a:  # nothing was deleted or reviewed by team B
        assert a.get(f"/api/documents/{world['document']}").status_code == 200
    db = sqlite3.connect(api.home / "xuncha.db")
    assert db.execute("select count(*) from tag_feedback").fetchone()[0] == 0
    assert db.execute("select count(*) from documents").fetchone()[0] == 1


def test_analyst_reads_every_team_but_changes_nothing(api, world):
    with api.client(world["tokens"]["analyst"]) as analyst:
        listed = analyst.get("/api/documents").json()
        assert [d["id"] for d in listed] == [world["document"]] and listed[0]["team"] == "甲巡察组"
        assert analyst.get(f"/api/documents/{world['document']}").json()["fields"]["complainant"] == "田富贵"
        assert analyst.get(f"/api/documents/{world['document']}/original").status_code == 200
        assert analyst.get(f"/api/jobs/{world['job']}").status_code == 200
        assert [i["team"] for i in analyst.get("/api/inspections").json()] == ["甲巡察组"]
        assert analyst.get(f"/api/inspections/{world['inspection']}").json()["name"] == "甲组第二轮"
        for method, url, body in [
            ("DELETE", f"/api/documents/{world['document']}", None),
            ("POST", f"/api/findings/{world['finding']}/review", {"action": "reject"}),
            ("POST", f"/api/inspections/{world['inspection']}/documents", None),
        ]:
            response = analyst.request(method, url, json=body)
            assert response.status_code == 403 and response.json()["code"] == "forbidden", url
    with api.client(world["tokens"]["admin"]) as admin:
        assert admin.get(f"/api/documents/{world['document']}").status_code == 200


def test_member_reviews_findings_of_their_own_team(api, world):
    with api.client(world["tokens"]["a"]) as a:
        confirm = a.post(f"/api/findings/{world['finding']}/review", json={"action": "confirm"})
        assert confirm.status_code == 400 and "没有可确认的标签" in confirm.json()["detail"]
        unknown = a.post(f"/api/findings/{world['finding']}/review", json={"action": "correct", "items": ["Z9-99"]})
        assert unknown.status_code == 400 and "Z9-99" in unknown.json()["detail"]
        bad = a.post(f"/api/findings/{world['finding']}/review", json={"action": "approve"})
        assert bad.status_code == 422
        ok = a.post(f"/api/findings/{world['finding']}/review", json={"action": "correct", "items": ["c2-01"]})
        assert ok.status_code == 201 and ok.json()["items"] == ["C2-01"]
        findings = {f["id"]: f for f in a.get(f"/api/documents/{world['document']}/findings").json()}
        review = findings[world["finding"]]["review"]
        assert (review["action"], review["items"], review["reviewer"]) == ("correct", ["C2-01"], "甲组成员")
        assert all(f["review"] is None for i, f in findings.items() if i != world["finding"])
    db = sqlite3.connect(api.home / "xuncha.db")
    assert db.execute("select reviewer, action, items from tag_feedback").fetchall() == [
        ("甲组成员", "correct", '["C2-01"]')]
