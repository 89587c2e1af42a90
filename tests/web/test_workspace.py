"""The web workspace end to end in a real headless Chromium against a real server (tagging on).

One flow as an inspection team member would work: log in through the form, create an inspection
round, upload a DOCX and a PDF with per-file progress, read a document with its highlighted
findings and tag chips, confirm a finding, search, edit the report draft and export it to Word.
Plus: another team's member gets the Chinese “not found” message and no data, pages redirect to the
login when logged out, and untrusted document text is never interpreted as HTML.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import docx
import openpyxl
import pytest

from service import context
from web_fixtures import browser, login, new_page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect

TEAM = "第三巡察组"
MINUTES = [
    "青石镇党委会议纪要",
    "会议时间：2024年1月15日上午9:00",
    "会议地点：镇政府三楼会议室",
    "主持人：陈立国（镇党委书记）",
    "出席：钱永军、孙丽华、周建民、吴海涛",
    "记录人：孙丽华",
    "议题：研究年终工作考核和春节慰问事项",
    "陈立国：春节前给全体机关干部每人发放年终补助5000元，从招商引资工作经费里列支，不用上报县里。",
    "钱永军：上周接待县交通局检查组，在天香楼酒店安排了宴请，花了1.2万元，还上了两瓶茅台，发票开成会议费报销。",
    "周建民：同意书记意见，慰问品就从镇里的超市统一采购购物卡，每张1000元，发给各村支书。",
    "会议决定：",
    "1. 向机关干部发放年终补助，每人5000元，共计23万元；",
    "2. 接待费用按会议费报销。",
]
PETITION = [
    "举报信",
    "县委巡察组：",
    "我实名举报青石镇副镇长钱永军的问题：",
    "一是钱永军经常用公款在天香楼酒店大吃大喝，全年接待费超过30万元；",
    "二是钱永军违规给镇干部发放加班补贴，每人每月800元；",
    "三是钱永军长期把公车开回家私用，周末接送孩子。",
    "举报人：田富贵",
    "2024年3月5日",
]
EDITED = "经查，青石镇党委违规向机关干部发放年终补助共计23万元（巡察组修改稿）。"
UPLOAD_TIMEOUT = 180_000


def _path(url: str) -> str:
    return urlsplit(url).path


def _no_script_problems(problems: list[str]) -> None:
    """No uncaught script error and no Content-Security-Policy violation on the pages."""
    bad = [p for p in problems if "Content Security Policy" in p or "Uncaught" in p or "Error:" in p]
    assert not bad, bad


@pytest.fixture(scope="module")
def seeded(server, tmp_path_factory):
    """A first-team inspection with one document uploaded through the API (for the scope tests)."""
    token = server.add_user("赵刚", TEAM)
    path = tmp_path_factory.mktemp("seed") / "举报材料.txt"
    path.write_text("关于青石镇财政所的举报\n"
                    "反映人：匿名\n"
                    "一是财政所所长<b>孙某某</b>违规给自己发放加班补贴6000元<img src=x onerror=\"window.__xss=1\">；\n"
                    "二是逢年过节收受辖区企业老板送的购物卡<script>window.__xss=2</script>。\n", encoding="utf-8")
    with server.client(token) as client:
        inspection = client.post("/api/inspections", json={"name": "种子轮次", "target_unit": "青石镇"}).json()["id"]
        job = client.post(f"/api/inspections/{inspection}/documents",
                          files=[("files", (path.name, path.read_bytes(), "text/plain"))]).json()
        for _ in range(900):
            job = client.get(f"/api/jobs/{job['id']}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["files"][0]["status"] == "added", job
        return {"token": token, "inspection": inspection, "document": job["files"][0]["document_id"]}


def test_member_works_through_the_workspace(server, new_page, make_docx, make_pdf):
    token = server.add_user("王敏", TEAM)
    minutes = make_docx(MINUTES, "党委会议纪要.docx")
    petition = make_pdf(PETITION, "举报信.pdf", lines_per_page=10)
    page = new_page()

    # Log in through the form; the header shows who is logged in.
    login(page, "王敏")
    expect(page.locator(".who-name")).to_have_text("王敏")
    expect(page.locator(".who-team")).to_contain_text("巡察组成员")

    # Create an inspection round.
    page.fill("#inspection-name", "2024年第二轮巡察")
    page.fill("#inspection-unit", "青石镇")
    page.click("#create-form button[type=submit]")
    page.wait_for_url(re.compile(r"/inspections/\d+$"))
    inspection_id = int(_path(page.url).rsplit("/", 1)[1])
    expect(page.locator("#inspection-title")).to_have_text("2024年第二轮巡察")

    # Upload both files: per-file progress, then the import result of each.
    page.set_input_files("#upload-files", [str(minutes), str(petition)])
    expect(page.locator("#upload-selected")).to_contain_text("已选择 2 个文件")
    page.click("#upload-start")
    rows = page.locator("#upload-list li.upload-item")
    expect(rows).to_have_count(2)
    expect(page.locator("#upload-list li.upload-item[data-status=added]")).to_have_count(2, timeout=UPLOAD_TIMEOUT)
    for row in rows.all():
        expect(row.locator(".upload-status")).to_contain_text("已导入")
        expect(row.locator(".upload-status")).to_contain_text(re.compile(r"\d+ 条候选问题，其中疑似问题 \d+ 条"))
        assert row.locator("progress").evaluate("p => p.value") == 100
    expect(page.locator(".upload-summary")).to_contain_text("已导入 2 个，重复 0 个，失败 0 个")
    expect(page.locator("#documents tbody tr")).to_have_count(2)
    expect(page.locator("#documents")).to_contain_text("信访举报件")
    expect(page.locator("#documents thead")).to_contain_text("疑似问题")
    expect(page.locator("#documents tbody td.flagged-count")).to_have_count(2)
    for cell in page.locator("#documents tbody td.flagged-count").all():  # tagged on import: a count, not —
        expect(cell).to_have_text(re.compile(r"^\d+$"))

    # Uploading the same file again is reported per file as a duplicate.
    page.set_input_files("#upload-files", [str(minutes)])
    page.click("#upload-start")
    expect(page.locator("#upload-list li.upload-item[data-status=duplicate]")).to_have_count(1,
                                                                                           timeout=UPLOAD_TIMEOUT)
    expect(page.locator("#documents tbody tr")).to_have_count(2)

    # The minutes: header fields, the text with highlighted findings, tag chips, evidence.
    page.click("#documents a:text('党委会议纪要.docx')")
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    document_id = int(_path(page.url).rsplit("/", 1)[1])
    expect(page.locator("#document-title")).to_have_text("党委会议纪要.docx")
    expect(page.locator("dd[data-field=chair]")).to_have_text("陈立国")
    expect(page.locator("dd[data-field=date]")).to_have_text("2024-01-15")
    marks = page.locator("#doc-text mark.finding.is-finding")
    expect(marks.first).to_be_visible()
    assert marks.count() >= 2
    assert any("年终补助" in text for text in marks.all_inner_texts())
    card = page.locator("#findings li.finding-card.is-finding").filter(has_text="年终补助5000元").first
    expect(card.locator("a.chip.chip-label").first).to_be_visible()
    expect(card.locator("a.chip.chip-label").first).to_contain_text(re.compile(r"[ABC]\d-\d{2}"))
    card.locator("details.evidence summary").click()
    expect(card.locator("mark.evidence-word").first).to_be_visible()

    # Confirm it; the result is shown and the feedback is stored for this user.
    finding_id = int(card.get_attribute("data-finding-id"))
    card.locator("button[data-action=confirm]").click()
    expect(card.locator(".review-result")).to_contain_text("已确认")
    stored = [f for f in context.repository(server.settings).list_feedback() if f.finding_id == finding_id]
    assert [(f.action, f.reviewer) for f in stored] == [("confirm", "王敏")]
    with server.client(token) as client:
        findings = client.get(f"/api/documents/{document_id}/findings").json()
        labels = next(f for f in findings if f["id"] == finding_id)["tags"]["labels"]
    assert stored[0].items == labels

    # Correct another finding through the item picker (search the checklist, choose an item).
    other = page.locator("#findings li.finding-card.is-finding").filter(has_text="宴请").first
    other.locator("button[data-action=correct]").click()
    other.locator(".picker-input").fill("公务接待")
    other.locator(".picker-option").first.click()
    chosen = other.locator(".picker-option").first.get_attribute("data-item-id")
    other.locator(".picker button:text('提交更正')").click()
    expect(other.locator(".review-result")).to_contain_text("已更正")
    expect(other.locator(".review-result")).to_contain_text(chosen)

    # A tag chip opens the checklist item: its basis and standard wordings.
    item_id = card.locator("a.chip.chip-label").first.get_attribute("data-item-id")
    card.locator("a.chip.chip-label").first.click()
    page.wait_for_url(re.compile(r"/checklist\?item="))
    expect(page.locator("#detail .chip-id")).to_have_text(item_id)
    expect(page.locator("#detail")).to_contain_text("依据")
    expect(page.locator("#detail")).to_contain_text("问题表述")
    expect(page.locator(f"#items button.active[data-item-id='{item_id}']")).to_be_visible()

    # Leads of the whole round, grouped by grade, each with its source material.
    page.goto(f"/inspections/{inspection_id}/leads")
    lead = page.locator("#leads article.lead").first
    expect(lead).to_be_visible(timeout=60_000)
    grades = page.locator("#leads section.grade-group").evaluate_all("s => s.map(x => x.dataset.grade)")
    assert grades and set(grades) <= {"进一步了解关注类", "了解关注类", "参考类"}
    expect(lead.locator(".sources a").first).to_have_attribute("href", re.compile(r"/documents/\d+#finding-\d+"))

    # Search: a highlighted hit that links back to its document.
    page.click("nav.mainnav a:text('检索')")
    page.wait_for_url(re.compile(r"/search$"))
    page.fill("#q", "公款大吃大喝")
    page.select_option("#collection", "findings")
    page.select_option("#inspection_id", str(inspection_id))
    page.click("#search-form button[type=submit]")
    hit = page.locator("li.hit[data-collection=findings]").filter(has_text="大吃大喝").first
    expect(hit).to_be_visible()
    expect(hit.locator("mark").first).to_be_visible()
    assert {m.strip() for m in hit.locator("mark").all_inner_texts()} & {"公款", "大吃大喝", "吃喝"}
    assert re.fullmatch(r"/documents/\d+#finding-\d+", hit.locator("a:text('查看原文')").get_attribute("href"))
    assert "q=" in page.url  # the search can be bookmarked

    # Report draft: edit a wording, save it, export to Word and find the edit in the file.
    page.goto(f"/inspections/{inspection_id}/report")
    problem = page.locator("li.problem:not(.excluded)").first  # unticked cards are compact
    expect(problem).to_be_visible(timeout=60_000)
    textarea = problem.locator("textarea.wording")
    alternatives = problem.locator("details.alternatives")
    if alternatives.count():  # picking an alternative wording fills the editor
        alternatives.locator("summary").click()
        choice = alternatives.locator("li").first
        choice.locator("button.use-alternative").click()
        assert textarea.input_value() == choice.locator(".alt-text").inner_text()
    textarea.fill(EDITED)
    problem.locator("button.save").click()
    expect(problem.locator(".problem-message")).to_contain_text("表述已保存")
    with server.client(token) as client:
        report = client.get(f"/api/inspections/{inspection_id}/report").json()
    problem_id = int(problem.get_attribute("data-problem-id"))
    saved = [p for g in report["groups"] for i in g["items"] for p in i["problems"] if p["id"] == problem_id]
    assert saved and saved[0]["wording"] == EDITED and saved[0]["edited"]
    reviews = {e["finding_id"]: e["review"] for g in report["groups"] for i in g["items"] for p in i["problems"]
               for e in p["evidence"]}
    assert reviews.get(finding_id) == "confirmed"  # the confirmation made in the browser, seen through the API
    with page.expect_download() as download:
        page.click("#export-docx")
    assert download.value.suggested_filename.endswith(".docx")
    exported = docx.Document(download.value.path())
    text = "\n".join([p.text for p in exported.paragraphs]
                     + [cell.text for table in exported.tables for row in table.rows for cell in row.cells])
    assert EDITED in text
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as workbook:
        sheets = openpyxl.load_workbook(workbook, read_only=True)
        cells = [str(c) for ws in sheets.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert any(EDITED in c for c in cells)

    _no_script_problems(new_page.problems)


def test_other_team_sees_not_found_and_no_data(server, seeded, new_page):
    server.add_user("李四", "第一巡察组")
    page = new_page()
    login(page, "李四")
    page.goto(f"/documents/{seeded['document']}")
    expect(page.locator("#page-error")).to_contain_text("没有找到该文档")
    expect(page.locator("#page-body")).to_be_hidden()
    body = page.locator("body").inner_text()
    assert "举报材料" not in body and "孙某某" not in body and "财政所" not in body
    assert page.locator("#doc-text *, #findings *, #fields *").count() == 0

    page.goto(f"/inspections/{seeded['inspection']}")
    expect(page.locator("#page-error")).to_contain_text("没有找到")
    assert "种子轮次" not in page.locator("body").inner_text()
    page.goto(f"/documents/{seeded['document']}/leads")
    expect(page.locator("#leads")).to_contain_text("没有找到该文档")


def test_analyst_reads_every_team_without_write_controls(server, seeded, new_page):
    server.add_user("周分析", "巡察办", role="analyst")
    page = new_page()
    login(page, "周分析", next_path=f"/inspections/{seeded['inspection']}")
    expect(page.locator(".who-team")).to_contain_text("巡察办分析人员")
    expect(page.locator("#documents tbody tr")).to_have_count(1)
    assert page.locator("#upload-card").count() == 0
    assert page.locator("#documents button:text('删除')").count() == 0
    page.click("#documents a:text('举报材料.txt')")
    expect(page.locator("#findings li.finding-card").first).to_be_visible()
    assert page.locator("#findings button[data-action]").count() == 0
    page.goto("/")
    assert page.locator("#create-form").count() == 0


def test_document_text_is_never_html(server, seeded, new_page):
    page = new_page()
    login(page, "赵刚", next_path=f"/documents/{seeded['document']}")
    expect(page.locator("#doc-text")).to_contain_text("<img src=x onerror=")
    expect(page.locator("#doc-text")).to_contain_text("<script>window.__xss=2</script>")
    assert page.locator("#doc-text img, #doc-text script, #doc-text b, #findings img, #findings b").count() == 0
    assert page.evaluate("window.__xss") is None
    _no_script_problems(new_page.problems)


def test_logged_out_pages_redirect_to_login(server, seeded, new_page):
    with server.client() as client:
        response = client.get(f"/inspections/{seeded['inspection']}/report", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next=%2Finspections%2F{seeded['inspection']}%2Freport"
        page_response = client.get("/login")
        csp = page_response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert all(path.startswith("/api/") for path in client.get("/openapi.json").json()["paths"])
        # Only local paths are followed after login.
        for target in ("https://example.com/", "//example.com/", "/%09/example.com/", "/%5Cexample.com"):
            assert 'data-next="/"' in client.get(f"/login?next={target}").text

    page = new_page()
    page.goto(f"/documents/{seeded['document']}")
    assert _path(page.url) == "/login"
    assert parse_qs(urlsplit(page.url).query)["next"] == [f"/documents/{seeded['document']}"]
    page.fill("#username", "赵刚")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
    page.fill("#password", "correct-horse-1")
    page.click("#login-submit")
    page.wait_for_url(re.compile(rf"/documents/{seeded['document']}$"))
    expect(page.locator("#document-title")).to_have_text("举报材料.txt")

    # Logging out ends the session: the next page visit goes to the login page again.
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto("/")
    assert _path(page.url) == "/login"
