"""The report draft page in a real headless Chromium: only vouched-for problems are ticked, unticked
cards are compact, the filters (聚焦, item, review status, ticked) narrow the cards, and exporting
while a ticked wording still has a 【待补充：…】 marker asks first, listing it."""

from __future__ import annotations

import hashlib
import re

import pytest

from service import context
from service.storage import NewDocument, NewFinding
from web_fixtures import browser, login, new_page, running_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect
TEAM = "撰稿核对组"
FEAST, CAR, SLOGAN = "C2-07", "C2-21", "A1-01"


def _tags(item: str, score: float, form: str = "statement") -> dict:
    return {"is_finding": True, "finding_score": score, "labels": [item], "form": form,
            "checklist": [{"id": item, "title": "", "score": 0.8}], "focus": 2}


def _document(repository, inspection_id: int, filename: str, kind: str, rows: list[tuple[str, dict]]) -> list[int]:
    findings = [NewFinding(seq, text, 0, len(text), 0, len(text), 1, None, "statement", None, [], tags)
                for seq, (text, tags) in enumerate(rows)]
    text = "\n".join(row[0] for row in rows)
    document_id = repository.add_document(inspection_id, NewDocument(
        filename, hashlib.sha256(text.encode()).hexdigest(), len(text.encode()), "docx", kind, 0.9, {}, {}, 1, None,
        [], [], "originals/none", text, findings))
    return [f.id for f in repository.get_document(document_id).findings]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server; no tagging on ingest is needed: the findings are stored with the tagger's tags."""
    with running_server(tmp_path_factory.mktemp("report-web-home"), tag_on_ingest="false", ocr="false") as running:
        yield running


@pytest.fixture(scope="module")
def draft(server):
    token = server.add_user("核稿员", TEAM)
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "核稿轮次", "target_unit": "柳溪村"}).json()["id"]
    repository = context.repository(server.settings)
    _document(repository, inspection, "举报信.docx", "petition", [
        ("村党支部书记赵德顺经常在村部请客吃饭，花了两三万元招待费", _tags(FEAST, 0.95))])
    car, = _document(repository, inspection, "谈话记录.docx", "interview", [
        ("赵德顺把村里的车开回家自己用", _tags(CAR, 0.6))])
    _document(repository, inspection, "工作总结.docx", "other", [
        ("要进一步加强党风廉政建设", _tags(SLOGAN, 0.99, "exhortation"))])
    return {"token": token, "inspection": inspection, "car": car}


def test_report_page_ticks_filters_and_warns_before_exporting_markers(server, draft, new_page):
    page = new_page()
    login(page, "核稿员", next_path=f"/inspections/{draft['inspection']}/report")
    cards = page.locator("li.problem")
    expect(cards).to_have_count(3, timeout=60_000)
    ticked = page.locator("li.problem:not(.excluded)")
    expect(ticked).to_have_count(1)  # only the confident petition statement
    expect(ticked.locator("textarea.wording")).to_have_value("信访反映：村党支部书记赵德顺经常在村部请客吃饭，花了两三万元招待费。")
    # Unticked cards are compact: one line until opened.
    compact = page.locator(f".report-item[data-item-id='{CAR}'] li.problem")
    expect(compact.locator("textarea.wording")).to_be_hidden()
    expect(compact.locator(".problem-summary")).to_be_visible()
    compact.locator("button.toggle-card").click()
    expect(compact.locator("textarea.wording")).to_be_visible()

    # Filters narrow the cards: by focus, item, ticked and review status.
    page.select_option("select.filter-included", "no")
    expect(page.locator("li.problem:visible")).to_have_count(2)
    page.select_option("select.filter-included", "")
    page.select_option("select.filter-item", CAR)
    expect(page.locator("li.problem:visible")).to_have_count(1)
    expect(page.locator("#filter-count")).to_have_text("显示 1 / 3 个问题")
    page.select_option("select.filter-item", "")
    page.select_option("select.filter-focus", "1")
    expect(page.locator("li.problem:visible")).to_have_count(1)
    expect(page.locator(f".report-item[data-item-id='{SLOGAN}'] li.problem")).to_be_visible()
    page.select_option("select.filter-focus", "")
    page.select_option("select.filter-review", "reviewed")
    expect(page.locator("li.problem:visible")).to_have_count(0)
    with server.client(draft["token"]) as client:  # a reviewer confirms the car finding behind the page
        assert client.post(f"/api/findings/{draft['car']}/review", json={"action": "confirm"}).status_code == 201
    page.reload()
    expect(page.locator("li.problem")).to_have_count(3, timeout=60_000)
    page.select_option("select.filter-review", "reviewed")
    expect(page.locator("li.problem:visible")).to_have_count(1)
    expect(page.locator(f".report-item[data-item-id='{CAR}'] li.problem")).not_to_have_class(re.compile(r"\bexcluded\b"))
    page.select_option("select.filter-review", "")

    # A ticked wording with a marker: export asks first, listing it; declining downloads nothing.
    card = page.locator(f".report-item[data-item-id='{FEAST}'] li.problem")
    card.locator("textarea.wording").fill("村党支部书记赵德顺违规公款吃喝，涉及金额【待补充：金额】。")
    card.locator("button.save").click()
    expect(card.locator(".problem-message")).to_contain_text("表述已保存")
    messages = []

    def decline(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.click("#export-docx")
    page.wait_for_timeout(500)
    assert messages and "【待补充：金额】" in messages[0] and FEAST in messages[0]
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_download() as download:
        page.click("#export-docx")
    assert download.value.suggested_filename.endswith(".docx")
    with server.client(draft["token"]) as client:
        refused = client.get(f"/api/inspections/{draft['inspection']}/report.docx")
    assert refused.status_code == 409 and "【待补充：金额】" in refused.json()["detail"]
