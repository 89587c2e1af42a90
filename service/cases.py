"""Prior cases: the shipped corpus, JSONL imports and findings confirmed by reviewers."""

from __future__ import annotations

import json
from pathlib import Path

from nlp.checklist import Checklist
from service.storage.cases import CaseRecord, CaseRepository, SqlCaseRepository, sync_review_case
from service.storage.sql import SqlRepository

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpora" / "cases"
KNOWN_KEYS = {"id", "text", "unit", "unit_type", "checklist", "disposal", "sanction", "year", "inspection",
              "team", "source"}


class CaseImportError(ValueError):
    pass


def parse_cases(lines: list[str], checklist: Checklist, source_name: str, origin: str) -> list[CaseRecord]:
    """Validate JSONL case lines; every problem is reported with its line number, in Chinese."""
    records, problems, seen = [], [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"第 {number} 行不是合法的 JSON（{error.msg}）")
            continue
        if not isinstance(row, dict) or not str(row.get("id", "")).strip() or not str(row.get("text", "")).strip():
            problems.append(f"第 {number} 行缺少 id 或 text")
            continue
        identifier = str(row["id"]).strip()
        if identifier in seen:
            problems.append(f"第 {number} 行的 id 重复：{identifier}")
            continue
        seen.add(identifier)
        items = row.get("checklist") or []
        unknown = [i for i in items if i not in checklist]
        if unknown:
            problems.append(f"第 {number} 行引用了不存在的清单条目：{'、'.join(unknown)}")
            continue
        year = row.get("year")
        records.append(CaseRecord(
            id=0, external_id=identifier, text=str(row["text"]).strip(), unit=row.get("unit"),
            unit_type=row.get("unit_type"), checklist=checklist.resolve_all(items), disposal=row.get("disposal"),
            sanction=row.get("sanction"), year=int(year) if str(year or "").isdigit() else None,
            inspection=row.get("inspection"), team=row.get("team"), source=row.get("source"), origin=origin,
            extra={k: v for k, v in row.items() if k not in KNOWN_KEYS},
        ))
    if problems:
        shown = "；".join(problems[:10]) + ("……" if len(problems) > 10 else "")
        raise CaseImportError(f"{source_name} 有 {len(problems)} 处错误，未导入任何案例：{shown}")
    return records


def import_file(path: Path, store: CaseRepository, checklist: Checklist, origin: str = "import") -> tuple[int, int]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise CaseImportError(f"{path.name} 不是 UTF-8 编码的 JSONL 文件") from None
    return store.upsert_cases(parse_cases(lines, checklist, path.name, origin))


def load_corpus(store: CaseRepository, checklist: Checklist, directory: Path = CORPUS_DIR) -> tuple[int, int]:
    """Make sure the shipped prior cases are stored (idempotent)."""
    added = updated = 0
    for path in sorted(directory.glob("*.jsonl")):
        a, u = import_file(path, store, checklist, origin="corpus")
        added, updated = added + a, updated + u
    return added, updated


def reviewed_findings_as_cases(repository: SqlRepository, store: SqlCaseRepository) -> int:
    """Backfill: the case of every reviewed finding follows its latest verdict, and the cases of
    findings that are gone are withdrawn. Reviews make and withdraw their cases themselves
    (:func:`service.storage.cases.sync_review_case`); this catches up data stored by versions
    that did it on search. Returns the number of orphaned cases withdrawn."""
    finding_ids = sorted({row.finding_id for row in repository.list_feedback() if row.finding_id is not None})
    with repository._sessions.begin() as session:
        for finding_id in finding_ids:
            sync_review_case(session, finding_id)
    return store.withdraw_orphans()
