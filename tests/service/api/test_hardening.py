"""Hardening (issue 14): body limits before parsing and auth, zip bombs refused at upload, login
CSRF, proxy headers trusted only from configured proxies, bounded password hashing, JSON depth,
0600 data files and bidi controls in file names.

The server runs exactly as ``xuncha serve`` runs it (``conftest.serve_app``: uvicorn with
``UVICORN_OPTIONS``) on a socket, so the client address is the real peer and bodies really stream.
"""

from __future__ import annotations

import io
import json
import os
import select
import socket
import sqlite3
import stat
import threading
import time
import zipfile
from pathlib import Path

import docx
import httpx
import pytest
from api_fixtures import Api, running_api
from conftest import MINUTES_LINES
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from service.api.middleware import ClientAddressMiddleware
from service.security import credentials
from service.security.proxies import TrustedProxies

JSON_LIMIT_KB = 1024


class Server(Api):
    """The shared API server handle, plus the port for raw-socket requests."""

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_api(tmp_path_factory.mktemp("home"), max_json_kb=str(JSON_LIMIT_KB), max_upload_files="2") as api:
        yield Server(api.base, api.home, api.settings, api.log, api.app)


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def _raw_request(port: int, head: str, body_chunks, timeout: float = 10) -> tuple[bytes, int]:
    """Send ``head`` then ``body_chunks`` until the server answers; return (response, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        for chunk in body_chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server has answered (or closed): stop sending
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        response = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                part = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not part:
                break
            response += part
            if b"\r\n\r\n" in response:
                head_part, _, rest = response.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head_part.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
    return response, sent


def _status_and_json(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body.decode("utf-8"))


# 1. request-size limits, before parsing and before authentication

def test_declared_200mb_body_is_refused_at_once_without_credentials(server):
    started = time.perf_counter()
    head = (f"POST /api/tag HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n")
    response, _ = _raw_request(server.port, head, [b'{"texts": ["' + b"a" * 1024])
    elapsed = time.perf_counter() - started
    status, body = _status_and_json(response)
    assert status == 413 and body["code"] == "too_large" and "请求内容过大" in body["detail"]
    assert elapsed < 2, elapsed


def test_streamed_json_body_is_cut_off_at_the_limit_and_memory_stays_flat(server):
    chunk = "审计".encode("utf-8") * 10_922  # ~64 KB of valid JSON string content
    total_chunks = 48 * 16  # 48 MB, far over the 1 MB limit

    def chunked():
        first = b'{"texts": ["'
        yield f"{len(first):x}\r\n".encode() + first + b"\r\n"
        for _ in range(total_chunks):
            yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"

    before = _rss_bytes()
    head = (f"POST /api/tag HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    response, sent = _raw_request(server.port, head, chunked())
    grown = _rss_bytes() - before
    status, payload = _status_and_json(response)
    assert status == 413 and payload["code"] == "too_large"
    assert sent < 16 * 1024 * 1024, sent  # the server answered long before the 48 MB were sent
    assert grown < 24 * 1024 * 1024, grown


def test_json_limit_does_not_stop_a_normal_request_and_applies_to_logged_in_users_too(server):
    token = server.add_user("限额用户", "限额组")
    with server.client(token) as client:
        small = client.post("/api/inspections", json={"name": "限额轮次"})
        assert small.status_code == 201
        big = client.post("/api/inspections", content=b'{"name": "' + b"x" * (JSON_LIMIT_KB * 1024 + 1) + b'"}',
                          headers={"Content-Type": "application/json"})
        assert big.status_code == 413 and big.json()["code"] == "too_large"
        assert client.get("/api/me").status_code == 200  # the connection pool recovers


def test_upload_over_files_times_cap_is_413_before_auth(server):
    cap = server.settings.max_upload_bytes
    head = (f"POST /api/inspections/1/documents HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: {cap + 1}\r\n\r\n")
    status, body = _status_and_json(_raw_request(server.port, head, [b"--xx\r\n"])[0])
    assert status == 413 and body["code"] == "too_large"
    head = head.replace(f"Content-Length: {cap + 1}", f"Content-Length: {2 * 1024 * 1024}")
    status, body = _status_and_json(_raw_request(server.port, head, [b"--xx--\r\n" + b" " * (2 * 1024 * 1024 - 8)])[0])
    assert status == 401  # within the upload cap (but over the JSON one): on to authentication
    token = server.add_user("分块上传用户", "分块组")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "分块轮次"}).json()["id"]
    part = (b"--xx\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\n")
    filler = "会议".encode("utf-8") * 10_000
    chunks = [part] + [filler] * (cap // len(filler) + 40)
    head = (f"POST /api/inspections/{inspection}/documents HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=xx\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    response, _ = _raw_request(server.port, head, (f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks))
    status, body = _status_and_json(response)
    assert status == 413 and body["code"] == "too_large"
    assert not any((server.home / "uploads").glob("*/*"))  # nothing left staged


# 2. zip bombs are refused before they are inflated, and nothing is stored

def _bomb_docx(unpacked_mb: int) -> bytes:
    document = docx.Document()
    document.add_paragraph("会议记录")
    plain = io.BytesIO()
    document.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info, source.read(info))
                continue
            xml = source.read(info)
            cut = xml.index(b"<w:body>") + len(b"<w:body>")
            with archive.open("word/document.xml", "w", force_zip64=True) as member:
                member.write(xml[:cut])
                block = b"<w:p/>" * (1 << 20)
                for _ in range(unpacked_mb // 6):
                    member.write(block)
                member.write(xml[cut:])
    return out.getvalue()


def test_docx_bomb_upload_fails_fast_and_stores_nothing(server):
    bomb = _bomb_docx(60)
    assert len(bomb) < 1024 * 1024  # under the 1 MB file cap: only the zip check can stop it
    token = server.add_user("炸弹用户", "炸弹组")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "炸弹轮次"}).json()["id"]
        started = time.perf_counter()
        response = client.post(f"/api/inspections/{inspection}/documents", files=[("files", ("会议.docx", bomb))])
        assert response.status_code == 202, response.text
        job = server.wait(client, response.json()["id"])
        elapsed = time.perf_counter() - started
        assert job["files"][0]["status"] == "error" and job["files"][0]["code"] == "too_large", job
        assert "压缩" in job["files"][0]["message"]
        assert client.get("/api/documents", params={"inspection_id": inspection}).json() == []
    assert elapsed < 10, elapsed
    db = sqlite3.connect(server.home / "xuncha.db")
    assert db.execute("select count(*) from documents where inspection_id = ?", (inspection,)).fetchone()[0] == 0


# 3. login CSRF

def test_login_and_logout_refuse_a_foreign_origin(server):
    server.add_user("跨站用户", "跨站组", password="cross-site-1")
    form = {"username": "跨站用户", "password": "cross-site-1"}
    with server.client() as client:
        for header in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/login.html"},
                       {"Origin": "null"}):
            refused = client.post("/api/auth/login", data=form, headers=header)
            assert refused.status_code == 403, header
            assert refused.json() == {"detail": "请求来源与本站不一致，已拒绝", "code": "forbidden"}
            assert "set-cookie" not in refused.headers
        assert client.get("/api/me").status_code == 401
        ours = client.post("/api/auth/login", data=form, headers={"Origin": server.base})
        assert ours.status_code == 200 and "xuncha_session=" in ours.headers["set-cookie"]
        foreign_logout = client.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
        assert foreign_logout.status_code == 403
        assert client.get("/api/me").status_code == 200  # still logged in
        assert client.post("/api/auth/logout").status_code == 204
    with server.client() as api_client:  # programs send no Origin: unaffected
        assert api_client.post("/api/auth/login", json=form).status_code == 200


# 4. proxy headers are believed only from configured proxies

def test_rotating_x_forwarded_for_does_not_bypass_the_login_throttle(server):
    server.add_user("轮换用户", "轮换组", password="rotate-pass-1")
    with server.client() as client:
        for n in range(5):
            bad = client.post("/api/auth/login", json={"username": "轮换用户", "password": "wrong"},
                              headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})
            assert bad.status_code == 401
        blocked = client.post("/api/auth/login", json={"username": "轮换用户", "password": "rotate-pass-1"},
                              headers={"X-Forwarded-For": "198.51.100.77"})
        assert blocked.status_code == 429
    db = sqlite3.connect(server.home / "xuncha.db")
    clients = {row[0] for row in db.execute("select client from audit_log where action = 'auth.login'")}
    assert clients == {"127.0.0.1"}


def test_trusted_proxy_resolution():
    none = TrustedProxies("")
    assert not none and none.client("127.0.0.1", ["1.2.3.4"]) == "127.0.0.1"
    proxies = TrustedProxies("10.0.0.0/8, 127.0.0.1")
    assert proxies.client("127.0.0.1", ["198.51.100.9"]) == "198.51.100.9"
    # a client-supplied first hop cannot hide the address our proxy saw
    assert proxies.client("127.0.0.1", ["6.6.6.6, 198.51.100.9, 10.1.2.3"]) == "198.51.100.9"
    assert proxies.client("192.0.2.5", ["198.51.100.9"]) == "192.0.2.5"  # peer is not our proxy
    assert proxies.client("127.0.0.1", ["not-an-ip"]) == "127.0.0.1"
    assert proxies.client("127.0.0.1", []) == "127.0.0.1"
    with pytest.raises(ValueError):
        TrustedProxies("10.0.0.0/33")


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("10.0.0.2", "198.51.100.9", "198.51.100.9"),
    ("192.0.2.5", "198.51.100.9", "192.0.2.5"),
])
def test_client_address_middleware_over_asgi(peer, forwarded, expected):
    async def whoami(request):
        return PlainTextResponse(request.client.host)

    app = ClientAddressMiddleware(Starlette(routes=[Route("/", whoami)]), TrustedProxies("10.0.0.0/8"))
    transport = httpx.ASGITransport(app=app, client=(peer, 5000))

    async def call():
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get("/", headers={"X-Forwarded-For": forwarded})).text

    import asyncio
    assert asyncio.run(call()) == expected


# 5. password hashing is bounded

def test_login_flood_waits_for_a_hashing_slot_then_gets_429(server, monkeypatch):
    server.add_user("洪水用户", "洪水组", password="flood-pass-1")
    monkeypatch.setattr(credentials, "HASH_WAIT_SECONDS", 0.3)
    taken = [credentials.HASH_SLOTS.acquire(timeout=5) for _ in range(2)]  # both slots busy
    assert all(taken)
    try:
        with server.client() as client:
            started = time.perf_counter()
            busy = client.post("/api/auth/login", json={"username": "洪水用户", "password": "flood-pass-1"})
            assert busy.status_code == 429, busy.text
            assert busy.json() == {"detail": "登录请求过多，请稍后再试", "code": "busy"}
            assert time.perf_counter() - started < 3
    finally:
        for _ in taken:
            credentials.HASH_SLOTS.release()

    active, peak, lock = 0, 0, threading.Lock()
    real_verify = credentials.verify_password

    def counted(password_hash, password):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.05)
            return real_verify(password_hash, password)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(credentials, "HASH_WAIT_SECONDS", 30)
    monkeypatch.setattr(credentials, "verify_password", counted)
    codes = []

    def attempt(n):
        with server.client() as client:
            codes.append(client.post("/api/auth/login", json={"username": f"无此人{n}", "password": "x"}).status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [401] * 8 and peak <= 2, (codes, peak)


# 6. JSON nesting

def test_deeply_nested_json_is_a_400_not_a_500(server):
    with server.client() as client:
        for body in (b"[" * 1000, b"[" * 10_000, b'{"username": ' + b"[" * 5000):
            response = client.post("/api/auth/login", content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (len(body), response.text)
            assert response.json()["code"] == "bad_request" and "嵌套" in response.json()["detail"]
    with server.client(server.add_user("嵌套用户", "嵌套组")) as client:  # FastAPI-parsed bodies too
        response = client.post("/api/tag", content=b'{"texts": ' + b"[" * 100_000,
                               headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500 and response.status_code != 413, response.text


# 7. data files 0600; bidi controls stripped from file names

def test_data_files_are_private_and_bidi_controls_leave_file_names(server):
    token = server.add_user("文件用户", "文件组")
    name = "会议记录\u202etxt.exe\u2066\u200f.txt"
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "文件轮次"}).json()["id"]
        response = client.post(f"/api/inspections/{inspection}/documents",
                               files=[("files", (name, "\n".join(MINUTES_LINES).encode("utf-8")))])
        assert response.status_code == 202, response.text
        job = server.wait(client, response.json()["id"])
        assert job["files"][0]["status"] == "added", job
        assert job["files"][0]["filename"] == "会议记录txt.exe.txt"
        document = client.get(f"/api/documents/{job['files'][0]['document_id']}").json()
        assert not any(ch in json.dumps(document, ensure_ascii=False) for ch in "\u202e\u2066\u200f")
        assert client.get("/api/search", params={"q": "维修项目"}).status_code == 200
    files = [server.home / "xuncha.db", *server.home.glob("originals/**/*.*")]
    files += [p for p in server.home.glob("*.sqlite")]
    assert len(files) >= 2
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_older_data_directory_is_tightened_at_start(tmp_path):
    from service.security.files import private_files

    home = tmp_path / "old-home"
    (home / "originals" / "ab").mkdir(parents=True)
    legacy = [home / "xuncha.db", home / "vectors.sqlite", home / "originals" / "ab" / "ab12.docx"]
    for path in legacy:
        path.write_bytes(b"x")
        path.chmod(0o644)
    (home / "originals").chmod(0o755)
    private_files(home)
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in legacy)
    assert stat.S_IMODE((home / "originals").stat().st_mode) == 0o700


def test_database_file_is_0600_even_when_created_outside_the_server(tmp_path):
    from service.storage.sql import make_engine

    previous = os.umask(0o022)  # as the CLI runs: no private umask
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
        with engine.connect() as connection:
            connection.exec_driver_sql("create table t (x)")
    finally:
        os.umask(previous)
    for path in tmp_path.glob("cli.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
