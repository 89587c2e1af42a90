"""A stored draft arranged for reading and export: by 三个聚焦 focus, then by checklist item."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from nlp.checklist import Checklist
from service.reports.store import ProblemRecord, ReportRecord
from service.reports.wording import markers
from service.storage.records import InspectionRecord

_DIGITS = "零一二三四五六七八九"
EMPTY_NOTE = "本轮巡察暂未形成问题清单：尚无经模型标注或审核确认、可作为问题证据的候选问题。"
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without the control characters and lone surrogates DOCX/XLSX (XML) cannot hold,
    e.g. the vertical tabs that text pasted from Word carries."""
    return _NOT_IN_XML.sub("", text)


@dataclass
class ItemSection:
    item_id: str
    item_title: str
    discipline: str
    rectification: str
    problems: list[ProblemRecord] = field(default_factory=list)


@dataclass
class FocusSection:
    focus: int
    focus_title: str
    items: list[ItemSection] = field(default_factory=list)


@dataclass
class ReportDocument:
    """Everything an export needs: only the problems the writers included."""

    inspection: str
    target_unit: str | None
    on: date
    sections: list[FocusSection]
    previous_round: dict | None = None
    """The section 上轮巡察反馈问题整改情况 (``service.recheck.Recheck.section``) when the unit was inspected before."""

    @property
    def problems(self) -> list[tuple[FocusSection, ItemSection, ProblemRecord]]:
        return [(s, i, p) for s in self.sections for i in s.items for p in i.problems]


def _tens(n: int, spoken_one: bool) -> str:
    tens, units = divmod(n, 10)
    return ("" if tens == 1 and not spoken_one else _DIGITS[tens]) + "十" + (_DIGITS[units] if units else "")


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五, 110 → 一百一十 (headings and numbering)."""
    if not 0 <= n < 1000:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        return _tens(n, spoken_one=False)
    hundreds, rest = divmod(n, 100)
    tail = "" if rest == 0 else "零" + _DIGITS[rest] if rest < 10 else _tens(rest, spoken_one=True)
    return _DIGITS[hundreds] + "百" + tail


def sections(problems: list[ProblemRecord], checklist: Checklist, included_only: bool = False) -> list[FocusSection]:
    """Problems grouped by focus (1–4) then item id; titles from the checklist."""
    out: dict[int, FocusSection] = {}
    for problem in sorted(problems, key=lambda p: (p.focus, p.item_id, p.id)):
        if included_only and not problem.included:
            continue
        section = out.setdefault(problem.focus, FocusSection(
            problem.focus, checklist.focus.get(problem.focus, f"聚焦{chinese_number(problem.focus)}")))
        if not section.items or section.items[-1].item_id != problem.item_id:
            item = checklist.get(problem.item_id) if problem.item_id in checklist else None
            section.items.append(ItemSection(problem.item_id, item.title if item else problem.item_id,
                                             item.discipline if item else "", item.rectification if item else ""))
        section.items[-1].problems.append(problem)
    return [out[focus] for focus in sorted(out)]


def report_document(report: ReportRecord, inspection: InspectionRecord, checklist: Checklist,
                    on: date | None = None) -> ReportDocument:
    return ReportDocument(inspection.name, inspection.target_unit, on or date.today(),
                          sections(report.problems, checklist, included_only=True))


@dataclass
class Unfinished:
    """An included problem whose wording still has 【待补充：…】 markers or raw {…} slots."""

    problem_id: int
    label: str
    """Where it is in the exports: 一（二） is the second problem under the first 聚焦."""
    item_id: str
    markers: list[str]

    def describe(self) -> str:
        return f"{self.label}（{self.item_id}）{'、'.join(dict.fromkeys(self.markers))}"


def unfinished(report: ReportDocument) -> list[Unfinished]:
    out = []
    for number, section in enumerate(report.sections, 1):
        problems = [p for item in section.items for p in item.problems]
        for index, problem in enumerate(problems, 1):
            if found := markers(problem.wording):
                out.append(Unfinished(problem.id, f"{chinese_number(number)}（{chinese_number(index)}）",
                                      problem.item_id, found))
    return out


def unfinished_warning(found: list[Unfinished]) -> str:
    shown = "；".join(u.describe() for u in found[:10]) + ("……" if len(found) > 10 else "")
    return f"有 {len(found)} 个纳入清单的问题表述仍有待补充的内容，请核实补充后再定稿：{shown}"
