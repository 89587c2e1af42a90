"""A real xuncha server whose background start-up preparation (``service.startup``) waits on gates:
the index build and the demo import of two sample files, the slow parts of a first ``xuncha serve``,
held open so that tests can look at the server while they run.

Not a conftest.py (a second conftest module would shadow tests/conftest.py); tests import from here.
"""

from __future__ import annotations

import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import app_settings, serve_app

from service import context
from service.api.app import create_app
from service.commands.serve import ensure_admin, plan_demo
from service.ingest import Ingestor
from service.settings import PROJECT_ROOT, get_settings
from service.startup import Preparation, StartupState

SAMPLES = ("minutes_liuwan_liangwei_2024-02.txt", "petition_qingshi_anonymous.txt")
ADMIN_PASSWORD = "gated-admin-pass-1"


def until(check, what: str, timeout: float = 120):
    """Poll ``check`` until it returns something true (returned), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class GatedServer:
    base: str
    client: httpx.Client  # the admin's API token
    index: threading.Event  # set: the index build goes on
    demo: threading.Event  # set: the demo import goes on


@contextmanager
def gated_server(tmp_path: Path):
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in SAMPLES:
        shutil.copy(PROJECT_ROOT / "corpora" / "samples" / name, samples / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XUNCHA_ADMIN_PASSWORD", ADMIN_PASSWORD)
        settings = app_settings(patch, tmp_path / "home", tag_on_ingest="false", ocr="false")
        app = create_app(settings)
        services = app.state.services
        plan = plan_demo(settings, samples)
        state = StartupState(demo="pending", demo_total=len(plan.files))
        app.state.startup = state
        index, demo = threading.Event(), threading.Event()
        build, ingest = services.search.service, Ingestor.ingest_path

        def slow_build():
            assert index.wait(120)
            return build()

        def slow_ingest(self, *args, **kwargs):
            assert demo.wait(120)
            return ingest(self, *args, **kwargs)

        patch.setattr(services.search, "service", slow_build)
        patch.setattr(Ingestor, "ingest_path", slow_ingest)  # every ingestor of this process
        _, token = ensure_admin(settings)
        try:
            with serve_app(app) as base:
                thread = Preparation(app, state, plan.files, plan.inspection.id).start()
                with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                    yield GatedServer(base, client, index, demo)
                index.set()
                demo.set()
                thread.join(120)
        finally:
            get_settings.cache_clear()
            context._repository.cache_clear()
