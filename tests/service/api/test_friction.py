"""Everyday friction over the real API (uvicorn + SQLite): correcting a document's kind, the year
of a document's own date, demo material kept out of search, deleting a round, bulk review with a
filtered review queue, evidence without function words, and /docs served without a CDN."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import update

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import MINUTES_LINES, PETITION_LINES
from service import context
from service.commands.serve import DEMO_INSPECTION, DEMO_TEAM, prepare_demo
from service.security import AuditLog
from service.storage import models
from service.storage.sql import MIGRATIONS, make_engine, migrate

TEAM, OTHER = "第三巡察组", "第五巡察组"
UNDATED = ["情况说明", "关于办公楼维修工程款支付进度的情况说明。", "工程款已按合同支付百分之六十，剩余部分待审计后支付。"]


def _db(api) -> sqlite3.Connection:
    return sqlite3.connect(api.home / "xuncha.db")


def _upload(api, client, inspection_id: int, name: str, lines: list[str]) -> int:
    response = client.post(f"/api/inspections/{inspection_id}/documents",
                           files=[("files", (name, "\n".join(lines).encode("utf-8"), "text/plain"))])
    assert response.status_code == 202, response.text
    job = api.wait(client, response.json()["id"])
    assert job["status"] == "done" and job["files"][0]["status"] == "added", job
    return job["files"][0]["document_id"]


def _audited(api, action: str, object_id) -> list[str]:
    return [e.outcome for e in AuditLog(context.repository(api.settings).engine).entries(limit=500)
            if e.action == action and e.object_id == str(object_id)]


@pytest.fixture(scope="module")
def world(api):
    member, other, analyst, admin = (api.add_user("周审核", TEAM), api.add_user("吴外组", OTHER),
                                     api.add_user("郑分析", "巡察办", "analyst"), api.add_user("管理员甲", "巡察办", "admin"))
    with api.client(member) as client:
        inspection = client.post("/api/inspections", json={"name": "2024年第三轮", "target_unit": "青石镇"}).json()["id"]
        petition = _upload(api, client, inspection, "举报信.txt", PETITION_LINES)
        minutes = _upload(api, client, inspection, "会议记录.txt", MINUTES_LINES)
        undated = _upload(api, client, inspection, "情况说明.txt", UNDATED)
    with api.client(other) as client:
        foreign = client.post("/api/inspections", json={"name": "外组轮次"}).json()["id"]
        foreign_doc = _upload(api, client, foreign, "外组举报.txt", PETITION_LINES[:5] + ["举报人：某某", "2023年5月6日"])
    return {"tokens": {"member": member, "other": other, "analyst": analyst, "admin": admin},
            "inspection": inspection, "petition": petition, "minutes": minutes, "undated": undated,
            "foreign": foreign, "foreign_doc": foreign_doc}


def test_changing_the_kind_re_extracts_fields_keeps_finding_ids_and_is_audited(api, world):
    tokens, doc = world["tokens"], world["petition"]
    with api.client(tokens["member"]) as client:
        before = client.get(f"/api/documents/{doc}").json()
        assert before["kind"] == "petition" and before["fields"]["complainant"] == "田富贵"
        finding = before["findings"][0]["id"]
        assert client.post("/api/findings/review", json={"finding_ids": [finding], "action": "reject"}).status_code == 200

        changed = client.patch(f"/api/documents/{doc}", json={"kind": "interview"})
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["kind"] == "interview" and body["kind_overridden"] is True
        assert "complainant" not in body["fields"] and "interviewee" in body["fields"]
        assert [f["id"] for f in body["findings"]] == [f["id"] for f in before["findings"]]
        assert body["findings"][0]["review"]["action"] == "reject"  # reviews stay with the findings

        back = client.patch(f"/api/documents/{doc}", json={"kind": "petition"}).json()
        assert back["fields"]["complainant"] == "田富贵" and back["year"] == 2024
        assert client.get(f"/api/documents/{doc}").json()["kind"] == "petition"
        assert client.patch(f"/api/documents/{doc}", json={"kind": "letter"}).status_code == 422
    assert _audited(api, "document.kind", doc).count("ok") == 2

    with api.client(tokens["analyst"]) as client:
        assert client.patch(f"/api/documents/{doc}", json={"kind": "other"}).status_code == 403
    with api.client(tokens["other"]) as client:
        assert client.patch(f"/api/documents/{doc}", json={"kind": "other"}).status_code == 404
    assert _audited(api, "document.kind", doc).count("denied") == 2


def test_the_year_is_the_documents_own_date_not_the_import_date(api, world):
    this_year = datetime.now(timezone.utc).year
    with api.client(world["tokens"]["member"]) as client:
        listed = {d["id"]: d for d in client.get("/api/documents", params={"inspection_id": world["inspection"]}).json()}
        assert listed[world["petition"]]["year"] == 2024  # dated at its signature: 2024年4月23日
        assert listed[world["minutes"]]["year"] == 2024  # the meeting date in its header
        assert listed[world["undated"]]["year"] == this_year  # no date of its own: the import year
        by_year = client.get("/api/documents", params={"inspection_id": world["inspection"], "year": 2024}).json()
        assert sorted(d["id"] for d in by_year) == sorted([world["petition"], world["minutes"]])

        hits = client.get("/api/search", params={"q": "公车私用 加油费报销", "collection": "findings",
                                                 "year": 2024, "k": 20}).json()["hits"]
        assert hits and all(h["year"] == 2024 for h in hits)
        assert any(h["document_id"] == world["petition"] for h in hits)
        if this_year != 2024:
            stale = client.get("/api/search", params={"q": "公车私用 加油费报销", "collection": "findings",
                                                      "year": this_year, "k": 20}).json()["hits"]
            assert all(h["document_id"] != world["petition"] for h in stale)


def test_migration_backfills_the_year_of_existing_documents_and_marks_the_old_demo_round(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.exec_driver_sql(
            "INSERT INTO inspections (id, name, team, created_at) VALUES "
            "(1, '示例巡察（2024年第二轮）', '示例巡察组', '2026-01-05 10:00:00'), (2, '真实轮次', '一组', '2026-01-05 10:00:00')")
        rows = [(1, '{"date": "2023-11-02"}', "党组会议记录", "minutes"),
                (2, '{"complainant": "某"}', "举报信\n反映问题\n举报人：某\n2022年3月1日", "petition"),
                (3, "{}", "一份没有日期的材料", "other")]
        for doc_id, fields, text, kind in rows:
            connection.exec_driver_sql(
                "INSERT INTO documents (id, inspection_id, filename, sha256, size, media_type, kind, kind_score, "
                "kind_scores, kind_overridden, fields, pages, ocr_pages, warnings, original_path, text, created_at) "
                f"VALUES ({doc_id}, 2, 'f{doc_id}.txt', 'h{doc_id}', 1, 'text', '{kind}', 1.0, '{{}}', 0, '{fields}', 1, "
                f"'[]', '[]', 'x/{doc_id}', '{text}', '2026-01-05 10:00:00')")
        connection.exec_driver_sql(
            "INSERT INTO findings (document_id, seq, text, start, end, source_start, source_end, role, entities) "
            "VALUES (1, 0, '党组会议记录', 0, 6, 0, 6, 'statement', '[]')")
    migrate(engine)  # the production path: every later revision, with SQLite's foreign keys off while tables are rebuilt
    with engine.begin() as connection:
        years = dict(connection.exec_driver_sql("SELECT id, year FROM documents").fetchall())
        demo = dict(connection.exec_driver_sql("SELECT id, demo FROM inspections").fetchall())
        findings = connection.exec_driver_sql("SELECT count(*) FROM findings").scalar()
    assert findings == 1  # rebuilding tables (ids never reused, 0008) cascaded nothing away
    assert years == {1: 2023, 2: 2022, 3: 2026}
    assert demo == {1: 1, 2: 0}


def test_demo_round_is_left_out_of_search_unless_asked_for(api, world, tmp_path):
    repository = context.repository(api.settings)
    demo = repository.ensure_inspection(DEMO_INSPECTION, DEMO_TEAM, "清河县", demo=True)
    ingestor = context.ingestor(api.settings, tag=False)
    text = "举报信\n我举报示例村会计孙某某把扶贫羊款挪去炒股，数额八万余元。\n举报人：匿名\n2024年2月2日\n"
    result = ingestor.ingest_bytes(text.encode("utf-8"), "示例举报.txt", demo.id)
    assert result.status == "added"
    query = {"q": "扶贫羊款挪去炒股", "collection": "findings", "k": 10}
    with api.client(world["tokens"]["admin"]) as client:
        rounds = {r["id"]: r for r in client.get("/api/inspections").json()}
        assert rounds[demo.id]["demo"] is True and rounds[world["inspection"]]["demo"] is False
        default = client.get("/api/search", params=query).json()["hits"]
        assert all(h["document_id"] != result.document_id for h in default)
        asked = client.get("/api/search", params={**query, "include_demo": "true"}).json()["hits"]
        assert any(h["document_id"] == result.document_id for h in asked)
        in_round = client.get("/api/search", params={**query, "inspection_id": demo.id}).json()["hits"]
        assert in_round and all(h["document_id"] == result.document_id for h in in_round)
        assert client.delete(f"/api/inspections/{demo.id}").status_code == 200
        assert client.get(f"/api/inspections/{demo.id}").status_code == 404
        after = client.get("/api/search", params={**query, "include_demo": "true"}).json()["hits"]
        assert all(h["document_id"] != result.document_id for h in after)
    # once deleted, starting the server does not bring the example material back
    setup = prepare_demo(api.settings, tmp_path, quiet=True)
    assert setup.inspection_id is None and setup.ingested == 0
    assert all(r.name != DEMO_INSPECTION for r in repository.list_inspections())


def _tag(api, finding_id: int, score: float, evidence: list[dict] | None = None, labels=("C2-01",)) -> None:
    tags = {"is_finding": score >= 0.5, "finding_score": score, "labels": list(labels),
            "checklist": [{"id": "C2-01", "title": "违规公款吃喝", "score": 0.8}], "focus": 2,
            "evidence": evidence or []}
    with context.repository(api.settings).session() as session, session.begin():
        session.execute(update(models.Finding).where(models.Finding.id == finding_id).values(tags=tags))


def test_bulk_review_is_team_scoped_and_the_queue_filters_by_status_and_score(api, world):
    tokens = world["tokens"]
    with api.client(tokens["member"]) as client:
        findings = [f["id"] for f in client.get(f"/api/documents/{world['minutes']}").json()["findings"]]
        assert len(findings) >= 4
        high, middle, low, untagged = findings[:4]
        _tag(api, high, 0.92)
        _tag(api, middle, 0.61)
        _tag(api, low, 0.12)
        foreign = client.get(f"/api/documents/{world['foreign_doc']}/findings")
        assert foreign.status_code == 404
    with api.client(tokens["other"]) as client:
        foreign_finding = client.get(f"/api/documents/{world['foreign_doc']}").json()["findings"][0]["id"]

    with api.client(tokens["member"]) as client:
        queue = f"/api/inspections/{world['inspection']}/findings"
        start = client.get(queue).json()["counts"]
        # another team's finding in the list: the whole request fails and nothing is recorded
        mixed = client.post("/api/findings/review", json={"finding_ids": [high, foreign_finding], "action": "reject"})
        assert mixed.status_code == 404
        assert client.get(queue).json()["counts"] == start

        confirmed = client.post("/api/findings/review", json={"finding_ids": [high, untagged], "action": "confirm"})
        assert confirmed.status_code == 200
        body = confirmed.json()
        assert [r["finding_id"] for r in body["reviewed"]] == [high] and body["reviewed"][0]["items"] == ["C2-01"]
        assert [s["finding_id"] for s in body["skipped"]] == [untagged] and "没有可确认的标签" in body["skipped"][0]["detail"]

        rejected = client.post("/api/findings/review", json={"finding_ids": [middle, low], "action": "reject"}).json()
        assert sorted(r["finding_id"] for r in rejected["reviewed"]) == sorted([middle, low])
        counts = client.get(f"/api/inspections/{world['inspection']}/review-counts").json()
        assert counts["confirm"] == start["confirm"] + 1 and counts["reject"] == start["reject"] + 2
        assert counts["unreviewed"] == start["unreviewed"] - 3 and counts["total"] == start["total"]

        rejected_ids = {f["id"] for f in client.get(queue, params={"status": "reject"}).json()["findings"]}
        assert {middle, low} <= rejected_ids and high not in rejected_ids
        scored = client.get(queue, params={"min_score": 0.5, "max_score": 0.95}).json()
        assert {f["id"] for f in scored["findings"]} == {high, middle} and scored["matched"] == 2
        flagged_open = client.get(queue, params={"status": "reject", "flagged": "true"}).json()["findings"]
        assert [f["id"] for f in flagged_open] == [middle]
        assert client.get(queue, params={"min_score": 2}).status_code == 422
    with api.client(tokens["analyst"]) as client:
        assert client.post("/api/findings/review", json={"finding_ids": [low], "action": "confirm"}).status_code == 403
        assert client.get(f"/api/inspections/{world['inspection']}/findings").status_code == 200
    with api.client(tokens["other"]) as client:
        assert client.get(f"/api/inspections/{world['inspection']}/findings").status_code == 404


def test_evidence_is_shown_without_function_words_and_as_phrases(api, world):
    with api.client(world["tokens"]["member"]) as client:
        finding = next(f for f in client.get(f"/api/documents/{world['petition']}").json()["findings"]
                       if "公车" in f["text"] and "把" in f["text"])
        text = finding["text"]
        start = text.index("公车")
        evidence = [{"item": "C2-01", "kind": "keyword", "text": "公车", "start": start, "end": start + 2, "weight": 1.0},
                    {"item": "C2-01", "kind": "word", "text": "私用", "start": text.index("私用"),
                     "end": text.index("私用") + 2, "weight": 0.4},
                    {"item": "C2-01", "kind": "word", "text": "开回家", "start": text.index("开回家"),
                     "end": text.index("开回家") + 3, "weight": 0.2},
                    {"item": "C2-01", "kind": "word", "text": "也", "start": None, "end": None, "weight": 0.9},
                    {"item": "C2-01", "kind": "word", "text": "没有", "start": None, "end": None, "weight": 0.8},
                    {"item": "C2-01", "kind": "word", "text": "把", "start": text.index("把"),
                     "end": text.index("把") + 1, "weight": 0.3},
                    {"item": "C2-01", "kind": "similar", "text": "公车私用", "start": None, "end": None, "weight": 0.7}]
        _tag(api, finding["id"], 0.9, evidence)
        shown = next(f for f in client.get(f"/api/documents/{world['petition']}").json()["findings"]
                     if f["id"] == finding["id"])
        words = [e["text"] for e in shown["tags"]["evidence"]]
        assert "也" not in words and "没有" not in words and "把" not in words
        assert {"公车", "私用", "公车私用"} <= set(words)
        phrases = shown["tags"]["phrases"]
        # touching words read as one phrase, marked as holding a checklist term
        assert [(p["text"], p["keyword"]) for p in phrases] == [("公车开回家私用", True)], phrases
        queue = client.get(f"/api/inspections/{world['inspection']}/findings",
                           params={"document_id": world["petition"], "min_score": 0.85}).json()["findings"]
        assert [f["id"] for f in queue] == [finding["id"]] and queue[0]["tags"]["phrases"] == phrases


def test_only_an_admin_deletes_a_round_and_everything_in_it_goes(api, world):
    tokens = world["tokens"]
    inspection = world["inspection"]
    db = _db(api)
    doc_ids = [r[0] for r in db.execute("select id from documents where inspection_id = ?", (inspection,))]
    originals = [api.settings.originals_dir / r[0] for r in
                 db.execute("select original_path from documents where inspection_id = ?", (inspection,))]
    finding_ids = [r[0] for r in db.execute(
        f"select id from findings where document_id in ({','.join('?' * len(doc_ids))})", doc_ids)]
    assert doc_ids and finding_ids and all(p.is_file() for p in originals)
    assert db.execute(f"select count(*) from tag_feedback where finding_id in ({','.join('?' * len(finding_ids))})",
                      finding_ids).fetchone()[0] > 0
    db.execute("insert into reports (inspection_id, created_at, updated_at) values (?, '2026-01-01', '2026-01-01')",
               (inspection,))
    db.commit()
    with api.client(tokens["member"]) as client:
        assert client.delete(f"/api/inspections/{inspection}").status_code == 403
    with api.client(tokens["analyst"]) as client:
        assert client.delete(f"/api/inspections/{inspection}").status_code == 403
    with api.client(tokens["other"]) as client:
        assert client.delete(f"/api/inspections/{inspection}").status_code == 404
    assert db.execute("select count(*) from documents where inspection_id = ?", (inspection,)).fetchone()[0] == 3

    with api.client(tokens["admin"]) as client:
        before = client.get("/api/search", params={"q": "公车私用 加油费报销", "collection": "findings", "k": 20}).json()
        assert any(h["document_id"] in doc_ids for h in before["hits"])
        deleted = client.delete(f"/api/inspections/{inspection}")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json() == {"inspection_id": inspection, "documents": 3, "findings": len(finding_ids)}
        assert client.get(f"/api/inspections/{inspection}").status_code == 404
        assert client.get(f"/api/documents/{doc_ids[0]}").status_code == 404
        after = client.get("/api/search", params={"q": "公车私用 加油费报销", "collection": "findings", "k": 20}).json()
        assert all(h["document_id"] not in doc_ids for h in after["hits"])
        assert client.delete(f"/api/inspections/{inspection}").status_code == 404
        assert client.get(f"/api/inspections/{world['foreign']}").status_code == 200  # other rounds untouched
    marks = ",".join("?" * len(finding_ids))
    assert db.execute(f"select count(*) from findings where id in ({marks})", finding_ids).fetchone()[0] == 0
    assert db.execute(f"select count(*) from tag_feedback where finding_id in ({marks})", finding_ids).fetchone()[0] == 0
    assert db.execute("select count(*) from tag_feedback where finding_id is null").fetchone()[0] == 0
    assert db.execute("select count(*) from reports where inspection_id = ?", (inspection,)).fetchone()[0] == 0
    assert not any(p.exists() for p in originals)
    assert _audited(api, "inspection.delete", inspection) == ["not_found", "ok", "denied", "denied", "denied"]


def test_docs_and_redoc_are_served_from_bundled_assets_under_a_policy(api):
    with api.client() as client:
        for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
            page = client.get(path)
            assert page.status_code == 200
            policy = page.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "default-src 'self'" in policy
            assert f"/docs-assets/{asset}" in page.text
            assert "cdn" not in page.text.lower() and "<script>" not in page.text  # no inline script
            served = client.get(f"/docs-assets/{asset}")
            assert served.status_code == 200 and len(served.content) > 500_000
        assert client.get("/static/js/apidocs.js").status_code == 200
        assert "/api/findings/review" in client.get("/openapi.json").json()["paths"]
