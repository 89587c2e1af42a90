"""The upload page in a real headless Chromium against a real server with one ingestion worker:
queued, running and imported files are shown distinctly (grey, blue, green — never the failure
red), a small file picked after two large ones is imported (and listed) while the first large one
still runs, and the cancel buttons stop a queued and a running file."""

from __future__ import annotations

import pytest
from conftest import PETITION_LINES

from web_fixtures import CHROMIUM_ARGS, browser, login, running_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect

LINE = "第{page}页第{line}行：县水利局推进农田水利工程建设，落实工程项目资金管理制度。"
FAILURE_RED = "rgb(207, 34, 46)"
BLUE = "rgb(11, 92, 173)"
GREY = "rgb(101, 109, 118)"
GREEN = "rgb(26, 127, 55)"


@pytest.fixture(scope="module")
def queue_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("queue-web-home"), tag_on_ingest="false", ocr="false",
                        max_file_mb="5", job_workers="1") as running:
        yield running


def _color(row) -> str:
    return row.locator(".upload-status").evaluate("e => getComputedStyle(e).color")


def test_upload_rows_show_queued_running_done_and_cancel(queue_server, browser, make_pdf, tmp_path):
    server = queue_server
    token = server.add_user("排队用户", "第五巡察组")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "排队显示轮次"}).json()["id"]
    big = [make_pdf([LINE.format(page=p, line=n) + tag for p in range(1, 81) for n in range(1, 21)],
                    f"{tag}.pdf", lines_per_page=20) for tag in ("卷一", "卷二")]
    small = tmp_path / "举报信.txt"
    small.write_text("\n".join(PETITION_LINES + ["（排队显示测试）"]), encoding="utf-8")

    context = browser.new_context(base_url=server.base, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    problems = []
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        login(page, "排队用户")
        page.goto(f"/inspections/{inspection}")
        expect(page.locator("#documents")).to_contain_text("还没有材料")  # the page's script is ready
        page.set_input_files("#upload-files", [str(big[0]), str(big[1]), str(small)])
        page.click("#upload-start")
        rows = page.locator("#upload-list li.upload-item")
        first, second, third = rows.nth(0), rows.nth(1), rows.nth(2)

        # The small file goes past the large ones and is listed while the first large one still runs.
        expect(third).to_have_attribute("data-status", "added", timeout=120_000)
        expect(page.locator("#documents tbody tr")).to_have_count(1)
        expect(first).to_have_attribute("data-status", "running")
        expect(first.locator(".upload-status")).to_have_text("处理中")
        expect(second).to_have_attribute("data-status", "queued")
        expect(second.locator(".upload-status")).to_have_text("排队中")
        assert (_color(first), _color(second), _color(third)) == (BLUE, GREY, GREEN)
        assert FAILURE_RED not in (_color(first), _color(second))

        # Cancel: the queued file at once, the running one at its next page.
        second.locator(".upload-cancel").click()
        expect(second).to_have_attribute("data-status", "cancelled")
        first.locator(".upload-cancel").click()
        expect(first).to_have_attribute("data-status", "cancelled", timeout=15_000)
        expect(first.locator(".upload-status")).to_have_text("已取消")
        assert _color(first) == GREY
        expect(page.locator(".upload-summary")).to_contain_text("已导入 1 个，重复 0 个，失败 0 个，已取消 2 个")
        expect(page.locator("#documents tbody tr")).to_have_count(1)
        assert not problems, problems
    finally:
        context.close()
