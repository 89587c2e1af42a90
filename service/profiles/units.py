"""Unit profiles (单位画像): every round that inspected a unit, its findings, the findings of other
rounds whose material names it, and the rectification of its problems, within a team scope."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import func, or_, select

from nlp.checklist import Checklist
from service.analysis.service import unit_type
from service.profiles import sources
from service.profiles.models import FOUND_IN_ROUND, MENTIONED, UnitProfile, UnitSummary
from service.profiles.sources import Scope
from service.rectification.models import RectificationTask
from service.rectification.warnings import Thresholds
from service.reports.evidence import EVIDENCE_KIND, effective_items
from service.reports.wording import persons_of
from service.storage import models
from service.storage.sql import SqlRepository, latest_reviews

MENTION_LIMIT = 100
MIN_MENTION_CHARS = 3
"""A unit named with fewer characters (“某局”) is too vague to look for in other rounds' text."""


def clean(unit: str) -> str:
    return " ".join((unit or "").split())


def unit_profile(repository: SqlRepository, checklist: Checklist, unit: str, scope: Scope, today: date,
                 thresholds: Thresholds = Thresholds()) -> UnitProfile:
    """The profile of ``unit`` (the inspected unit's name as rounds record it) as ``scope`` sees it."""
    unit = clean(unit)
    rounds = sources.rounds(repository, scope, models.Inspection.target_unit == unit)
    own = sources.counted(repository, scope, models.Document.inspection_id.in_(sorted(rounds))) if rounds else []
    findings = []
    for item in own:
        found = sources.profile_finding(item, checklist, rounds[item.document.inspection_id], FOUND_IN_ROUND,
                                        persons_of(item.finding, item.document))
        if found is not None:
            findings.append(found)
            rounds[found.inspection_id].findings += 1
    limited = False
    if len(unit) >= MIN_MENTION_CHARS:
        mentions = sources.counted(repository, scope, models.Finding.text.contains(unit, autoescape=True),
                                   or_(models.Inspection.target_unit.is_(None), models.Inspection.target_unit != unit),
                                   limit=MENTION_LIMIT)
        limited = len(mentions) > MENTION_LIMIT
        other = sources.rounds(repository, scope, models.Inspection.id.in_(
            sorted({m.document.inspection_id for m in mentions}))) if mentions else {}
        for item in mentions[:MENTION_LIMIT]:
            found = sources.profile_finding(item, checklist, other.get(item.document.inspection_id), MENTIONED,
                                            persons_of(item.finding, item.document))
            if found is not None:
                findings.append(found)
    condition = RectificationTask.unit == unit
    if rounds:
        condition = or_(condition, RectificationTask.inspection_id.in_(sorted(rounds)))
    tasks = sources.tasks(repository, scope, today, thresholds, condition)
    return UnitProfile(unit, unit_type(unit), list(rounds.values()), findings, tasks, today, limited)


def list_units(repository: SqlRepository, scope: Scope, today: date, thresholds: Thresholds = Thresholds(),
               query: str | None = None) -> list[UnitSummary]:
    """Every unit a round in scope inspected or a task names as 责任单位, with counts (most rounds first)."""
    wanted = clean(query or "")
    rounds: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with repository.session() as session:
        for row in session.execute(select(models.Inspection.id, models.Inspection.name, models.Inspection.target_unit)
                                   .where(*scope.conditions()).order_by(models.Inspection.id)):
            unit = clean(row.target_unit or "")
            if unit:
                rounds[unit].append((row.id, row.name))
        finding_rows = session.execute(
            select(models.Finding.id, models.Finding.tags, models.Inspection.target_unit)
            .join(models.Document, models.Finding.document_id == models.Document.id)
            .join(models.Inspection, models.Document.inspection_id == models.Inspection.id)
            .where(*scope.conditions(), models.Document.kind != EVIDENCE_KIND,
                   func.coalesce(models.Inspection.target_unit, "") != "")).all()
        verdicts = latest_reviews(session, [r.id for r in finding_rows])
    findings = Counter()
    for row in finding_rows:
        verdict = verdicts.get(row.id)
        items, _ = effective_items(row.tags, verdict and (verdict["action"], verdict["items"]))
        if items:
            findings[clean(row.target_unit)] += 1
    all_tasks = sources.tasks(repository, scope, today, thresholds)
    round_units = {i: unit for unit, rs in rounds.items() for i, _ in rs}
    tasks: dict[str, dict[int, object]] = defaultdict(dict)
    for task in all_tasks:
        for unit in {round_units.get(task.inspection_id), clean(task.unit or "") or None}:
            if unit:
                tasks[unit][task.id] = task
    out = []
    for unit in set(rounds) | set(tasks):
        if wanted and wanted not in unit:
            continue
        own = list(tasks[unit].values())
        out.append(UnitSummary(unit, unit_type(unit), len(rounds[unit]), findings[unit], len(own),
                               sum(t.status != "closed" for t in own), sum(t.warning == "red" for t in own),
                               rounds[unit][-1][1] if rounds[unit] else None))
    return sorted(out, key=lambda u: (-u.rounds, -u.findings, u.unit))
