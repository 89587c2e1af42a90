"""A real xuncha API server (uvicorn in a background thread, fresh XUNCHA_HOME) per test module.

Not a conftest.py: a second conftest module would shadow tests/conftest.py for `from conftest import …`.
Test modules import the `api` fixture from here.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import app_settings, serve_app
from fastapi import FastAPI

from service import context
from service.api.app import create_app
from service.security import SecurityStore
from service.settings import Settings, get_settings


@dataclass
class Api:
    base: str
    home: Path
    settings: Settings
    log: io.StringIO
    app: FastAPI

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=60, **kwargs)

    def add_user(self, name: str, team: str, role: str = "member", password: str = "correct-horse-1") -> str:
        store = SecurityStore(context.repository(self.settings).engine)
        return store.issue_token(store.add_user(name, team, role, password).id)

    def wait(self, client: httpx.Client, job_id: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = client.get(f"/api/jobs/{job_id}").json()
            if job["status"] in ("done", "failed", "cancelled"):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not finish")


@contextmanager
def running_api(home: Path, prepare: Callable[[FastAPI], None] | None = None, **env: str) -> Iterator[Api]:
    """A server on ``home`` with the API tests' settings plus ``env`` (XUNCHA_* without the prefix),
    logging captured; ``prepare`` may add test routes to the app before it serves."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    with pytest.MonkeyPatch.context() as patch:
        settings = app_settings(patch, home, **{"max_file_mb": "1", "tag_on_ingest": "false", "ocr": "false", **env})
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        app = create_app(settings)
        if prepare is not None:
            prepare(app)
        try:
            with serve_app(app) as base:
                yield Api(base, home, settings, captured, app)
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            get_settings.cache_clear()
            context._repository.cache_clear()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with running_api(tmp_path_factory.mktemp("home")) as server:
        yield server
