"""Every read and every refusal is audited with the client address (issue 14, items 8 and 9).

Successful job reads (they carry file names), round list/detail reads, an analyst's 403 on creating a
round and every 401 reach the audit log; the access log names the client; the client is the socket
peer unless the peer is a configured trusted proxy. Behind a trusted proxy that forwards no client
address, one guesser's failures slow the account down instead of locking its owner out. Over the
real app on a socket (uvicorn as ``xuncha serve`` runs it).
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from api_fixtures import Api, running_api
from fastapi import Depends

from service.api.deps import current_user
from service.api.errors import forbidden

SECRET_FILE = "举报人周某某反映情况.txt"
SECRET_TEXT = "周某某反映村会计挪用集体资金八万元"


def _refusal_route(app) -> None:
    @app.get("/api/test-refusal")
    def refusal(_user=Depends(current_user)):  # a 403 its handler does not audit itself
        raise forbidden()


@pytest.fixture(scope="module", params=["direct", "proxied"])
def server(request, tmp_path_factory):
    """The app on a socket; ``proxied``: 127.0.0.1 (the test client) is a trusted reverse proxy."""
    proxies = "127.0.0.1" if request.param == "proxied" else ""
    with running_api(tmp_path_factory.mktemp("home"), _refusal_route, trusted_proxies=proxies) as server:
        yield server


def _rows(server: Api) -> list[dict]:
    db = sqlite3.connect(server.home / "xuncha.db")
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute("select * from audit_log order by id")]


def _proxied(server: Api) -> bool:
    return bool(server.settings.trusted_proxies)


# What the client sends and the address the audit log must record: behind the trusted proxy the
# forwarded one; otherwise the peer, whatever X-Forwarded-For claims.
FORWARDED = {"X-Forwarded-For": "198.51.100.23"}


def _open(server: Api, token: str | None = None, headers: dict | None = None):
    client = server.client(token)
    client.headers.update(headers or {})
    return client


def _client(server: Api) -> str:
    return "198.51.100.23" if _proxied(server) else "127.0.0.1"


def test_reads_of_jobs_and_rounds_are_audited_with_the_client_and_no_names(server):
    token = server.add_user("读取审计", "甲巡察组")
    with _open(server, token, FORWARDED) as client:
        inspection = client.post("/api/inspections", json={"name": "读取审计轮次"}).json()["id"]
        upload = client.post(f"/api/inspections/{inspection}/documents",
                             files=[("files", (SECRET_FILE, SECRET_TEXT.encode("utf-8"), "text/plain"))])
        assert upload.status_code == 202, upload.text
        job = upload.json()["id"]
        assert server.wait(client, job)["files"][0]["filename"] == SECRET_FILE
        assert client.get("/api/inspections").status_code == 200
        assert client.get(f"/api/inspections/{inspection}").status_code == 200
        assert client.get(f"/api/inspections/{inspection}/review-counts").status_code == 200

    mine = [r for r in _rows(server) if r["user_name"] == "读取审计"]
    actions = {(r["action"], r["object_id"], r["inspection_id"], r["outcome"]) for r in mine}
    assert {("job.read", job, inspection, "ok"), ("inspection.list", None, None, "ok"),
            ("inspection.read", str(inspection), inspection, "ok"),
            ("findings.counts", str(inspection), inspection, "ok")} <= actions
    assert {r["client"] for r in mine} == {_client(server)}
    dump = json.dumps(_rows(server), ensure_ascii=False) + server.log.getvalue()
    assert SECRET_FILE not in dump and "周某某" not in dump


def test_every_401_and_403_is_audited_with_the_client(server):
    analyst = server.add_user("拒绝审计分析员", "巡察办", role="analyst")
    with _open(server, analyst, FORWARDED) as client:
        refused = client.post("/api/inspections", json={"name": "分析员不能新建"})
        assert refused.status_code == 403
        assert client.get("/api/test-refusal").status_code == 403
    with _open(server, None, FORWARDED) as anonymous:
        assert anonymous.get("/api/documents").status_code == 401
        assert anonymous.get("/api/jobs/abc123", headers={"Authorization": "Bearer xct_forged"}).status_code == 401
        anonymous.cookies.set("xuncha_session", "made-up-session")
        assert anonymous.get("/api/inspections").status_code == 401

    rows = _rows(server)
    analyst_rows = [(r["action"], r["outcome"], r["object_type"], r["object_id"])
                    for r in rows if r["user_name"] == "拒绝审计分析员"]
    assert analyst_rows == [("inspection.create", "denied", None, None),
                            ("access.forbidden", "denied", "route", "/api/test-refusal")]
    anonymous_rows = [(r["action"], r["outcome"], r["object_id"]) for r in rows if r["user_name"] is None]
    assert anonymous_rows[-3:] == [("auth.missing", "denied", "/api/documents"),
                                   ("auth.token", "denied", "/api/jobs/{job_id}"),
                                   ("auth.session", "denied", "/api/inspections")]
    assert {r["client"] for r in rows} == {_client(server)}


def test_the_access_log_names_the_client_address(server):
    with _open(server, None, FORWARDED) as client:
        client.get("/api/me")
    assert f"xuncha.access {_client(server)} GET /api/me 401 " in server.log.getvalue()


def test_a_guesser_cannot_lock_the_owner_out(server):
    """Direct: the guesser's address is locked for the account, the owner's is not. Behind the proxy
    with no forwarded address (everyone shares the proxy's): the account slows down, never locks."""
    server.add_user("被猜用户", "甲巡察组", password="owner-pass-1")
    guesser = {"X-Forwarded-For": "203.0.113.9"} if _proxied(server) else {}
    with _open(server, None, guesser) as client:
        codes = [client.post("/api/auth/login", json={"username": "被猜用户", "password": f"guess-{n}"}).status_code
                 for n in range(6)]
    assert codes == [401] * 5 + [429]
    if _proxied(server):  # the owner comes from elsewhere through the same proxy
        with _open(server, None, {"X-Forwarded-For": "198.51.100.7"}) as owner:
            login = owner.post("/api/auth/login", json={"username": "被猜用户", "password": "owner-pass-1"})
            assert login.status_code == 200

        server.add_user("代理后用户", "甲巡察组", password="owner-pass-2")
        with server.client() as anyone:  # the proxy forwards no client address
            codes = [anyone.post("/api/auth/login", json={"username": "代理后用户", "password": f"x{n}"}).status_code
                     for n in range(7)]
            assert codes == [401] * 7  # no hard lock on the address everyone shares
            began = time.monotonic()
            owner = anyone.post("/api/auth/login", json={"username": "代理后用户", "password": "owner-pass-2"})
            waited = time.monotonic() - began
        assert owner.status_code == 200 and waited >= 1.0  # the account's backoff, not a lock-out
