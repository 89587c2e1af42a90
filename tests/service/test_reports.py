"""Report drafts (问题清单初稿) on a real SQLite database: building, rebuilding with edits, DOCX/XLSX."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from typer.testing import CliRunner

from nlp.checklist import load_checklist
from service import context
from service.cli import app
from service.reports import ReportStore, rebuild
from service.reports.draft import prior_cases
from service.reports.wording import unsupported
from service.reports.docx_export import render_docx
from service.reports.outline import EMPTY_NOTE, chinese_number, report_document, unfinished, unfinished_warning
from service.reports.xlsx_export import LEDGER_SHEET, PROBLEM_SHEET, render_xlsx
from service.storage import NewDocument, NewFinding

BONUS, CAR, BIG_DECISION, STAFFING = "C2-14", "C2-21", "A3-01", "B3-01"
BONUS_TEXT = "2023年12月28日镇党委开会决定给干部突击发放年终补助46.8万元"
BONUS_TEXT_2 = "孙桂芳说年底每人发了个辛苦费，一共46.8万元，没有文件依据"
CAR_TEXT = "副镇长钱永军长期把公车开回家私用，加油费在镇里报销"
DECISION_TEXT = "200万元的道路项目没有上党委会，书记一个人拍板定给了他表弟的公司"
STAFFING_TEXT = "镇里副科级干部比核定职数多出三个"
LOW_TEXT = "镇里的食堂饭菜一般"
CHECKLIST = load_checklist()


def tags(item: str | None, score: float = 0.9, is_finding: bool = True) -> dict:
    return {"is_finding": is_finding, "finding_score": score, "labels": [item] if item else [],
            "checklist": [{"id": item or BONUS, "title": "", "score": 0.8}], "focus": 2}


def finding(seq: int, text: str, tag: dict | None, page: int | None = 1, entities: list[dict] | None = None):
    return NewFinding(seq, text, 0, len(text), 0, len(text), page, None, "statement", None, entities or [], tag)


def add_document(repository, inspection_id: int, filename: str, kind: str, findings: list[NewFinding]) -> list[int]:
    text = "\n".join(f.text for f in findings)
    document_id = repository.add_document(inspection_id, NewDocument(
        filename, hashlib.sha256((filename + text).encode()).hexdigest(), len(text.encode()), "docx", kind, 0.9, {},
        {}, 2, None, [], [], "originals/none", text, findings))
    return [f.id for f in repository.get_document(document_id).findings]


MONEY = {"label": "money", "text": "46.8万元", "value": 468000.0, "start": 0, "end": 6}
DATE = {"label": "date", "text": "2023年12月28日", "value": "2023-12-28", "start": 0, "end": 11}


@pytest.fixture
def world(xuncha_home):
    repository = context.repository()
    inspection = repository.ensure_inspection("2024年第二轮", "第三巡察组", "青石镇")
    petition = add_document(repository, inspection.id, "举报信.docx", "petition", [
        finding(0, BONUS_TEXT, tags(BONUS, 0.95), 1, [MONEY, DATE]),
        finding(1, CAR_TEXT, tags(CAR, 0.8), 2),
        finding(2, LOW_TEXT, tags(CAR, 0.3, is_finding=False)),  # the tagger says: not a finding
        finding(3, "镇里可能有些问题", tags(CAR, 0.45, is_finding=False)),  # below the tagger's threshold
        finding(4, DECISION_TEXT, None),  # untagged; a reviewer will correct it
    ])
    interview = add_document(repository, inspection.id, "孙桂芳谈话.docx", "interview", [
        finding(0, BONUS_TEXT_2, tags(BONUS, 0.7), None, [MONEY]),
        finding(1, STAFFING_TEXT, tags(STAFFING, 0.85), 3),
    ])
    other = repository.ensure_inspection("别组轮次", "第一巡察组", "别的单位")
    add_document(repository, other.id, "别组.docx", "petition", [finding(0, "别组的公车私用问题", tags(CAR))])
    return {"repository": repository, "inspection": inspection, "petition": petition, "interview": interview,
            "store": ReportStore(repository.engine)}


def problems_by_item(report) -> dict:
    return {p.item_id: p for p in report.problems}


def test_draft_has_one_problem_per_found_item_grouped_by_focus_with_reviews_applied(world):
    repository, (bonus, car, low, weak, decision) = world["repository"], world["petition"]
    bonus_2, staffing = world["interview"]
    repository.add_feedback(decision, DECISION_TEXT, "correct", [BIG_DECISION], "审核员")
    repository.add_feedback(car, CAR_TEXT, "confirm", [CAR], "审核员")
    repository.add_feedback(car, CAR_TEXT, "reject", [], "审核员")  # the latest verdict wins
    repository.add_feedback(bonus_2, BONUS_TEXT_2, "confirm", [BONUS], "审核员")
    report = rebuild(repository, CHECKLIST, world["inspection"], "撰稿人").report

    expected = sorted((CHECKLIST.get(i).focus, i) for i in (BIG_DECISION, BONUS, STAFFING))
    assert [(p.focus, p.item_id) for p in report.problems] == expected
    problem = problems_by_item(report)[BONUS]
    # The reviewer-confirmed finding is the strongest evidence; unreviewed ones follow by score.
    assert [(e.finding_id, e.review) for e in problem.evidence] == [(bonus_2, "confirmed"), (bonus, None)]
    assert problem.evidence[0].filename == "孙桂芳谈话.docx" and problem.evidence[0].kind == "interview"
    assert problem.evidence[1].page == 1 and problem.evidence[1].quote == BONUS_TEXT
    # The first wording is the strongest finding's own sentence, framed by where it was said; the
    # checklist wordings follow, filled from this evidence only: no unit is named in it, so the
    # target unit is not put in (the slot is dropped where the sentence reads without it).
    assert problem.wording == problem.generated_wording == f"谈话中反映：{BONUS_TEXT_2}。"
    assert [(a.source, a.text) for a in problem.alternatives] == [
        ("finding", f"信访反映：{BONUS_TEXT}。"),
        ("checklist", "2023年自行设立名目向干部职工发放津补贴、奖金共计46.8万元，无政策依据。"),
        ("checklist", "巡察发现，以专项工作奖励为名违规发放钱款，规范津补贴政策执行不严。")]
    assert all("青石镇" not in a.text for a in problem.alternatives)
    assert problem.included and not problem.edited and problem.edited_by is None
    corrected = problems_by_item(report)[BIG_DECISION]
    assert [(e.finding_id, e.review) for e in corrected.evidence] == [(decision, "corrected")]
    assert report.updated_by == "撰稿人"
    assert {low, weak, car}.isdisjoint({e.finding_id for p in report.problems for e in p.evidence})


def test_slots_are_filled_from_the_evidence_and_long_quotes_are_clipped(world):
    repository = world["repository"]
    long_text = "**2023年12月28日镇财政所把收回的罚没款46.8万元放在账外**" + "，账外资金长期未入账" * 20
    money = dict(MONEY, start=16, end=22)
    add_document(repository, world["inspection"].id, "长文.docx", "minutes",
                 [finding(0, long_text, tags("C5-01", 0.99), 4, [money, DATE])])
    report = rebuild(repository, CHECKLIST, world["inspection"], None).report
    problem = problems_by_item(report)["C5-01"]
    assert problem.wording.startswith("会议记录载明：2023年12月28日镇财政所把收回的罚没款46.8万元放在账外，")
    assert "**" not in problem.wording  # source markup stripped
    texts = [a.text for a in problem.alternatives]
    assert '将46.8万元收入存放账外，设立"小金库"。' in texts
    assert "巡察发现，2023年以来部分收入未纳入单位账簿统一核算。" in texts
    quote = problem.evidence[0].quote
    assert len(quote) == 200 and quote.endswith("…") and long_text.replace("**", "").startswith(quote[:-1])


def test_rebuild_keeps_edits_drops_rejected_items_and_keeps_typed_wording(world):
    repository, store = world["repository"], world["store"]
    bonus, car = world["petition"][:2]
    bonus_2, staffing = world["interview"]
    first = problems_by_item(rebuild(repository, CHECKLIST, world["inspection"], "撰稿人").report)
    edited = store.edit(first[BONUS].id, "李明", wording="  青石镇违规发放年终补助46.8万元。  ".strip())
    assert edited.edited and edited.edited_by == "李明" and edited.edited_at is not None
    store.edit(first[STAFFING].id, "李明", included=False)
    store.edit(first[CAR].id, "李明", wording="钱永军公车私用，加油费公款报销。")

    # New material for an edited item, a rejected item, and an item whose only finding is rejected.
    add_document(repository, world["inspection"].id, "补充.docx", "minutes",
                 [finding(0, "镇里年底又发了一次考核奖", tags(BONUS, 0.9))])
    repository.add_feedback(car, CAR_TEXT, "reject", [], "审核员")
    result = rebuild(repository, CHECKLIST, world["inspection"], "王芳")
    second = problems_by_item(result.report)

    assert second[BONUS].id == first[BONUS].id and second[BONUS].wording == "青石镇违规发放年终补助46.8万元。"
    assert second[BONUS].generated_wording == first[BONUS].generated_wording and second[BONUS].edited
    assert len(second[BONUS].evidence) == 3
    assert second[STAFFING].included is False and second[STAFFING].edited
    # The rejected item's problem carries the writer's typed wording: kept, without evidence, not exported.
    assert result.retained == [first[CAR].id]
    assert second[CAR].wording == "钱永军公车私用，加油费公款报销。" and second[CAR].evidence == []
    assert second[CAR].included is False
    document = report_document(result.report, world["inspection"], CHECKLIST)
    assert CAR not in {item.item_id for s in document.sections for item in s.items}

    # An unedited problem whose findings are all rejected disappears.
    repository.add_feedback(staffing, STAFFING_TEXT, "reject", [], "审核员")
    store.edit(second[STAFFING].id, "李明", included=True)
    third = problems_by_item(rebuild(repository, CHECKLIST, world["inspection"], "王芳").report)
    assert STAFFING not in third and BONUS in third
    # A writer re-including a kept problem is respected on the next rebuild.
    store.edit(third[CAR].id, "李明", included=True)
    fourth = problems_by_item(rebuild(repository, CHECKLIST, world["inspection"], "王芳").report)
    assert fourth[CAR].included is True and fourth[CAR].evidence == []


def test_only_vouched_for_problems_are_ticked_by_default(world):
    repository, inspection = world["repository"], world["inspection"]
    weak = {"is_finding": True, "finding_score": 0.6, "labels": [STAFFING],
            "checklist": [{"id": STAFFING, "title": "", "score": 0.3}], "focus": 3}
    weak_id, = add_document(repository, inspection.id, "座谈记录.docx", "minutes",
                            [finding(0, "干部配备好像有点多", weak)])
    repository.add_feedback(world["interview"][1], STAFFING_TEXT, "reject", [], "审核员")
    draft = problems_by_item(rebuild(repository, CHECKLIST, inspection, "写稿人").report)
    assert draft[BONUS].included  # two documents report it
    assert draft[CAR].included  # one finding, confident (0.8) and about this item (0.8)
    assert not draft[STAFFING].included  # one weak, unreviewed finding: listed, not ticked
    repository.add_feedback(weak_id, "干部配备好像有点多", "confirm", [STAFFING], "审核员")
    assert problems_by_item(rebuild(repository, CHECKLIST, inspection, "写稿人").report)[STAFFING].included


def test_only_confirmed_or_confident_statements_from_problem_bearing_registers_are_ticked(world):
    repository, inspection = world["repository"], world["inspection"]
    slogan = dict(tags("A1-01", 0.97), form="exhortation")
    add_document(repository, inspection.id, "工作总结.docx", "other",
                 [finding(0, "全镇公款吃喝问题突出，招待费超标", tags("C2-07", 0.99))])
    add_document(repository, inspection.id, "座谈会记录.docx", "minutes",
                 [finding(0, "要进一步落实上级部署，不能只开会传达", slogan)])
    draft = problems_by_item(rebuild(repository, CHECKLIST, inspection, None).report)
    assert draft[BONUS].included and draft[CAR].included  # confident statements in a petition
    assert not draft["C2-07"].included  # a work report ('other') never pre-ticks, however confident
    assert not draft["A1-01"].included  # an exhortation is not a stated problem


def test_evidence_of_deleted_documents_is_not_shown(world):
    repository, store = world["repository"], world["store"]
    rebuild(repository, CHECKLIST, world["inspection"], None)
    interview_document = repository.get_finding(world["interview"][0]).document_id
    repository.delete_document(interview_document)
    report = store.get(world["inspection"].id)
    assert [e.filename for e in problems_by_item(report)[BONUS].evidence] == ["举报信.docx"]


def _docx_text(content: bytes) -> tuple[docx.document.Document, list[str]]:
    document = docx.Document(io.BytesIO(content))
    return document, [p.text for p in document.paragraphs]


def test_docx_export_is_a_chinese_report_draft_with_only_included_problems(world):
    repository, store = world["repository"], world["store"]
    first = problems_by_item(rebuild(repository, CHECKLIST, world["inspection"], None).report)
    # A vertical tab, as text pasted from Word carries, cannot go into DOCX XML: it is dropped.
    store.edit(first[BONUS].id, "李明", wording="青石镇以年终补助名义\x0b违规发放钱款46.8万元。")
    store.edit(first[STAFFING].id, "李明", included=False)
    report = store.get(world["inspection"].id)
    document, lines = _docx_text(render_docx(report_document(report, world["inspection"], CHECKLIST,
                                                             date(2024, 5, 6))))
    assert lines[0] == "2024年第二轮巡察发现问题清单（初稿）"
    assert "被巡察单位：青石镇" in lines and "日期：2024年5月6日" in lines
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、" + CHECKLIST.focus[2]]  # the focus-3 problem was excluded
    problems = [line for line in lines if line.startswith("（")]
    assert problems == ["（一）青石镇以年终补助名义违规发放钱款46.8万元。",
                        "（二）" + first[CAR].wording]
    evidence = [line for line in lines if line.startswith("证据")]
    assert f"证据1：《举报信.docx》第1页（信访举报件）：“{BONUS_TEXT}”" in evidence
    assert f"证据2：《孙桂芳谈话.docx》（个别谈话记录）：“{BONUS_TEXT_2}”" in evidence
    assert STAFFING_TEXT not in "\n".join(lines)
    footer = document.sections[0].footer._element.xml
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer  # page numbers as a Word field
    evidence_run = next(p for p in document.paragraphs if p.text.startswith("证据")).runs[0]
    assert evidence_run.font.size.pt == 10.5
    fonts = evidence_run._element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋"
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋" and normal.get(qn("w:eastAsiaTheme")) is None


def test_nested_quotes_and_unfinished_wordings_in_exports(world):
    repository, store = world["repository"], world["store"]
    said = "他说“这是老规矩”，就把购物卡收下了"
    add_document(repository, world["inspection"].id, "谈话.docx", "interview", [finding(0, said, tags("C2-01", 0.9))])
    first = problems_by_item(rebuild(repository, CHECKLIST, world["inspection"], None).report)
    store.edit(first[CAR].id, "李明", wording="钱永军公车私用，加油费【待补充：金额】在镇里报销。")
    store.edit(first[STAFFING].id, "李明", wording="超职数配备{人员职务}。")
    document = report_document(store.get(world["inspection"].id), world["inspection"], CHECKLIST)
    found = unfinished(document)
    assert [(u.item_id, u.markers) for u in found] == [(CAR, ["【待补充：金额】"]), (STAFFING, ["{人员职务}"])]
    assert found[0].label == "一（三）" and "一（三）（C2-21）【待补充：金额】" in unfinished_warning(found)
    _, lines = _docx_text(render_docx(document))
    assert any(line.endswith("：“他说「这是老规矩」，就把购物卡收下了”") for line in lines)


def test_xlsx_export_has_problem_sheet_and_rectification_ledger(world):
    repository, store = world["repository"], world["store"]
    first = problems_by_item(rebuild(repository, CHECKLIST, world["inspection"], None).report)
    store.edit(first[CAR].id, "李明", wording="=HYPERLINK(\"http://x\") 公车私用\x0c")
    report = store.get(world["inspection"].id)
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(report_document(report, world["inspection"], CHECKLIST))))
    assert workbook.sheetnames == [PROBLEM_SHEET, LEDGER_SHEET]
    sheet = workbook[PROBLEM_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "三个聚焦", "负面清单条目", "问题表述", "证据来源（文档/页码/原文）", "审核状态")
    assert [r[0] for r in rows[1:]] == [1, 2, 3]
    bonus_row = next(r for r in rows if r[2] == "C2-14 自设名目发放津补贴和奖金")
    assert bonus_row[1] == CHECKLIST.focus[2] and bonus_row[3] == first[BONUS].wording
    assert bonus_row[4] == f"1. 《举报信.docx》第1页：“{BONUS_TEXT}”\n2. 《孙桂芳谈话.docx》：“{BONUS_TEXT_2}”"
    assert bonus_row[5] == "待审核2条"
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold and sheet["D2"].alignment.wrap_text
    assert sheet.column_dimensions["D"].width == 50
    ledger = workbook[LEDGER_SHEET]
    ledger_rows = list(ledger.iter_rows(values_only=True))
    assert ledger_rows[0] == ("序号", "问题表述", "整改措施", "责任单位", "责任人", "整改时限", "完成情况")
    car_row = next(r for r in ledger_rows if r[1] and "公车私用" in r[1])
    assert car_row[2] == CHECKLIST.get(CAR).rectification and car_row[3:] == (None, None, None, None)
    assert ledger.freeze_panes == "A2"
    formula_like = next(c for c in ledger["B"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert formula_like.data_type == "s"  # written as text, never evaluated as a formula
    assert formula_like.value == "=HYPERLINK(\"http://x\") 公车私用"


def test_empty_inspection_gives_an_empty_draft_and_valid_exports(xuncha_home):
    repository = context.repository()
    inspection = repository.ensure_inspection("空轮次", "第三巡察组")
    report = rebuild(repository, CHECKLIST, inspection, None).report
    assert report.problems == []
    document = report_document(report, inspection, CHECKLIST)
    _, lines = _docx_text(render_docx(document))
    assert lines[0] == "空轮次巡察发现问题清单（初稿）" and EMPTY_NOTE in lines and "被巡察单位：（未填写）" in lines
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(document)))
    for name in (PROBLEM_SHEET, LEDGER_SHEET):
        rows = list(workbook[name].iter_rows(values_only=True))
        assert len(rows) == 2 and rows[0][0] == "序号" and rows[1][0] == EMPTY_NOTE


def test_chinese_numbers():
    assert [chinese_number(n) for n in (1, 10, 12, 20, 35, 100, 105, 110)] == [
        "一", "十", "十二", "二十", "三十五", "一百", "一百零五", "一百一十"]


def test_case_alternatives_come_from_prior_cases_not_from_this_inspection(world):
    repository, inspection = world["repository"], world["inspection"]
    bonus = world["petition"][0]
    repository.add_feedback(bonus, BONUS_TEXT, "confirm", [BONUS], "审核员")  # becomes a (team) case itself
    search = context.search_service()
    own = {f"finding-{i}" for i in world["petition"] + world["interview"]}
    hits = search.search(BONUS_TEXT, 8, None, {inspection.team}, collection="cases")
    assert own & {h.meta["external_id"] for h in hits}  # the confirmed finding is searchable as a case…
    prior = prior_cases(search, BONUS_TEXT, 8, inspection)
    assert prior and not own & {h.meta["external_id"] for h in prior}  # …but never a prior case of its round
    report = rebuild(repository, CHECKLIST, inspection, None, search).report
    for problem in report.problems:
        evidence = "\n".join(e.quote for e in problem.evidence)
        cases = [a for a in problem.alternatives if a.source == "case"]
        assert len(cases) <= 2 and all(a.case_id and a.case_id.startswith("case-") for a in cases)
        assert all(a.text != e.quote and not unsupported(a.text, evidence) for a in cases for e in problem.evidence)


def test_report_command_builds_and_exports(world, tmp_path):
    runner = CliRunner()
    inspection_id = world["inspection"].id
    word, excel = tmp_path / "out" / "初稿.docx", tmp_path / "out" / "底稿.xlsx"
    result = runner.invoke(app, ["report", str(inspection_id), "--docx", str(word), "--xlsx", str(excel)])
    assert result.exit_code == 0, result.output
    assert "已生成初稿" in result.output and "问题 3 个" in result.output
    assert docx.Document(word).paragraphs[0].text == "2024年第二轮巡察发现问题清单（初稿）"
    assert openpyxl.load_workbook(excel).sheetnames == [PROBLEM_SHEET, LEDGER_SHEET]
    again = runner.invoke(app, ["report", str(inspection_id), "--rebuild"])
    assert again.exit_code == 0 and "已重新生成初稿" in again.output
    problem = next(p for p in world["store"].get(inspection_id).problems if p.included)
    world["store"].edit(problem.id, "李明", wording="钱永军公车私用，涉及【待补充：金额】。")
    warned = runner.invoke(app, ["report", str(inspection_id), "--docx", str(word)])
    assert warned.exit_code == 0 and "仍有待补充的内容" in warned.output and "【待补充：金额】" in warned.output
    missing = runner.invoke(app, ["report", "999999"])
    assert missing.exit_code == 1 and "没有编号为 999999 的巡察轮次" in missing.output
