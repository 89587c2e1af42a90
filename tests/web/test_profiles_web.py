"""The 画像 pages in a real headless Chromium, on the two rounds of 柳河镇 built by the 回头看 page test
(documents written for these tests): the list finds the unit, the unit profile shows both rounds,
the ledger's warning lights, the items found again and the leads; the 责任人 links to the person
profile; the 共性问题分析 charts are drawn and link their units here; another team sees nothing.
Screenshots go to ``tmp_path`` (and $XUNCHA_SCREENSHOTS)."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_recheck_web import PERSON, UNIT, server, shot, world  # noqa: E402,F401  (fixtures)
from web_fixtures import browser, login, new_page  # noqa: E402,F401  (fixtures)

from ledger_world import CAR, GIFTS, TENDER, WORDINGS  # noqa: E402  (on sys.path through test_recheck_web)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


def test_unit_and_person_profiles(server, world, new_page, tmp_path):
    page = new_page()
    login(page, "回头看页面员", next_path="/profiles")
    unit_row = page.locator("#units tr.unit-row", has_text=UNIT)
    expect(unit_row).to_have_count(1, timeout=60_000)
    expect(page.locator("#people tr.person-row", has_text=PERSON)).to_contain_text("整改责任人")
    shot(page, tmp_path, "profiles-list")
    unit_row.locator("a").click()
    page.wait_for_url(f"**/profiles/units/{quote(UNIT)}")

    expect(page.locator("#profile-rounds tbody tr")).to_have_count(2, timeout=60_000)
    expect(page.locator("#profile-meta")).to_contain_text("乡镇街道")
    tasks = page.locator("#profile-tasks tr.task-row")
    expect(tasks).to_have_count(3)
    expect(page.locator("#profile-tasks tr.task-row[data-warning=yellow]")).to_have_count(2)  # 4 days left
    closed = page.locator("#profile-tasks tr.task-row[data-status=closed]")
    expect(closed).to_contain_text(WORDINGS[CAR])
    expect(closed.locator(".task-state")).to_have_text("已销号")
    expect(page.locator("#profile-task-summary")).to_contain_text("黄灯 2")
    expect(page.locator("#profile-repeated")).to_contain_text(GIFTS)
    expect(page.locator("#profile-repeated")).to_contain_text(CAR)
    findings = page.locator("#profile-findings li.profile-finding")
    expect(findings).to_have_count(3 + 5)
    expect(page.locator(f"#profile-findings li.profile-finding[data-item='{TENDER}']").first).to_contain_text("举报信.docx")
    expect(page.locator("#profile-leads li.profile-lead").first).to_be_visible(timeout=300_000)
    shot(page, tmp_path, "profile-unit")

    page.locator("#profile-tasks a.profile-link", has_text=PERSON).click()
    page.wait_for_url(f"**/profiles/people/{quote(PERSON)}")
    expect(page.locator("#profile-documents tbody tr")).to_have_count(2, timeout=60_000)
    expect(page.locator("#profile-documents")).to_contain_text("被反映人")
    expect(page.locator("#profile-meta")).to_contain_text("农业服务中心主任")
    expect(page.locator("#profile-tasks tr.task-row")).to_have_count(1)
    expect(page.locator("#profile-findings li.profile-finding")).to_have_count(3)
    expect(page.locator("#profile-summary")).to_contain_text("整改责任人 1")
    expect(page.locator("#profile-leads li.profile-lead, #profile-leads .empty").first).to_be_visible(timeout=300_000)
    shot(page, tmp_path, "profile-person")
    page.locator("#profile-documents a", has_text="举报信.docx").click()  # and back from the petition's header
    expect(page.locator("dd[data-field=reported] a.profile-link")).to_have_text(PERSON, timeout=60_000)
    assert new_page.problems == [], new_page.problems


def test_analysis_charts_and_ledger_link_to_profiles(server, world, new_page, tmp_path):
    page = new_page()
    login(page, "回头看页面员", next_path="/analysis")
    expect(page.locator("#analysis-total")).to_have_text("8", timeout=60_000)
    painted = page.evaluate("""() => ["chart-focus", "chart-items", "chart-discipline", "chart-unit-type"].map((id) => {
        const canvas = document.getElementById(id);
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) n++;
        return window.Chart.getChart(canvas) ? n : 0;
    })""")
    assert all(n > 500 for n in painted), painted
    shot(page, tmp_path, "analysis")
    page.locator("#analysis-repeats a.profile-link", has_text=UNIT).click()
    page.wait_for_url(f"**/profiles/units/{quote(UNIT)}")
    expect(page.locator("#profile-rounds tbody tr")).to_have_count(2, timeout=60_000)

    page.goto(f"/inspections/{world['first']}/rectification")
    card = page.locator("li.task-card", has_text=WORDINGS[TENDER])
    expect(card.locator("a.profile-link", has_text=PERSON)).to_have_attribute("href", f"/profiles/people/{quote(PERSON)}")
    expect(page.locator("#ledger-meta a.profile-link")).to_have_text(UNIT)
    page.goto(f"/inspections/{world['first']}")
    expect(page.locator("#unit-profile-link")).to_have_attribute("href", f"/profiles/units/{quote(UNIT)}")
    assert new_page.problems == [], new_page.problems


def test_another_team_sees_no_profile(server, world, new_page):
    server.add_user("画像页面乙组员", "画像页面乙组")
    page = new_page()
    login(page, "画像页面乙组员", next_path=f"/profiles/units/{quote(UNIT)}")
    expect(page.locator("#profile-status .alert")).to_contain_text("没有找到该单位的画像", timeout=60_000)
    expect(page.locator("#profile-body")).to_be_hidden()
    page.goto(f"/profiles/people/{quote(PERSON)}")
    expect(page.locator("#profile-status .alert")).to_contain_text("没有找到该人员的画像", timeout=60_000)
    page.goto("/profiles")
    expect(page.locator("#units .empty")).to_contain_text("没有找到被巡察单位")
    expect(page.locator("#people .empty")).to_contain_text("没有找到人员")
    assert all("404" in p for p in new_page.problems), new_page.problems  # the refused reads, nothing else
