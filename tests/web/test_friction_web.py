"""Everyday friction in a real headless Chromium against a real server: correcting a document's
kind, bulk rejecting in the review queue with counts that follow without a reload (rejected cards
greyed), the year column, an admin deleting a round with a confirm step, and /docs and /redoc
rendering with every request outside the server blocked."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from conftest import PETITION_LINES

from service import context
from web_fixtures import browser, login, new_page, running_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect

TEAM = "第四巡察组"
EXTRA = ["三是镇财政所长期把应收的租金存放在个人账户，2023年共计8.6万元。",
         "四是镇里的公务接待在天香楼酒店超标准安排宴请，发票开成会议费。"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server without tagging on ingest (these flows need no trained model)."""
    with running_server(tmp_path_factory.mktemp("friction-web"), max_file_mb="5", tag_on_ingest="false", ocr="false") as running:
        yield running


def _no_script_problems(problems: list[str]) -> None:
    bad = [p for p in problems if "Content Security Policy" in p or "Uncaught" in p or "Error:" in p]
    assert not bad, bad


@pytest.fixture(scope="module")
def seeded(server):
    token = server.add_user("冯审核", TEAM)
    lines = PETITION_LINES[:5] + EXTRA + PETITION_LINES[5:]
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "2024年第四轮巡察", "target_unit": "青石镇"}).json()["id"]
        job = client.post(f"/api/inspections/{inspection}/documents",
                          files=[("files", ("举报信.txt", "\n".join(lines).encode("utf-8"), "text/plain"))]).json()
        for _ in range(600):
            job = client.get(f"/api/jobs/{job['id']}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["files"][0]["status"] == "added", job
    return {"token": token, "inspection": inspection, "document": job["files"][0]["document_id"]}


def test_member_corrects_the_kind_and_bulk_rejects_with_live_counts(server, seeded, new_page):
    page = new_page()
    login(page, "冯审核", next_path=f"/inspections/{seeded['inspection']}")
    row = page.locator(f"#documents tr[data-document-id='{seeded['document']}']")
    expect(row.locator("td[data-year]")).to_have_text("2024")  # the petition's own date, not the import year

    # Correct the kind on the document page: the fields are extracted again for the new kind.
    page.goto(f"/documents/{seeded['document']}")
    expect(page.locator("dd[data-field=complainant]")).to_have_text("田富贵")
    page.select_option("#kind-select", "interview")
    page.click("#kind-save")
    expect(page.locator("#kind-status")).to_contain_text("已更正为个别谈话记录")
    expect(page.locator("#document-meta")).to_contain_text("个别谈话记录（人工指定）")
    expect(page.locator("dd[data-field=complainant]")).to_have_count(0)
    with server.client(seeded["token"]) as client:
        detail = client.get(f"/api/documents/{seeded['document']}").json()
    assert detail["kind"] == "interview" and detail["kind_overridden"] is True
    total = len(detail["findings"])
    assert total >= 4

    # The review queue: everything is unreviewed; reject all of them at once.
    page.goto(f"/inspections/{seeded['inspection']}/review")
    cards = page.locator("#review-list li.review-card")
    expect(cards).to_have_count(total)
    expect(page.locator("[data-count=unreviewed] strong")).to_have_text(str(total))
    expect(page.locator("[data-count=reject] strong")).to_have_text("0")
    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text(f"已选 {total} 条")
    page.click("#bulk-reject")
    expect(page.locator("#bulk-status")).to_contain_text(f"已驳回 {total} 条")
    # the counts follow without a reload; the cards stay, greyed
    expect(page.locator("[data-count=reject] strong")).to_have_text(str(total))
    expect(page.locator("[data-count=unreviewed] strong")).to_have_text("0")
    expect(page.locator("#review-list li.review-card[data-review=reject]")).to_have_count(total)
    assert float(cards.first.evaluate("c => getComputedStyle(c).opacity")) < 0.8

    with server.client(seeded["token"]) as client:
        counts = client.get(f"/api/inspections/{seeded['inspection']}/review-counts").json()
    assert counts["reject"] == total and counts["unreviewed"] == 0

    # Filters: rejected only shows them all; unreviewed shows none.
    page.select_option("#filter-status", "reject")
    page.click("#filter-apply")
    expect(page.locator("#match-count")).to_have_text(f"符合条件 {total} 条")
    page.select_option("#filter-status", "unreviewed")
    page.click("#filter-apply")
    expect(page.locator("#review-list")).to_contain_text("没有符合条件的候选问题")

    # The document page shows the same state: rejected cards greyed, counts by review status.
    page.goto(f"/documents/{seeded['document']}")
    expect(page.locator("#findings li.finding-card").first).to_be_visible()
    if not page.is_checked("#show-all"):
        page.check("#show-all")
    expect(page.locator("#findings li.finding-card[data-review=reject]")).to_have_count(total)
    expect(page.locator("#review-counts [data-count=reject] strong")).to_have_text(str(total))
    _no_script_problems(new_page.problems)


def test_admin_deletes_a_round_after_confirming(server, new_page):
    token = server.add_user("褚管理", "巡察办", "admin")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "待删除的轮次", "team": TEAM}).json()["id"]
        job = client.post(f"/api/inspections/{inspection}/documents",
                          files=[("files", ("举报.txt", "\n".join(PETITION_LINES).encode("utf-8"), "text/plain"))]).json()
        for _ in range(600):
            if client.get(f"/api/jobs/{job['id']}").json()["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
    member = new_page()
    login(member, "冯审核", next_path=f"/inspections/{inspection}")
    expect(member.locator("#inspection-title")).to_have_text("待删除的轮次")
    expect(member.locator("#delete-round")).to_have_count(0)  # members cannot delete a round

    page = new_page()
    login(page, "褚管理", next_path=f"/inspections/{inspection}")
    expect(page.locator("#documents tbody tr")).to_have_count(1)
    page.click("#delete-round")
    expect(page.locator("#delete-box")).to_contain_text("确定删除“待删除的轮次”及其全部材料？")
    page.click("#delete-box button:text('取消')")
    expect(page.locator("#delete-round")).to_be_visible()
    with server.client(token) as client:
        assert client.get(f"/api/inspections/{inspection}").status_code == 200
    page.click("#delete-round")
    page.click("#delete-round-confirm")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("#inspections .alert-success")).to_contain_text("已删除巡察轮次“待删除的轮次”")
    expect(page.locator(f"#inspections tr[data-inspection-id='{inspection}']")).to_have_count(0)
    with server.client(token) as client:
        assert client.get(f"/api/inspections/{inspection}").status_code == 404
    _no_script_problems(new_page.problems)


