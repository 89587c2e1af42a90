"""The 共性问题分析 page in a real headless Chromium: the bundled Chart.js draws the four bar charts
(under the app's Content-Security-Policy, no console errors) and the recurring items table lists them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from service import context

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "web"))
from test_report_trust import server  # noqa: E402,F401  (a server without tagging on ingest)
from test_report_trust import _document as stored_document  # noqa: E402  (findings stored with their tags)
from web_fixtures import browser, login, new_page  # noqa: E402,F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect
TEAM = "分析页面组"
GIFT, CAR = "C2-01", "C2-21"


def _tags(item: str) -> dict:
    return {"is_finding": True, "finding_score": 0.9, "labels": [item],
            "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2}


@pytest.fixture(scope="module")
def rounds(server):
    token = server.add_user("分析页面员", TEAM)
    repository = context.repository(server.settings)
    ids = []
    with server.client(token) as client:
        for name, unit in [("页面测试水利局一轮", "县水利局"), ("页面测试水利局二轮", "县水利局"), ("页面测试柳溪村", "柳溪村")]:
            ids.append(client.post("/api/inspections", json={"name": name, "target_unit": unit}).json()["id"])
    for inspection, rows in zip(ids, [[("副局长过节收了供应商的购物卡", GIFT), ("局长开公车回老家", CAR)],
                                      [("办公室主任收了施工方送的购物卡", GIFT)], [("村支书把村里的车开回家自己用", CAR)]]):
        stored_document(repository, inspection, "举报信.docx", "petition", [(text, _tags(item)) for text, item in rows])
    return ids


def test_page_draws_the_charts_and_lists_recurring_items(server, rounds, new_page):
    page = new_page()
    login(page, "分析页面员", next_path="/analysis")
    expect(page.locator("#analysis-total")).to_have_text("4", timeout=60_000)
    charts = page.evaluate("""() => ["chart-focus", "chart-items", "chart-discipline", "chart-unit-type"].map((id) => {
        const chart = window.Chart.getChart(document.getElementById(id));
        const canvas = document.getElementById(id);
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
        return chart ? {labels: chart.data.labels, data: chart.data.datasets[0].data, painted} : null;
    })""")
    focus, items, discipline, unit_type = charts
    assert focus["labels"] == ["聚焦二"] and focus["data"] == [4]
    assert items["labels"] == [f"{GIFT} 收受管理服务对象礼金、购物卡", f"{CAR} 公车私用"] and items["data"] == [2, 2]
    assert discipline["labels"] == ["廉洁纪律"] and discipline["data"] == [4]
    assert unit_type["labels"] == ["机关部门", "村社区"] and unit_type["data"] == [3, 1]
    assert all(chart["painted"] > 500 for chart in charts)  # bars, axes and labels were drawn
    recurring = page.locator("#analysis-recurring tbody tr")
    expect(recurring).to_have_count(2)
    expect(recurring.first).to_contain_text(CAR)  # two rounds in two units before two rounds of one unit
    expect(recurring.nth(1)).to_contain_text(GIFT)
    expect(page.locator("#analysis-repeats tbody tr")).to_have_count(1)
    expect(page.locator("#analysis-repeats")).to_contain_text("县水利局")

    # One round only: the charts are redrawn for its findings; the export link follows the filter.
    page.select_option("#analysis-inspection", str(rounds[2]))
    page.click("#analysis-filters button[type=submit]")
    expect(page.locator("#analysis-total")).to_have_text("1")
    assert page.evaluate("() => window.Chart.getChart(document.getElementById('chart-unit-type')).data.labels") == ["村社区"]
    assert page.get_attribute("#analysis-export", "href") == f"/api/analysis/export.xlsx?inspection_id={rounds[2]}"
    expect(page.locator("#analysis-recurring")).to_contain_text("没有在两个及以上轮次或单位发现的问题")
    assert new_page.problems == []  # no console error, no Content-Security-Policy violation from Chart.js
