"""The 整改台账 page in a real headless Chromium: a writer finalises the report from the page, sees
the warning lights on an injected clock, edits a task, uploads evidence and asks for 销号; the
approver (巡察办 admin) approves it on the same page. Screenshots go to $XUNCHA_SCREENSHOTS if set."""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "web"))
from web_fixtures import browser, login, new_page, running_server  # noqa: E402,F401  (fixtures)
from ledger_world import CAR, EVIDENCE, WORDINGS, build_round, write_docx  # noqa: E402

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect
TODAY = date(2025, 4, 1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server; findings get their items from a reviewer, so no tagging on ingest is needed."""
    with running_server(tmp_path_factory.mktemp("ledger-web-home"), tag_on_ingest="false", ocr="false") as running:
        now = {"today": TODAY}
        running.app.state.rectification_clock = lambda: now["today"]
        running.clock = now
        yield running


def _wait(client, job_id: str) -> dict:
    for _ in range(900):
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def _shot(page, name: str) -> None:
    folder = os.environ.get("XUNCHA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_ledger_page_finalise_warnings_evidence_and_closure(server, new_page, tmp_path):
    token = server.add_user("台账撰稿员", "台账测试组")
    server.add_user("台账审批人", "巡察办", role="admin")
    with server.client(token) as client:
        built = build_round(client, _wait, tmp_path, "柳河镇台账轮次")
    inspection = built["inspection"]
    path = f"/inspections/{inspection}/rectification"

    page = new_page()
    login(page, "台账撰稿员", next_path=path)
    expect(page.locator("#ledger .empty")).to_contain_text("尚未反馈定稿")
    page.click("#finalise")
    cards = page.locator("li.task-card")
    expect(cards).to_have_count(3, timeout=60_000)
    expect(page.locator("#ledger-status")).to_contain_text("整改任务 3 项")
    expect(page.locator("#finalise")).to_have_text("重新定稿（补充新问题）")

    # Warning lights on the injected clock: five days before the deadline every task is yellow.
    server.clock["today"] = TODAY + timedelta(days=60 - 5)
    page.reload()
    expect(cards).to_have_count(3, timeout=60_000)
    expect(page.locator("li.task-card[data-warning=yellow]")).to_have_count(3)
    expect(page.locator(".task-warning").first).to_have_text("黄灯")
    expect(page.locator(".task-days").first).to_have_text("剩余 5 天")
    _shot(page, "ledger-yellow")

    card = page.locator("li.task-card", has_text=WORDINGS[CAR])
    card.locator("input.task-person").fill("张某（镇党委书记）")
    card.locator("input.task-deadline").fill("2025-07-31")
    card.locator("button.save-task").click()
    card = page.locator("li.task-card", has_text=WORDINGS[CAR])
    expect(card.locator(".task-message")).to_contain_text("已保存")
    expect(card).to_have_attribute("data-warning", "none")  # the new deadline is far off

    expect(card.locator("button.submit-task")).to_be_disabled()  # no evidence yet
    card.locator("input.evidence-files").set_input_files(str(write_docx(EVIDENCE, tmp_path / "公车整改说明.docx")))
    card.locator("button.upload-evidence").click()
    card = page.locator("li.task-card", has_text=WORDINGS[CAR])
    expect(card.locator(".task-evidence a")).to_have_text("公车整改说明.docx", timeout=60_000)
    expect(card.locator(".task-state")).to_have_text("整改中")
    card.locator("button.submit-task").click()
    card = page.locator("li.task-card", has_text=WORDINGS[CAR])
    expect(card.locator(".task-state")).to_have_text("待销号")
    card.locator("button.approve-task").click()  # a team member may not approve
    expect(card.locator(".task-message")).to_contain_text("当前角色不能审批销号")
    _shot(page, "ledger-pending")

    approver = new_page()
    login(approver, "台账审批人", next_path=path)
    card = approver.locator("li.task-card", has_text=WORDINGS[CAR])
    expect(card.locator(".task-state")).to_have_text("待销号", timeout=60_000)
    card.locator("button.approve-task").click()
    card = approver.locator("li.task-card", has_text=WORDINGS[CAR])
    expect(card.locator(".task-state")).to_have_text("已销号")
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".task-message")).to_contain_text("已销号")
    expect(approver.locator("#ledger-summary")).to_contain_text("已销号 1")
    _shot(approver, "ledger-closed")
    evidence_link = card.locator(".task-evidence a")
    evidence_link.click()
    approver.wait_for_url(lambda url: "/documents/" in url)
    expect(approver.locator("body")).to_contain_text("整改佐证材料", timeout=30_000)
    # The only console error is the refused approval by the team member (403).
    assert [p for p in new_page.problems if "403" not in p] == [] and len(new_page.problems) == 1, new_page.problems
