"""What a profile (画像) holds: plain records, built by ``service.profiles.units`` / ``.people``.

A unit profile gathers the rounds that inspected the unit, their findings, the findings of other
rounds whose text names it, and the rectification tasks of its rounds or with it as 责任单位. A
person profile gathers what the pipeline extracted about a name: 被反映人 in petitions, 谈话对象 in
interview notes, a person a finding is about (named, or a petition's reported person), and 责任人 in
rectification tasks. Everything is read within a team scope; nothing here is written anywhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

FOUND_IN_ROUND = "本单位巡察发现"
MENTIONED = "其他轮次材料中提及"
ROLE_REPORTED, ROLE_INTERVIEWEE, ROLE_FINDING, ROLE_RESPONSIBLE = "被反映人", "谈话对象", "问题涉及", "整改责任人"
PERSON_ROLES = (ROLE_REPORTED, ROLE_INTERVIEWEE, ROLE_FINDING, ROLE_RESPONSIBLE)


@dataclass
class ProfileRound:
    id: int
    name: str
    team: str
    target_unit: str | None
    demo: bool
    created_at: datetime
    documents: int = 0
    """Documents of the round (rectification evidence not counted)."""
    findings: int = 0
    """Findings of this round in the profile."""
    finalised: bool = False
    """Whether the round's report was finalised into a rectification ledger."""


@dataclass
class InDocument:
    """Where something of a profile was read: a document of a round."""

    document_id: int
    filename: str
    kind: str
    inspection_id: int
    inspection: str
    target_unit: str | None


@dataclass
class ProfileFinding(InDocument):
    finding_id: int
    page: int | None
    text: str
    """The finding's text, cut to about 200 characters."""
    item_id: str
    item_title: str
    items: list[str]
    focus: int | None
    focus_label: str
    discipline: str
    date: str | None
    """The document's own date (meeting or interview date), else None."""
    year: int | None
    review: str | None
    relation: str
    """Why it is in the profile: found in the unit's round, named in another round's material,
    or (people) how the person is involved (本人 / a relative such as 妻弟)."""
    persons: list[str] = field(default_factory=list)


@dataclass
class ProfileTask:
    id: int
    inspection_id: int
    inspection: str
    item_id: str
    focus: int
    problem: str
    unit: str | None
    person: str | None
    deadline: date
    status: str
    status_label: str
    days_left: int
    warning: str | None
    """green / yellow / red (None: closed, or the deadline is still far)."""
    evidence: int
    """How many evidence documents (佐证材料) the task has."""
    approved_by: str | None
    approved_at: datetime | None


@dataclass
class PersonDocument(InDocument):
    """A document whose header names the person: a petition reporting them, an interview with them."""

    role: str
    position: str | None
    unit: str | None
    date: str | None
    year: int | None


def _counts(values) -> list[dict]:
    counter = Counter(v for v in values if v is not None)
    return [{"key": k, "count": n} for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def _task_counts(tasks: list[ProfileTask]) -> dict[str, int]:
    out: dict[str, int] = {}
    for task in tasks:
        for key in (task.status, task.warning):
            if key:
                out[key] = out.get(key, 0) + 1
    return out


@dataclass
class UnitProfile:
    unit: str
    unit_type: str
    rounds: list[ProfileRound]
    findings: list[ProfileFinding]
    tasks: list[ProfileTask]
    today: date
    mentions_limited: bool = False
    """More findings of other rounds name the unit than are listed."""

    @property
    def empty(self) -> bool:
        return not (self.rounds or self.findings or self.tasks)

    def repeated_items(self) -> list[dict]:
        """Checklist items found in two or more of the unit's rounds."""
        rounds: dict[str, set[int]] = {}
        titles: dict[str, str] = {}
        for f in self.findings:
            if f.relation == FOUND_IN_ROUND:
                rounds.setdefault(f.item_id, set()).add(f.inspection_id)
                titles[f.item_id] = f.item_title
        rows = [{"item_id": i, "title": titles[i], "rounds": len(r)} for i, r in rounds.items() if len(r) >= 2]
        return sorted(rows, key=lambda r: (-r["rounds"], r["item_id"]))

    def as_json(self) -> dict:
        own = [f for f in self.findings if f.relation == FOUND_IN_ROUND]
        return {"unit": self.unit, "unit_type": self.unit_type, "today": self.today,
                "totals": {"rounds": len(self.rounds), "findings": len(own),
                           "mentions": len(self.findings) - len(own), "tasks": len(self.tasks),
                           "open_tasks": sum(t.status != "closed" for t in self.tasks)},
                "rounds": [asdict(r) for r in self.rounds],
                "findings": [asdict(f) for f in self.findings],
                "tasks": [asdict(t) for t in self.tasks],
                "task_counts": _task_counts(self.tasks),
                "by_focus": _counts(f.focus for f in own), "by_item": _counts(f.item_id for f in own),
                "repeated_items": self.repeated_items(), "mentions_limited": self.mentions_limited}


@dataclass
class PersonProfile:
    name: str
    documents: list[PersonDocument]
    findings: list[ProfileFinding]
    tasks: list[ProfileTask]
    rounds: list[ProfileRound]
    today: date

    @property
    def empty(self) -> bool:
        return not (self.documents or self.findings or self.tasks)

    def roles(self) -> list[dict]:
        counts = Counter(d.role for d in self.documents)
        counts[ROLE_FINDING] += len(self.findings)
        counts[ROLE_RESPONSIBLE] += len(self.tasks)
        return [{"role": r, "count": counts[r]} for r in PERSON_ROLES if counts[r]]

    def positions(self) -> list[str]:
        """Positions and units the material gives the person (被反映人's 职务/单位, 谈话对象's 职务)."""
        seen = []
        for d in self.documents:
            text = "".join(x for x in (d.unit, d.position) if x)
            if text and text not in seen:
                seen.append(text)
        return seen

    def as_json(self) -> dict:
        units = list(dict.fromkeys(r.target_unit for r in self.rounds if r.target_unit))
        return {"name": self.name, "today": self.today, "roles": self.roles(), "positions": self.positions(),
                "units": units,
                "totals": {"documents": len(self.documents), "findings": len(self.findings), "tasks": len(self.tasks),
                           "rounds": len(self.rounds)},
                "documents": [asdict(d) for d in self.documents], "findings": [asdict(f) for f in self.findings],
                "tasks": [asdict(t) for t in self.tasks], "task_counts": _task_counts(self.tasks),
                "rounds": [asdict(r) for r in self.rounds],
                "by_focus": _counts(f.focus for f in self.findings), "by_item": _counts(f.item_id for f in self.findings)}


@dataclass
class UnitSummary:
    unit: str
    unit_type: str
    rounds: int
    findings: int
    tasks: int
    open_tasks: int
    """Tasks not 销号 yet."""
    red: int
    """Open tasks with a red warning (overdue)."""
    last_round: str | None


@dataclass
class PersonSummary:
    name: str
    roles: list[str]
    documents: int
    findings: int
    tasks: int
    rounds: int
    units: list[str]
