"""The 回头看 page in a real headless Chromium. 柳河镇 is inspected twice by one team: round 1 is the
rectification tests' round (documents written for those tests, report finalised, the car task 销号'd
with evidence by an approver, 冯某某 made 责任人 of the tender task); round 2 brings a petition and an
interview note written for this test (findings tagged in SQLite: tagging on ingest is off). The
page is opened from the round page and shows each finding's class, matched earlier problem and
reason, and the earlier problems never 销号. Screenshots go to ``tmp_path`` (and $XUNCHA_SCREENSHOTS)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service" / "rectification"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service" / "profiles"))
from ledger_world import CAR, GIFTS, TENDER, WORDINGS, write_docx  # noqa: E402
from profile_world import PERSON, PETITION_2, TODAY, UNIT, first_round, tag_lines, upload  # noqa: E402,F401
from test_rectification_web import _wait, server  # noqa: E402,F401  (a server with an injectable ledger clock)
from web_fixtures import browser, login, new_page  # noqa: E402,F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect
TEAM = "回头看页面组"
INTERVIEW_2 = ["个别谈话记录", "谈话对象：韩某某（柳河镇党政办主任）", "时间：2026年4月8日", "谈话人：钱某、孙某",
               "韩某某：今年中秋节前镇里又拿办公经费买了月饼，分给各村的村干部过节。",
               "韩某某：国庆假期分管副镇长又把镇政府那辆越野车开回老家去了。",
               "韩某某：镇机关第二党支部去年下半年一次支部党员大会都没开，党课也没有上过。"]
SECOND = {"化肥": TENDER, "皮卡车": CAR, "月饼": GIFTS, "越野车": CAR, "党课": "B1-05"}


@pytest.fixture(scope="module")
def world(server, tmp_path_factory):
    """Two rounds of 柳河镇 (see the module docstring); returns tokens and ids."""
    server.clock["today"] = TODAY
    tokens = {"writer": server.add_user("回头看页面员", TEAM), "admin": server.add_user("回头看页面审批人", "巡察办", role="admin")}
    files = tmp_path_factory.mktemp("recheck-web-files")
    with server.client(tokens["writer"]) as writer:
        writer.timeout = 600
        first, tasks = first_round(writer, _wait, files)
        second = writer.post("/api/inspections", json={"name": "柳河镇2026年第一轮", "target_unit": UNIT}).json()["id"]
        findings = upload(writer, _wait, second, write_docx(PETITION_2, files / "再次举报.docx"))
        findings += upload(writer, _wait, second, write_docx(INTERVIEW_2, files / "韩某某谈话记录.docx"))
    with server.client(tokens["admin"]) as admin:
        assert admin.post(f"/api/rectification-tasks/{tasks[CAR]}/approve").json()["status"] == "closed"
    ids = tag_lines(server.home / "xuncha.db", findings, SECOND)
    return {"tokens": tokens, "first": first["inspection"], "second": second, "tasks": tasks, "findings": ids}


def shot(page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in ``tmp_path`` (copied to $XUNCHA_SCREENSHOTS when set, to look at)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    folder = os.environ.get("XUNCHA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)
    assert path.stat().st_size > 10_000
    return path


def test_recheck_page_shows_classes_matches_reasons_and_unclosed(server, world, new_page, tmp_path):
    page = new_page()
    login(page, "回头看页面员", next_path=f"/inspections/{world['second']}")
    page.click("#recheck-link")
    page.wait_for_url(f"**/inspections/{world['second']}/recheck")
    cards = page.locator("li.recheck-card")
    expect(cards).to_have_count(5, timeout=120_000)
    expect(page.locator("#recheck-title")).to_have_text("柳河镇2026年第一轮 回头看")
    expect(page.locator("#recheck-meta")).to_contain_text("柳河镇2025年第一轮")

    def card(words: str):
        return page.locator(f"li.recheck-card[data-finding-id='{world['findings'][words]}']")

    # The gifts task was never 销号: 整改不到位, matched to it with its status; the car task was: 反弹回潮.
    expect(card("月饼")).to_have_attribute("data-class", "整改不到位")
    expect(card("月饼").locator(".recheck-earlier")).to_contain_text(WORDINGS[GIFTS])
    expect(card("月饼").locator(".recheck-earlier")).to_contain_text("未启动")
    expect(card("月饼").locator(".recheck-reason")).to_contain_text("清单条目相同")
    expect(card("越野车")).to_have_attribute("data-class", "反弹回潮")
    expect(card("越野车").locator(".recheck-earlier")).to_contain_text("已销号")
    expect(card("党课")).to_have_attribute("data-class", "新问题")
    expect(card("党课").locator(".recheck-earlier")).to_have_count(0)
    expect(card("党课").locator(".recheck-reason")).to_contain_text("上轮巡察反馈的问题中没有同一问题")
    expect(page.locator("#recheck-count-unclosed")).to_have_text("2")
    unclosed = page.locator("#recheck-unclosed tr.unclosed-row")
    expect(unclosed).to_have_count(2)
    expect(page.locator("#recheck-unclosed")).not_to_contain_text(WORDINGS[CAR])
    shot(page, tmp_path, "recheck")

    page.select_option("#recheck-class", "反弹回潮")
    expect(cards.first).to_have_attribute("data-class", "反弹回潮")
    assert set(cards.evaluate_all("(cards) => cards.map((c) => c.dataset.class)")) == {"反弹回潮"}
    # The unit links to its profile.
    page.locator("#recheck-meta a.profile-link").click()
    page.wait_for_url(lambda url: "/profiles/units/" in url)
    expect(page.locator("#profile-title")).to_have_text(UNIT)
    assert new_page.problems == [], new_page.problems
