"""The draft as a Word document laid out like a Chinese inspection report (公文格式的问题清单初稿)."""

from __future__ import annotations

import io
import re
from datetime import date

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from nlp.types import KIND_LABELS, DocumentKind
from service.reports.draft import Evidence
from service.reports.outline import EMPTY_NOTE, ReportDocument, chinese_number, printable

BODY_FONT, TITLE_FONT, HEADING_FONT, NUMBER_FONT = "仿宋", "宋体", "黑体", "楷体"
BODY_SIZE, TITLE_SIZE, EVIDENCE_SIZE = Pt(16), Pt(22), Pt(10.5)  # 三号, 二号, 五号
BLACK = RGBColor(0, 0, 0)
_THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
REVIEW_LABELS = {"confirmed": "已审核确认", "corrected": "已审核更正"}


def title_of(inspection: str) -> str:
    return f"{inspection}巡察发现问题清单（初稿）"


def chinese_date(on: date) -> str:
    return f"{on.year}年{on.month}月{on.day}日"


def _set_font(font, element, name: str, size: Pt | None = None, bold: bool | None = None) -> None:
    """Font ``name`` for Latin and East Asian text alike (Word picks w:eastAsia for Chinese)."""
    font.name = name
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    for attribute in _THEME_FONTS:  # theme fonts would override the names set here
        fonts.attrib.pop(qn(attribute), None)
    font.color.rgb = BLACK
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold


def _run(paragraph, text: str, name: str = BODY_FONT, size: Pt = BODY_SIZE, bold: bool | None = None):
    run = paragraph.add_run(printable(text))
    _set_font(run.font, run._element, name, size, bold)
    return run


def _prepare(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4, margins per GB/T 9704
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = document.styles["Normal"]
    _set_font(normal.font, normal.element, BODY_FONT, BODY_SIZE)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.25
    heading = document.styles["Heading 1"]
    _set_font(heading.font, heading.element, HEADING_FONT, BODY_SIZE, bold=False)
    heading.paragraph_format.space_before, heading.paragraph_format.space_after = Pt(12), Pt(6)


def nest_quotes(text: str) -> str:
    """Quotes inside a quoted passage become 「」, as Chinese official documents nest them."""
    text = text.replace("“", "「").replace("”", "」")
    return re.sub(r'"([^"]*)"', r"「\1」", text)


def _page_numbers(document) -> None:
    """A centred footer with the page number as a PAGE field (— 1 —), which Word fills in."""
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, "— ", size=Pt(14))
    run = _run(paragraph, "", size=Pt(14))
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == "PAGE" else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {text} " if text == "PAGE" else text
        run._element.append(element)
    _run(paragraph, " —", size=Pt(14))


def kind_label(kind: str) -> str:
    try:
        return KIND_LABELS[DocumentKind(kind)]
    except ValueError:
        return ""


def _evidence_line(number: int, evidence: Evidence) -> str:
    kind = kind_label(evidence.kind)
    where = f"《{evidence.filename}》" + (f"第{evidence.page}页" if evidence.page else "")
    notes = "，".join(n for n in (kind, REVIEW_LABELS.get(evidence.review or "", "")) if n)
    return f"证据{number}：{where}" + (f"（{notes}）" if notes else "") + f"：“{nest_quotes(evidence.quote)}”"


def _body_paragraph(document, indent: Pt = Pt(32)):
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = indent
    return paragraph


def render_docx(report: ReportDocument) -> bytes:
    document = docx.Document()
    _prepare(document)
    _page_numbers(document)
    document.core_properties.title = printable(title_of(report.inspection))
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    _run(title, title_of(report.inspection), TITLE_FONT, TITLE_SIZE, bold=True)
    for line in (f"被巡察单位：{report.target_unit or '（未填写）'}", f"日期：{chinese_date(report.on)}"):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(paragraph, line)
    if not report.sections:
        _run(_body_paragraph(document), EMPTY_NOTE)
    for number, section in enumerate(report.sections, 1):
        heading = document.add_heading(level=1)
        _run(heading, f"{chinese_number(number)}、{section.focus_title}", HEADING_FONT, BODY_SIZE, bold=False)
        problems = [p for item in section.items for p in item.problems]
        for index, problem in enumerate(problems, 1):
            paragraph = _body_paragraph(document)
            paragraph.paragraph_format.space_before = Pt(6)
            _run(paragraph, f"（{chinese_number(index)}）", NUMBER_FONT, bold=True)
            _run(paragraph, problem.wording)
            for line_number, evidence in enumerate(problem.evidence, 1):
                _run(_body_paragraph(document), _evidence_line(line_number, evidence), size=EVIDENCE_SIZE)
            if not problem.evidence:
                _run(_body_paragraph(document), "（暂无证据材料，请撰稿人核实）", size=EVIDENCE_SIZE)
    if report.previous_round:
        _previous_round(document, report.previous_round, len(report.sections) + 1)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _previous_round(document, section: dict, number: int) -> None:
    """上轮巡察反馈问题整改情况: each earlier problem, its rectification status and this round's repeats."""
    _run(document.add_heading(level=1), f"{chinese_number(number)}、{section['title']}", HEADING_FONT, BODY_SIZE,
         bold=False)
    problems = section["problems"]
    _run(_body_paragraph(document), f"对照{'、'.join(section['earlier_rounds'])}反馈的问题 {len(problems)} 个，"
         f"未销号 {section['unclosed']} 个；本轮发现的问题中 {section['repeats']} 个与上轮问题相同，"
         f"{section['new']} 个为新问题。")
    for index, problem in enumerate(problems, 1):
        paragraph = _body_paragraph(document)
        _run(paragraph, f"（{chinese_number(index)}）", NUMBER_FONT, bold=True)
        _run(paragraph, f"{problem['wording']}（{problem['inspection']}，整改状态：{problem['status_label']}）")
        for repeat in problem["repeated_by"]:
            _run(_body_paragraph(document), f"本轮再次发现（{repeat['class']}）：《{repeat['filename']}》"
                 f"“{nest_quotes(repeat['quote'])}”", size=EVIDENCE_SIZE)
