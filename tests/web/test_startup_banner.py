"""The main page's banner while `xuncha serve` prepares in the background, in a real Chromium:
"示例数据导入中 n/N" and the index state, then gone, with the demo round listed; the search page says
"索引建立中" instead of "没有相关结果" until the index is ready."""

from __future__ import annotations

import pytest
from startup_fixtures import ADMIN_PASSWORD, gated_server

from service.commands.serve import DEMO_INSPECTION
from web_fixtures import browser, login  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


def test_banner_follows_the_background_start(browser, tmp_path):  # noqa: F811
    with gated_server(tmp_path) as gated:
        context = browser.new_context(base_url=gated.base, locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        problems = []
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        try:
            login(page, "admin", ADMIN_PASSWORD)
            banner = page.locator("#startup-banner")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text("示例数据等待导入（共 2 份）")
            expect(banner).to_contain_text("检索索引建立中")

            page.goto("/search?q=" + "公务接待超标准")
            expect(page.locator("#results")).to_contain_text("检索索引建立中，请稍后再试")
            expect(page.locator("#results")).not_to_contain_text("没有相关结果")
            expect(page.locator("#startup-banner")).to_contain_text("检索索引建立中")

            page.goto("/")
            gated.index.set()
            expect(banner).to_contain_text("示例数据导入中 0/2；检索索引已就绪", timeout=60_000)
            gated.demo.set()
            expect(banner).to_be_hidden(timeout=60_000)
            row = page.locator("#inspections tr", has_text=DEMO_INSPECTION)
            expect(row).to_be_visible()
            expect(row.locator("td.num").first).to_have_text("2")
            assert not problems, problems
        finally:
            context.close()
