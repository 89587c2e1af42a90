"""Counting a scope's findings (read-only; nothing here writes to the database)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from nlp.checklist import Checklist
from service.reports.evidence import EVIDENCE_KIND, effective_items
from service.storage import models
from service.storage.sql import SqlRepository, latest_reviews

OTHER_TYPE = "其他"
NO_UNIT = "（未填写被巡察单位）"
UNKNOWN_DISCIPLINE = "未标注"
UNKNOWN_FOCUS = "未标注"
# Name suffix → unit type; checked in this order, so 街道办 is 机关部门 only if no earlier suffix fits.
UNIT_TYPES: list[tuple[str, tuple[str, ...]]] = [
    ("乡镇街道", ("街道", "镇", "乡")),
    ("村社区", ("社区", "村")),
    ("事业单位", ("学校", "医院", "中心")),
    ("国有企业", ("公司", "集团")),
    ("机关部门", ("局", "委", "办")),
]
UNIT_TYPE_ORDER = ["机关部门", "乡镇街道", "村社区", "事业单位", "国有企业", OTHER_TYPE]  # display order


def unit_type(name: str | None) -> str:
    """The type of an inspected unit from the suffix of its name (其他 when none fits)."""
    name = (name or "").strip()
    for label, suffixes in UNIT_TYPES:
        if name.endswith(suffixes):
            return label
    return OTHER_TYPE


@dataclass(frozen=True)
class Counted:
    """One finding that counts: where it was found and what it is."""

    finding_id: int
    inspection_id: int
    inspection: str
    unit: str
    year: int | None
    item_id: str
    focus: int | None
    discipline: str


@dataclass
class Analysis:
    checklist: Checklist
    findings: list[Counted]
    rounds: dict[int, str] = field(default_factory=dict)
    """Every round in scope (also those without findings): id → name."""

    def _title(self, item_id: str) -> str:
        item = self.checklist.by_id.get(item_id)
        return item.title if item else ""

    def _focus_label(self, focus: int | None) -> str:
        return self.checklist.focus.get(focus, UNKNOWN_FOCUS) if focus is not None else UNKNOWN_FOCUS

    @staticmethod
    def _rows(counter: Counter, label=lambda key: str(key), order=None) -> list[dict]:
        keys = order if order is not None else [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))]
        return [{"key": k, "label": label(k), "count": counter[k]} for k in keys if counter[k]]

    def by_focus(self) -> list[dict]:
        counts = Counter(f.focus for f in self.findings)
        order = sorted(counts, key=lambda k: (k is None, k or 0))
        return self._rows(counts, self._focus_label, order)

    def by_item(self) -> list[dict]:
        counts = Counter(f.item_id for f in self.findings)
        return [{**row, "label": f"{row['key']} {self._title(row['key'])}".strip(), "title": self._title(row["key"])}
                for row in self._rows(counts)]

    def by_discipline(self) -> list[dict]:
        counts = Counter(f.discipline for f in self.findings)
        order = [d for d in self.checklist.disciplines if d in counts] + sorted(set(counts) - set(self.checklist.disciplines))
        return self._rows(counts, order=order)

    def by_unit_type(self) -> list[dict]:
        counts = Counter(unit_type(f.unit) if f.unit != NO_UNIT else OTHER_TYPE for f in self.findings)
        return self._rows(counts, order=UNIT_TYPE_ORDER)

    def by_year(self) -> list[dict]:
        counts = Counter(f.year for f in self.findings)
        order = sorted(counts, key=lambda y: (y is None, y or 0))
        return self._rows(counts, lambda y: f"{y}年" if y else "年份不详", order)

    def by_unit(self) -> list[dict]:
        counts = Counter(f.unit for f in self.findings)
        return [{**row, "unit_type": unit_type(row["key"]) if row["key"] != NO_UNIT else OTHER_TYPE}
                for row in self._rows(counts)]

    def by_round(self) -> list[dict]:
        counts = Counter(f.inspection_id for f in self.findings)
        return self._rows(counts, lambda i: self.rounds.get(i, str(i)), sorted(counts))

    def recurring(self) -> list[dict]:
        """Items found in two or more rounds or in two or more units, most widespread first."""
        rounds: dict[str, set[int]] = defaultdict(set)
        units: dict[str, set[str]] = defaultdict(set)
        counts = Counter()
        for f in self.findings:
            rounds[f.item_id].add(f.inspection_id)
            units[f.item_id].add(f.unit)
            counts[f.item_id] += 1
        rows = []
        for item_id in counts:
            if len(rounds[item_id]) >= 2 or len(units[item_id]) >= 2:
                item = self.checklist.by_id.get(item_id)
                rows.append({"item_id": item_id, "title": self._title(item_id),
                             "focus": item.focus if item else None,
                             "focus_label": self._focus_label(item.focus if item else None),
                             "rounds": len(rounds[item_id]), "units": len(units[item_id]), "findings": counts[item_id],
                             "unit_names": sorted(units[item_id]),
                             "round_names": [self.rounds.get(i, str(i)) for i in sorted(rounds[item_id])]})
        rows.sort(key=lambda r: (-r["rounds"], -r["units"], -r["findings"], r["item_id"]))
        return rows

    def repeat_units(self, limit: int = 10) -> list[dict]:
        """Units with the most items found again: an item of the unit found in two or more of its rounds."""
        seen: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for f in self.findings:
            if f.unit != NO_UNIT:
                seen[f.unit][f.item_id].add(f.inspection_id)
        rows = []
        for unit, items in seen.items():
            again = sorted(i for i, r in items.items() if len(r) >= 2)
            if again:
                rows.append({"unit": unit, "unit_type": unit_type(unit), "repeats": len(again),
                             "rounds": len(set().union(*items.values())), "items": again,
                             "findings": sum(f.unit == unit for f in self.findings)})
        rows.sort(key=lambda r: (-r["repeats"], -r["findings"], r["unit"]))
        return rows[:limit]

    def as_json(self) -> dict:
        return {"totals": {"findings": len(self.findings), "rounds": len(self.rounds),
                           "units": len({f.unit for f in self.findings}),
                           "rounds_with_findings": len({f.inspection_id for f in self.findings})},
                "by_focus": self.by_focus(), "by_item": self.by_item(), "by_discipline": self.by_discipline(),
                "by_unit_type": self.by_unit_type(), "by_year": self.by_year(), "by_unit": self.by_unit(),
                "by_round": self.by_round(), "recurring": self.recurring(), "repeat_units": self.repeat_units()}


def _primary(items: list[str], checklist: Checklist) -> str | None:
    for item in items:
        resolved = checklist.resolve_or_none(item)
        if resolved is not None:
            return resolved
    return items[0] if items else None


def analyse(repository: SqlRepository, checklist: Checklist, teams: set[str] | None = None,
            inspection_id: int | None = None, year: int | None = None, include_demo: bool = False) -> Analysis:
    """Findings of the rounds in ``teams`` (None: every team), optionally one round and one year.

    A finding counts under its primary item after review (a correction moves it); its 三个聚焦 and
    discipline are the item's, falling back to the tagger's when the item is unknown. The year is the
    document's own (its date, else its import date)."""
    round_query = select(models.Inspection.id, models.Inspection.name).order_by(models.Inspection.id)
    if teams is not None:
        round_query = round_query.where(models.Inspection.team.in_(sorted(teams)))
    if not include_demo:
        round_query = round_query.where(models.Inspection.demo.is_(False))
    if inspection_id is not None:
        round_query = round_query.where(models.Inspection.id == inspection_id)
    counted: list[Counted] = []
    with repository.session() as session:
        rounds = {row.id: row.name for row in session.execute(round_query)}
        if not rounds:
            return Analysis(checklist, [], {})
        query = (select(models.Finding.id, models.Finding.tags, models.Document.year, models.Document.created_at,
                        models.Inspection.id.label("inspection_id"), models.Inspection.target_unit)
                 .join(models.Document, models.Finding.document_id == models.Document.id)
                 .join(models.Inspection, models.Document.inspection_id == models.Inspection.id)
                 .where(models.Inspection.id.in_(sorted(rounds)), models.Document.kind != EVIDENCE_KIND)
                 .order_by(models.Finding.id))
        rows = session.execute(query).all()
        verdicts = latest_reviews(session, [row.id for row in rows])
    for row in rows:
        verdict = verdicts.get(row.id)
        items, _review = effective_items(row.tags, verdict and (verdict["action"], verdict["items"]))
        item_id = _primary(items, checklist)
        if item_id is None:
            continue
        row_year = row.year if row.year is not None else (row.created_at.year if row.created_at else None)
        if year is not None and row_year != year:
            continue
        tags = row.tags or {}
        item = checklist.by_id.get(item_id)
        focus = item.focus if item else tags.get("focus")
        discipline = item.discipline if item else (tags.get("discipline") or UNKNOWN_DISCIPLINE)
        unit = (row.target_unit or "").strip() or NO_UNIT
        counted.append(Counted(row.id, row.inspection_id, rounds[row.inspection_id], unit, row_year, item_id,
                               focus, discipline))
    return Analysis(checklist, counted, rounds)
