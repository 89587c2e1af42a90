"""The draft as a workbook: the problem working sheet (问题底稿) and the rectification ledger (整改台账)."""

from __future__ import annotations

import io
from collections import Counter

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.reports.docx_export import REVIEW_LABELS, nest_quotes, title_of
from service.reports.outline import EMPTY_NOTE, ReportDocument, printable
from service.reports.store import ProblemRecord

PROBLEM_SHEET, LEDGER_SHEET = "问题底稿", "整改台账"
PROBLEM_COLUMNS = [("序号", 6), ("三个聚焦", 26), ("负面清单条目", 24), ("问题表述", 50),
                   ("证据来源（文档/页码/原文）", 64), ("审核状态", 16)]
LEDGER_COLUMNS = [("序号", 6), ("问题表述", 50), ("整改措施", 40), ("责任单位", 16), ("责任人", 12),
                  ("整改时限", 14), ("完成情况", 18)]
MAX_CELL = 32_000  # Excel holds at most 32,767 characters in a cell
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FONT = Font(name="黑体", bold=True, color="FFFFFF", size=11)
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_BODY_FONT = Font(name="宋体", size=11)


def _text(value: str) -> str:
    value = printable(value)
    return value if len(value) <= MAX_CELL else value[:MAX_CELL - 1] + "…"


def _sheet(sheet: Worksheet, columns: list[tuple[str, int]], rows: list[list[object]]) -> None:
    sheet.append([name for name, _ in columns])
    for column, (_, width) in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
        header = sheet.cell(1, column)
        header.font, header.fill, header.border = _HEADER_FONT, _HEADER_FILL, _BORDER
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for values in rows:
        sheet.append([_text(v) if isinstance(v, str) else v for v in values])
    for row in sheet.iter_rows(min_row=2, max_col=len(columns)):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # document text is never a formula
            cell.font, cell.border = _BODY_FONT, _BORDER
            cell.alignment = Alignment(vertical="top", wrap_text=True,
                                       horizontal="center" if cell.column == 1 else "left")
    if not rows:
        sheet.append([EMPTY_NOTE])
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
        sheet.cell(2, 1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.cell(2, 1).font = _BODY_FONT
        sheet.row_dimensions[2].height = 36
    sheet.freeze_panes = "A2"


def review_status(problem: ProblemRecord) -> str:
    counts = Counter(e.review for e in problem.evidence)
    parts = [f"{label}{counts[key]}条" for key, label in REVIEW_LABELS.items() if counts[key]]
    if counts[None]:
        parts.append(f"待审核{counts[None]}条")
    return "；".join(parts) or "无证据材料"


def _sources(problem: ProblemRecord) -> str:
    return "\n".join(f"{n}. 《{e.filename}》" + (f"第{e.page}页" if e.page else "") + f"：“{nest_quotes(e.quote)}”"
                     for n, e in enumerate(problem.evidence, 1))


def render_xlsx(report: ReportDocument) -> bytes:
    problems = report.problems
    workbook = Workbook()
    workbook.properties.title = printable(title_of(report.inspection))
    sheet = workbook.active
    sheet.title = PROBLEM_SHEET
    _sheet(sheet, PROBLEM_COLUMNS, [
        [n, section.focus_title, f"{item.item_id} {item.item_title}", problem.wording, _sources(problem),
         review_status(problem)] for n, (section, item, problem) in enumerate(problems, 1)])
    _sheet(workbook.create_sheet(LEDGER_SHEET), LEDGER_COLUMNS, [
        [n, problem.wording, item.rectification, None, None, None, None]
        for n, (_, item, problem) in enumerate(problems, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
