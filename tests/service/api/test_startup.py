"""`xuncha serve` opens its port first: the search index and the demo import are prepared in the
background, their progress is served by /api/startup, and search says "索引建立中" until ready."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import httpx
import pytest
from startup_fixtures import gated_server, until

from service.commands.serve import DEMO_INSPECTION
from service.settings import PROJECT_ROOT


@pytest.fixture
def gated(tmp_path):
    with gated_server(tmp_path) as server:
        yield server


def test_serve_answers_while_the_index_is_built_and_the_demo_imported(gated):
    client, base = gated.client, gated.base
    assert client.get("/api/me").json()["name"] == "admin"
    assert httpx.get(f"{base}/login").status_code == 200
    assert httpx.get(f"{base}/api/startup").status_code == 401  # progress is for logged-in users only

    status = client.get("/api/startup").json()
    assert not status["ready"] and status["index"]["state"] == "building"
    assert status["demo"] == {"state": "pending", "label": "等待导入", "done": 0, "total": 2, "added": 0}
    assert "检索索引建立中" in status["message"]
    search = client.get("/api/search", params={"q": "公务接待超标准"})
    assert search.status_code == 200 and search.json()["indexing"] is True
    assert search.json()["hits"] == [] and "索引建立中" in search.json()["message"]

    gated.index.set()  # the index is built; the demo import now waits on its first file
    status = until(lambda: (s := client.get("/api/startup").json())["demo"]["state"] == "running" and s,
                    "the demo import to start")
    assert status["index"]["state"] == "ready" and status["demo"]["done"] == 0
    assert status["message"] == "示例数据导入中 0/2；检索索引已就绪"
    assert client.get("/api/me").status_code == 200
    searched = client.get("/api/search", params={"q": "公务接待超标准"}).json()
    assert searched["indexing"] is False and searched["message"] != search.json()["message"]

    gated.demo.set()
    status = until(lambda: (s := client.get("/api/startup").json())["ready"] and s, "the demo import to finish")
    assert status["demo"] | {"label": None} == {"state": "done", "label": None, "done": 2, "total": 2, "added": 2}
    assert status["message"] is None
    rounds = {r["name"]: r for r in client.get("/api/inspections").json()}
    assert rounds[DEMO_INSPECTION]["document_count"] == 2 and rounds[DEMO_INSPECTION]["demo"]


def _bench():
    """bench/startup.py (not a package): its helpers start and stop a real xuncha serve."""
    spec = importlib.util.spec_from_file_location("bench_startup", PROJECT_ROOT / "bench" / "startup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xuncha_serve_answers_before_its_first_demo_import_is_done(tmp_path):
    """The real command on a fresh data directory: the login page and /api/me answer while the
    demo material (dozens of files, OCR and tagging) is still being imported in the background."""
    bench = _bench()
    port = bench.free_port()
    env = dict(os.environ, XUNCHA_HOME=str(tmp_path / "home"), XUNCHA_ADMIN_PASSWORD="serve-test-pass-1")
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            def login_page():
                assert process.poll() is None, process.stdout.read().decode(errors="replace")
                try:
                    return client.get("/login").status_code == 200
                except httpx.TransportError:
                    return False

            until(login_page, "xuncha serve to open its port", timeout=180)
            login = client.post("/api/auth/login", json={"username": "admin", "password": "serve-test-pass-1"})
            assert login.status_code == 200, login.text
            assert client.get("/api/me").json()["name"] == "admin"
            status = client.get("/api/startup").json()
            assert status["demo"]["total"] > 10  # the whole of corpora/samples
            assert status["demo"]["state"] in ("pending", "running") and status["demo"]["done"] < status["demo"]["total"]
            assert not status["ready"] and status["message"]
    finally:
        bench.stop(process)