def test_api_docs_render_offline(server, browser):  # noqa: F811
    context_ = browser.new_context(base_url=server.base, locale="zh-CN")
    outside, problems = [], []
    local = urlsplit(server.base).netloc

    def only_local(route):
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context_.route("**/*", only_local)
    try:
        page = context_.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto("/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("xuncha", timeout=60_000)
        expect(page.locator(".opblock-summary-path").filter(has_text=re.compile(r"^/api/findings/review$"))
               ).to_have_count(1, timeout=60_000)
        assert page.locator(".opblock").count() > 20
        expect(page.locator(".opblock-tag").filter(has_text="巡察轮次").first).to_be_visible()

        page.goto("/redoc")
        expect(page.locator("h1").first).to_contain_text("xuncha", timeout=60_000)
        expect(page.get_by_text("批量审核候选问题（确认或驳回）").first).to_be_attached(timeout=60_000)
    finally:
        context_.close()
    assert not outside, outside
    # ReDoc always adds its vendor's logo from a CDN; the policy blocks it (no request leaves) and the
    # image hides itself. Anything else refused by the policy is a failure.
    bad = [p for p in problems if ("Content Security Policy" in p or "Refused" in p) and "logo-mini.svg" not in p]
    assert not bad, bad


def test_search_page_leaves_demo_material_out_unless_ticked(server, new_page):
    server.add_user("卫检索", "巡察办", "analyst")
    repository = context.repository(server.settings)
    demo = repository.ensure_inspection("示例巡察（2024年第二轮）", "示例巡察组", "清河县", demo=True)
    text = "举报信\n我举报示例村会计孙某某把扶贫羊款挪去炒股，数额八万余元。\n举报人：匿名\n2024年2月2日\n"
    added = context.ingestor(server.settings, tag=False).ingest_bytes(text.encode("utf-8"), "示例举报.txt", demo.id)
    assert added.status == "added"
    page = new_page()
    login(page, "卫检索", next_path="/search")
    page.fill("#q", "扶贫羊款挪去炒股")
    page.select_option("#collection", "findings")
    with page.expect_response(lambda r: "/api/search" in r.url, timeout=120_000) as answer:
        page.click("#search-form button[type=submit]")
    assert "include_demo" not in answer.value.url and answer.value.ok
    expect(page.locator("#results .loading")).to_have_count(0, timeout=60_000)
    expect(page.locator("#results > *").first).to_be_visible()
    expect(page.locator(f"#results a[href^='/documents/{added.document_id}#']")).to_have_count(0)
    page.check("#include-demo")
    page.click("#search-form button[type=submit]")
    expect(page.locator(f"#results a[href^='/documents/{added.document_id}#']").first).to_be_visible(timeout=60_000)
    assert "include_demo=true" in page.url
    _no_script_problems(new_page.problems)
