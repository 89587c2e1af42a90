"""共性问题分析 as an Excel workbook: one sheet per breakdown."""

from __future__ import annotations

import io

from service.analysis.service import Analysis

SHEETS = [
    ("三个聚焦", "by_focus", "三个聚焦"),
    ("清单条目", "by_item", "清单条目"),
    ("纪律类别", "by_discipline", "纪律类别"),
    ("单位类型", "by_unit_type", "单位类型"),
    ("年份", "by_year", "年份"),
    ("被巡察单位", "by_unit", "被巡察单位"),
    ("巡察轮次", "by_round", "巡察轮次"),
]


def workbook_bytes(analysis: Analysis) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = analysis.as_json()
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, key, heading in SHEETS:
        sheet = book.create_sheet(title)
        sheet.append([heading, "问题数"])
        for row in data[key]:
            sheet.append([row["label"], row["count"]])
        sheet.column_dimensions["A"].width = 40
    sheet = book.create_sheet("共性问题")
    sheet.append(["清单条目", "条目名称", "三个聚焦", "涉及轮次数", "涉及单位数", "问题数", "涉及单位"])
    for row in data["recurring"]:
        sheet.append([row["item_id"], row["title"], row["focus_label"], row["rounds"], row["units"], row["findings"],
                      "、".join(row["unit_names"])])
    sheet.column_dimensions["B"].width = 30
    sheet.column_dimensions["G"].width = 50
    sheet = book.create_sheet("反复出现问题的单位")
    sheet.append(["被巡察单位", "单位类型", "再次出现的条目数", "巡察轮次数", "问题数", "再次出现的条目"])
    for row in data["repeat_units"]:
        sheet.append([row["unit"], row["unit_type"], row["repeats"], row["rounds"], row["findings"], "、".join(row["items"])])
    sheet.column_dimensions["A"].width = 30
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
