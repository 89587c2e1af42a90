"""The real web API on a real PostgreSQL server: log in, upload a DOCX, find it by search, review,
delete and upload again, audit."""

from __future__ import annotations

import sys
from pathlib import Path

import docx
from conftest import PETITION_LINES
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_fixtures import running_api  # noqa: E402


def test_login_upload_and_search_over_http_on_postgresql(pg_url, tmp_path):
    path = tmp_path / "举报信.docx"
    document = docx.Document()
    for line in PETITION_LINES:
        document.add_paragraph(line)
    document.save(path)

    with running_api(tmp_path / "home", database_url=pg_url) as api:
        api.add_user("检索甲", "检索甲组", password="correct-horse-1")
        with api.client() as client:
            login = client.post("/api/auth/login", json={"username": "检索甲", "password": "correct-horse-1"})
            assert login.status_code == 200, login.text
            inspection = client.post("/api/inspections", json={"name": "第一轮", "target_unit": "青石镇"})
            assert inspection.status_code in (200, 201), inspection.text
            round_id = inspection.json()["id"]
            job = client.post(f"/api/inspections/{round_id}/documents",
                              files=[("files", (path.name, path.read_bytes()))])
            assert job.status_code in (200, 202), job.text
            finished = api.wait(client, job.json()["id"])
            assert finished["status"] == "done", finished
            document_id = finished["files"][0]["document_id"]
            findings = client.get(f"/api/documents/{document_id}/findings").json()
            assert any("年终补助" in f["text"] for f in findings)

            again = client.post(f"/api/inspections/{round_id}/documents",
                                files=[("files", (path.name, path.read_bytes()))])
            assert api.wait(client, again.json()["id"])["files"][0]["status"] == "duplicate"

            hits = client.get("/api/search", params={"q": "突击发放年终补助", "collection": "findings", "k": 5})
            assert hits.status_code == 200, hits.text
            top = hits.json()["hits"][0]
            assert top["document_id"] == document_id and "年终补助" in top["text"]

            review = client.post(f"/api/findings/{top['id']}/review", json={"action": "correct", "items": ["C2-14"]})
            assert review.status_code == 201, review.text
            assert client.delete(f"/api/documents/{document_id}").status_code == 204
            assert client.get(f"/api/documents/{document_id}").status_code == 404
            again = client.post(f"/api/inspections/{round_id}/documents",
                                files=[("files", (path.name, path.read_bytes()))])
            readded = api.wait(client, again.json()["id"])["files"][0]
            assert readded["status"] == "added" and readded["document_id"] > document_id  # ids never reused

        assert not (api.home / "xuncha.db").exists(), "the SQLite default must not be used"

    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:
            documents = connection.execute(text("select count(*) from documents")).scalar()
            reviews = connection.execute(text("select finding_id from tag_feedback")).scalars().all()
            actions = {row[0] for row in connection.execute(text("select action from audit_log"))}
    finally:
        engine.dispose()
    assert documents == 1 and reviews == [None]  # the review outlives its deleted finding, for training
    assert {"auth.login", "inspection.create", "documents.upload", "search", "finding.review",
            "document.delete"} <= actions, actions
