"""The audit log: every read, download, upload, review and delete — and never any document text."""

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from api_fixtures import api  # noqa: F401  (module-scoped server fixture)
from conftest import PETITION_LINES
from service.api.errors import INTERNAL_ERROR
from service.cli import app as cli

SECRETS = ["田富贵", "陈立国", "钱永军", "46.8万元", "突击发放年终补助", "公车开回家私用"]


def _audit(api) -> list[dict]:
    db = sqlite3.connect(api.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute("select * from audit_log order by id")]


def test_reads_downloads_reviews_and_deletes_are_audited_without_any_text(api, make_pdf):
    token = api.add_user("审计对象", "丙巡察组")
    other = api.add_user("窥探者", "丁巡察组")
    with api.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "丙组第一轮"}).json()["id"]
        path = make_pdf(PETITION_LINES, "田富贵举报陈立国.pdf", lines_per_page=4)
        job = client.post(f"/api/inspections/{inspection}/documents",
                          files=[("files", (path.name, path.read_bytes()))]).json()
        document = api.wait(client, job["id"])["files"][0]["document_id"]
        finding = client.get(f"/api/documents/{document}").json()["findings"][0]["id"]
        client.get(f"/api/documents/{document}/original")
        client.get(f"/api/documents/{document}/findings")
        client.post(f"/api/findings/{finding}/review", json={"action": "reject"})
        with api.client(other) as snoop:
            assert snoop.get(f"/api/documents/{document}").status_code == 404
        client.delete(f"/api/documents/{document}")

    rows = _audit(api)
    mine = [(r["action"], r["object_type"], r["object_id"], r["outcome"]) for r in rows if r["user_name"] == "审计对象"]
    polls = [m for m in mine if m[0] == "job.read"]  # api.wait polls the job: every read is audited
    assert polls and set(polls) == {("job.read", "job", job["id"], "ok")}
    assert [m for m in mine if m[0] != "job.read"] == [
        ("inspection.create", "inspection", str(inspection), "ok"),
        ("documents.upload", "job", job["id"], "ok"),
        ("document.read", "document", str(document), "ok"),
        ("document.download", "document", str(document), "ok"),
        ("findings.read", "document", str(document), "ok"),
        ("finding.review", "finding", str(finding), "ok"),
        ("document.delete", "document", str(document), "ok"),
    ]
    denied = [r for r in rows if r["user_name"] == "窥探者"]
    assert [(r["action"], r["outcome"], r["object_id"]) for r in denied] == [("document.read", "denied", str(document))]
    assert all(r["client"] == "127.0.0.1" and r["at"] for r in rows if r["user_name"] == "审计对象")
    assert all(r["inspection_id"] == inspection for r in rows if r["user_name"] == "审计对象")

    dump = json.dumps(rows, ensure_ascii=False)
    log = api.log.getvalue()
    for secret in SECRETS:
        assert secret not in dump, secret
        assert secret not in log, secret
    assert "stored document id=" in log and "/api/documents/{document_id}" in log  # the log was captured


def test_the_audit_log_is_append_only(api):
    api.add_user("追加测试", "丙巡察组")
    with api.client() as client:
        client.post("/api/auth/login", json={"username": "追加测试", "password": "wrong-password"})
    db = sqlite3.connect(api.home / "xuncha.db")
    assert db.execute("select count(*) from audit_log where outcome = 'failed'").fetchone()[0] >= 1
    for statement in ("update audit_log set outcome = 'ok'", "delete from audit_log"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(statement)


def test_audit_command_reads_the_log(api):
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "--user", "审计对象", "--limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["action"] for r in rows] == ["document.delete", "finding.review", "findings.read"]
    table = runner.invoke(cli, ["audit", "--limit", "5"])
    assert table.exit_code == 0 and "审计日志" in table.stdout


def test_unexpected_errors_are_a_generic_chinese_500_without_details(api, monkeypatch):
    token = api.add_user("出错用户", "丙巡察组")

    def explode(_document_id):
        raise RuntimeError("举报人田富贵的材料")

    monkeypatch.setattr(api.app.state.services.scopes, "document", explode)
    with api.client(token) as client:
        response = client.get("/api/documents/1")
    assert response.status_code == 500
    assert response.json() == {"detail": INTERNAL_ERROR, "code": "internal_error"}
    log = api.log.getvalue()
    assert "unhandled RuntimeError in GET /api/documents/{document_id}" in log
    assert "田富贵" not in log and "Traceback" not in log
