"""A real xuncha server with tagging on ingest, and a headless Chromium driven by Playwright.

Not a conftest.py (a second conftest module would shadow tests/conftest.py for `from conftest import …`);
test modules import the fixtures from here. Needs the trained model in models/ (built by
scripts/setup.sh) and Debian's Chromium at /usr/bin/chromium: without them the tests are skipped —
unless the environment variable CI is set, where a missing prerequisite is a failure.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from conftest import app_settings, serve_app
from fastapi import FastAPI

from service import artefacts, context
from service.api.app import create_app
from service.security import SecurityStore
from service.settings import Settings, get_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "correct-horse-1"


def missing(reason: str) -> None:
    """Skip for a missing prerequisite; on CI, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    base: str
    home: Path
    settings: Settings
    app: FastAPI

    def add_user(self, name: str, team: str, role: str = "member", password: str = PASSWORD) -> str:
        """Create a user; returns an API token for checking results behind the browser's back."""
        store = SecurityStore(context.repository(self.settings).engine)
        return store.issue_token(store.add_user(name, team, role, password).id)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)


@contextmanager
def running_server(home: Path, **overrides: str):
    """The real app served over HTTP with these settings, the settings caches cleared afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        settings = app_settings(patch, home, **overrides)
        app = create_app(settings)
        try:
            with serve_app(app) as base:
                yield Server(base, home, settings, app)
        finally:
            get_settings.cache_clear()
            context._repository.cache_clear()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("web-home"), max_file_mb="5", tag_on_ingest="true",
                        ocr="false") as running:
        if not (running.settings.models_dir / artefacts.TAGGER_FILE).exists():
            missing(f"the trained tagging model is missing from {running.settings.models_dir} (run scripts/setup.sh)")
        if running.app.state.services.runner.ingestor.tagger is None:
            missing("tagging on ingest is not available (the trained model could not be loaded)")
        yield running


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser, server):
    """Open pages in fresh browser contexts (separate cookies); collects console errors and CSP reports."""
    contexts, problems = [], []

    def open_page():
        ctx = browser.new_context(base_url=server.base, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    open_page.problems = problems
    yield open_page
    for ctx in contexts:
        ctx.close()


def login(page, username: str, password: str = PASSWORD, next_path: str = "/") -> None:
    """Log in through the form; the browser must then be on ``next_path``."""
    page.goto(f"/login?next={quote(next_path, safe='')}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda url: urlsplit(url).path == next_path)
