"""The ledger as a workbook: 问题清单, 任务清单, 责任清单 (三单) and the 整改台账, together or one by one."""

from __future__ import annotations

import io
from datetime import date

from service.rectification.ledger import Entry
from service.rectification.warnings import WARNING_LABELS
from service.reports.outline import printable

SHEETS = {
    "problems": ("问题清单", [("序号", 6), ("三个聚焦", 26), ("负面清单条目", 24), ("问题表述", 60)]),
    "tasks": ("任务清单", [("序号", 6), ("问题表述", 50), ("整改措施", 50), ("完成时限", 14), ("整改状态", 12)]),
    "responsibilities": ("责任清单", [("序号", 6), ("责任单位", 20), ("责任人", 12), ("问题表述", 44),
                                      ("整改措施", 44), ("完成时限", 14)]),
    "ledger": ("整改台账", [("序号", 6), ("问题表述", 40), ("整改措施", 40), ("责任单位", 16), ("责任人", 10),
                            ("完成时限", 12), ("剩余天数", 10), ("预警", 8), ("整改状态", 10),
                            ("佐证材料", 30), ("销号审批人", 12), ("销号时间", 18)]),
}


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _rows(kind: str, entries: list[Entry], checklist) -> list[list[object]]:
    rows = []
    for n, entry in enumerate(entries, 1):
        t = entry.task
        if kind == "problems":
            item = checklist.get(t.item_id) if t.item_id in checklist else None
            rows.append([n, checklist.focus.get(t.focus, ""), f"{t.item_id} {item.title}" if item else t.item_id,
                         t.problem])
        elif kind == "tasks":
            rows.append([n, t.problem, t.measures, _day(t.deadline), entry.status_label])
        elif kind == "responsibilities":
            rows.append([n, t.unit or "", t.person or "", t.problem, t.measures, _day(t.deadline)])
        else:
            rows.append([n, t.problem, t.measures, t.unit or "", t.person or "", _day(t.deadline),
                         None if t.status == "closed" else entry.days_left, WARNING_LABELS.get(entry.warning, ""),
                         entry.status_label, "\n".join(f"《{e.filename}》" for e in t.evidence), t.approved_by or "",
                         t.approved_at.strftime("%Y-%m-%d %H:%M") if t.approved_at else ""])
    return rows


def render_xlsx(entries: list[Entry], title: str, checklist, kinds: tuple[str, ...] = tuple(SHEETS)) -> bytes:
    from openpyxl import Workbook  # openpyxl loads on the first export, not with the web app

    from service.reports.xlsx_export import _sheet

    workbook = Workbook()
    workbook.properties.title = printable(title)
    workbook.remove(workbook.active)
    for kind in kinds:
        name, columns = SHEETS[kind]
        _sheet(workbook.create_sheet(name), columns, _rows(kind, entries, checklist))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
