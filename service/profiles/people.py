"""Person profiles (人员画像): what the pipeline extracted about a name, within a team scope.

A person is found as 被反映人 in a petition's header, 谈话对象 in an interview note's header, a person
a finding is about (``service.reports.wording.persons_of``: subjects and relatives named in the
finding, or the petition's reported person when it names nobody; never the record's own roles such
as 谈话人, 记录人, 主持人 or the complainant) and 责任人 of a rectification task. Complainants
(反映人) are never profiled: their protection comes first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from nlp import entities
from nlp.checklist import Checklist
from service.profiles import sources
from service.profiles.models import (ROLE_FINDING, ROLE_INTERVIEWEE, ROLE_REPORTED, ROLE_RESPONSIBLE, PersonDocument,
                                     PersonProfile, PersonSummary)
from service.profiles.sources import Counted, Scope, names_in
from service.rectification.models import RectificationTask
from service.rectification.warnings import Thresholds
from service.reports.wording import persons_of
from service.storage import models
from service.storage.sql import SqlRepository

HEADER_KINDS = ("petition", "interview")
SELF = "本人"


def clean(name: str) -> str:
    return "".join((name or "").split())


def header_roles(kind: str, fields: dict) -> list[tuple[str, str, str | None, str | None]]:
    """``(name, role, position, unit)`` for each person a document's header names as its subject."""
    out = []
    if kind == "petition":
        for person in fields.get("reported") or []:
            if isinstance(person, dict) and person.get("name") and person["name"] != "匿名":
                out.append((person["name"], ROLE_REPORTED, person.get("position"), person.get("unit")))
    elif kind == "interview" and fields.get("interviewee"):
        out.append((fields["interviewee"], ROLE_INTERVIEWEE, fields.get("interviewee_position"), None))
    return out


def involvement(item: Counted, name: str) -> str:
    """How ``name`` is involved in the finding: 本人, or the relation the text gives (妻弟 …)."""
    for person in entities.persons_involved(item.finding.text, item.document.fields, entities=item.finding.entities,
                                            speaker=item.finding.speaker, kind=item.document.kind):
        if person.name == name and person.relation:
            return f"{person.relation}" + (f"（{person.of}的）" if person.of else "")
    return SELF


def person_profile(repository: SqlRepository, checklist: Checklist, name: str, scope: Scope, today: date,
                   thresholds: Thresholds = Thresholds()) -> PersonProfile:
    name = clean(name)
    documents: list[PersonDocument] = []
    rounds_wanted: set[int] = set()
    reporting: set[int] = set()
    if len(name) >= 2:
        query = (select(models.Document.id, models.Document.filename, models.Document.kind, models.Document.fields,
                        models.Document.year, models.Document.inspection_id)
                 .join(models.Inspection, models.Document.inspection_id == models.Inspection.id)
                 .where(*scope.conditions(), models.Document.kind.in_(HEADER_KINDS),
                        models.Document.text.contains(name, autoescape=True))
                 .order_by(models.Document.id))
        with repository.session() as session:
            rows = session.execute(query).all()
        for row in rows:
            fields = row.fields or {}
            for who, role, position, unit in header_roles(row.kind, fields):
                if who == name:
                    documents.append(PersonDocument(row.id, row.filename, row.kind, row.inspection_id, "", None, role,
                                                    position, unit, fields.get("date") if isinstance(
                                                        fields.get("date"), str) else None, row.year))
                    rounds_wanted.add(row.inspection_id)
                    if role == ROLE_REPORTED:
                        reporting.add(row.id)
        condition = models.Finding.text.contains(name, autoescape=True)
        if reporting:
            condition = or_(condition, models.Document.id.in_(sorted(reporting)))
        candidates = sources.counted(repository, scope, condition)
        matched = [c for c in candidates if name in persons_of(c.finding, c.document)]
        task_rows = [t for t in sources.tasks(repository, scope, today, thresholds,
                                              RectificationTask.person.contains(name, autoescape=True))
                     if name in names_in(t.person)]
    else:
        matched, task_rows = [], []
    rounds_wanted |= {c.document.inspection_id for c in matched} | {t.inspection_id for t in task_rows}
    rounds = sources.rounds(repository, scope, models.Inspection.id.in_(sorted(rounds_wanted))) if rounds_wanted else {}
    for document in documents:
        round_ = rounds.get(document.inspection_id)
        document.inspection, document.target_unit = (round_.name, round_.target_unit) if round_ else ("", None)
    findings = []
    for item in matched:
        found = sources.profile_finding(item, checklist, rounds.get(item.document.inspection_id),
                                        involvement(item, name), persons_of(item.finding, item.document))
        if found is not None:
            findings.append(found)
            rounds[found.inspection_id].findings += 1
    return PersonProfile(name, documents, findings, task_rows, list(rounds.values()), today)


@dataclass
class _Seen:
    roles: set[str] = field(default_factory=set)
    documents: set[int] = field(default_factory=set)
    findings: set[int] = field(default_factory=set)
    tasks: set[int] = field(default_factory=set)
    rounds: set[int] = field(default_factory=set)


def list_people(repository: SqlRepository, scope: Scope, today: date, thresholds: Thresholds = Thresholds(),
                query: str | None = None, limit: int = 200) -> tuple[list[PersonSummary], int]:
    """People the material in scope is about, most involved first; returns (the first ``limit``, how many)."""
    wanted = clean(query or "")
    seen: dict[str, _Seen] = defaultdict(_Seen)
    doc_query = (select(models.Document.id, models.Document.kind, models.Document.fields, models.Document.inspection_id)
                 .join(models.Inspection, models.Document.inspection_id == models.Inspection.id)
                 .where(*scope.conditions(), models.Document.kind.in_(HEADER_KINDS)))
    with repository.session() as session:
        units = {row.id: (row.target_unit or "").strip() for row in session.execute(
            select(models.Inspection.id, models.Inspection.target_unit).where(*scope.conditions()))}
        for row in session.execute(doc_query):
            for who, role, _, _ in header_roles(row.kind, row.fields or {}):
                entry = seen[who]
                entry.roles.add(role)
                entry.documents.add(row.id)
                entry.rounds.add(row.inspection_id)
    for item in sources.counted(repository, scope):
        for who in persons_of(item.finding, item.document):
            entry = seen[who]
            entry.roles.add(ROLE_FINDING)
            entry.findings.add(item.finding.id)
            entry.rounds.add(item.document.inspection_id)
    for task in sources.tasks(repository, scope, today, thresholds, RectificationTask.person.is_not(None)):
        for who in names_in(task.person):
            entry = seen[who]
            entry.roles.add(ROLE_RESPONSIBLE)
            entry.tasks.add(task.id)
            entry.rounds.add(task.inspection_id)
    order = [ROLE_REPORTED, ROLE_INTERVIEWEE, ROLE_FINDING, ROLE_RESPONSIBLE]
    out = [PersonSummary(who, [r for r in order if r in s.roles], len(s.documents), len(s.findings), len(s.tasks),
                         len(s.rounds), sorted({units[i] for i in s.rounds if units.get(i)}))
           for who, s in seen.items() if len(who) >= 2 and (not wanted or wanted in who)]
    out.sort(key=lambda p: (-(p.documents + p.findings + p.tasks), -p.rounds, p.name))
    return out[:limit], len(out)
