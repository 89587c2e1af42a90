"""The SQL implementation of :class:`~service.storage.repository.Repository` (SQLite by default)."""

from __future__ import annotations

import ast
import os
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, fields as dataclass_fields
from pathlib import Path
from typing import Iterator

from sqlalchemy import case, create_engine, delete, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.storage import models
from service.storage.case_models import Case
from service.storage.changes import ADD, REMOVE, log_changes
from service.storage.records import (
    DocumentDetail,
    DocumentSummary,
    FeedbackRecord,
    FindingRecord,
    InspectionRecord,
    NewDocument,
    NewFinding,
    flagged_count,
)
from service.storage.years import document_year

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_MIGRATION_LOCK = 0x78756E6368  # PostgreSQL advisory lock key held while migrating ("xunch")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _postgres_session(dbapi_connection, _record) -> None:
    """Timestamps come back in UTC whatever the server's or database's time zone (as SQLite stores them)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET outside any transaction, so no rollback undoes it
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url not in ("sqlite:///", "sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # owner-only; SQLite gives -wal/-shm the same mode
        os.chmod(path, 0o600)
    if url.startswith("sqlite"):
        # hide_parameters: error messages must never carry document text into logs.
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server: connections it dropped (restart, idle timeout) are replaced instead of failing a request.
    engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_session)
    return engine


_HEADS_LOCK = threading.Lock()


def _head_revisions() -> set[str] | None:
    """The heads of the revision files (read with ``ast``, without importing Alembic), or None when
    a file cannot be read that way (then Alembic decides). One thread at a time: CPython 3.11's
    ``ast.parse`` can fail with "AST constructor recursion depth mismatch" when threads parse at once."""
    with _HEADS_LOCK:
        return _read_head_revisions()


def _read_head_revisions() -> set[str] | None:
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values = {}
        try:
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
                    node.target if isinstance(node, ast.AnnAssign) else None
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision", "depends_on"):
                    values[target.id] = ast.literal_eval(node.value)
        except (SyntaxError, ValueError, OSError):
            return None
        if not isinstance(values.get("revision"), str) or values.get("depends_on"):
            return None
        down = values.get("down_revision")
        revisions.add(values["revision"])
        parents.update([down] if isinstance(down, str) else down or ())
    return revisions - parents


def _at_heads(engine: Engine) -> bool:
    """Whether the database is already at every head (the common case: nothing to migrate, and
    Alembic, ~0.5 s to import and run, is not loaded at all)."""
    heads = _head_revisions()
    if not heads:
        return False
    try:
        with engine.connect() as connection:
            current = {row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")}
    except Exception:  # noqa: BLE001 - no version table yet (a new database): migrate
        return False
    return current == heads


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (no-op, without Alembic, when it is there).

    On SQLite the migrations run with foreign keys off (SQLite's documented procedure for table
    rebuilds: a batch migration drops the old table, which with foreign keys on would cascade-delete
    or null every row pointing at it) and the keys are checked before the transaction commits."""
    if _at_heads(engine):
        return
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with _sqlite_migration_lock(engine) if sqlite else nullcontext():
        if sqlite and _at_heads(engine):
            return  # another process migrated while this one waited
        _upgrade(engine, config, sqlite)


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Processes starting together on one SQLite file (``xuncha serve`` and ``xuncha worker``, a CLI
    command) migrate one after the other: an ``flock`` on a file beside the database (SQLite's own
    locking does not cover the checks Alembic makes before it writes: the second failed with
    "table inspections already exists")."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    path = Path(database)
    descriptor = os.open(path.with_name(f".{path.name}.migrate.lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # drops the lock


def _upgrade(engine: Engine, config, sqlite: bool) -> None:
    from alembic import command

    with engine.connect() as connection:
        if sqlite:  # outside any transaction, or SQLite ignores it
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    # Several processes starting on one database migrate one after the other (DDL is
                    # transactional there: the later ones find the schema at head and do nothing).
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"数据库迁移后外键检查失败（{len(broken)} 处），已回滚")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def open_repository(url: str) -> SqlRepository:
    engine = make_engine(url)
    migrate(engine)
    return SqlRepository(engine)


def _inspection(row: models.Inspection) -> InspectionRecord:
    return InspectionRecord(row.id, row.name, row.team, row.target_unit, row.created_at, bool(row.demo))


_FINDING_FIELDS = [f.name for f in dataclass_fields(NewFinding)]


def finding_record(row: models.Finding, review: dict | None = None) -> FindingRecord:
    return FindingRecord(**{k: getattr(row, k) for k in _FINDING_FIELDS}, id=row.id, document_id=row.document_id,
                         review=review)


def latest_reviews(session: Session, finding_ids: list[int]) -> dict[int, dict]:
    """Each finding's latest reviewer verdict: action, items, reviewer, at."""
    latest: dict[int, dict] = {}
    for start in range(0, len(finding_ids), 900):  # stays under SQLite's bound-parameter limit
        chunk = finding_ids[start:start + 900]
        rows = session.scalars(select(models.TagFeedback).where(models.TagFeedback.finding_id.in_(chunk))
                               .order_by(models.TagFeedback.id))
        for row in rows:  # later verdicts overwrite earlier ones
            latest[row.finding_id] = {"action": row.action, "items": row.items, "reviewer": row.reviewer,
                                      "at": row.created_at.isoformat()}
    return latest


def _log_findings(session: Session, op: str, where) -> list[int]:
    """Log ``op`` for the findings of the documents matching ``where``; returns their ids."""
    rows = session.execute(select(models.Finding.id, models.Finding.text).join(models.Document).where(where)).all()
    log_changes(session, "findings", op, ((i, None if op == REMOVE else text) for i, text in rows))
    return [i for i, _ in rows]


def _delete_cases(session: Session, where) -> int:
    """Delete the prior cases matching ``where`` and log their removal."""
    ids = list(session.scalars(select(Case.id).where(where)))
    if ids:
        session.execute(delete(Case).where(Case.id.in_(ids)))
        log_changes(session, "cases", REMOVE, ((i, None) for i in ids))
    return len(ids)


def _withdraw_findings(session: Session, where) -> None:
    """Before the findings of the documents matching ``where`` are deleted: log their removal and
    withdraw the prior cases made when they were reviewed (the reviews stay, for training)."""
    finding_ids = _log_findings(session, REMOVE, where)
    for start in range(0, len(finding_ids), 900):
        _delete_cases(session, (Case.origin == "review") & Case.finding_id.in_(finding_ids[start:start + 900]))


class SqlRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def ensure_inspection(self, name: str, team: str, target_unit: str | None = None,
                          demo: bool = False) -> InspectionRecord:
        """The round called ``name`` of ``team``, created if missing (``demo`` marks it as demo material)."""
        try:
            return self._ensure_inspection(name, team, target_unit, demo)
        except IntegrityError:  # another writer created it between our read and our insert: it exists now
            return self._ensure_inspection(name, team, target_unit, demo)

    def _ensure_inspection(self, name: str, team: str, target_unit: str | None, demo: bool) -> InspectionRecord:
        with self._sessions.begin() as session:
            row = session.scalar(select(models.Inspection).where(
                models.Inspection.name == name, models.Inspection.team == team))
            if row is None:
                row = models.Inspection(name=name, team=team, target_unit=target_unit, demo=demo)
                session.add(row)
                session.flush()
            elif demo and not row.demo:
                row.demo = True
                _log_findings(session, ADD, models.Document.inspection_id == row.id)  # searched as demo now
            return _inspection(row)

    def list_inspections(self, team: str | None = None) -> list[InspectionRecord]:
        with self.session() as session:
            query = select(models.Inspection).order_by(models.Inspection.id)
            if team is not None:
                query = query.where(models.Inspection.team == team)
            return [_inspection(row) for row in session.scalars(query)]

    def inspection_counts(self) -> dict[int, tuple[int, int]]:
        """Per inspection id: (documents, findings)."""
        query = (select(models.Document.inspection_id, func.count(func.distinct(models.Document.id)),
                        func.count(models.Finding.id))
                 .outerjoin(models.Finding, models.Finding.document_id == models.Document.id)
                 .group_by(models.Document.inspection_id))
        with self.session() as session:
            return {row[0]: (row[1], row[2]) for row in session.execute(query)}

    def find_inspections(self, reference: str, team: str | None = None) -> list[InspectionRecord]:
        """Rounds matching ``reference``: its id (digits) or its exact name (possibly in several teams)."""
        reference = reference.strip()
        with self.session() as session:
            query = select(models.Inspection).order_by(models.Inspection.id)
            if team is not None:
                query = query.where(models.Inspection.team == team)
            by_name = [_inspection(r) for r in session.scalars(query.where(models.Inspection.name == reference))]
            if by_name or not reference.isdigit():
                return by_name
            row = session.get(models.Inspection, int(reference))
            return [_inspection(row)] if row is not None and team in (None, row.team) else []

    def delete_inspection(self, inspection_id: int) -> bool:
        """Delete a round row with its reviews and the prior cases made from them (its report draft and
        jobs go with it). Delete its documents first through the document-deletion path, which also
        removes their originals; :func:`service.rounds.delete_inspection` does both."""
        self.purge_inspection_reviews(inspection_id)
        with self._sessions.begin() as session:
            row = session.get(models.Inspection, inspection_id)
            if row is None:
                return False
            _withdraw_findings(session, models.Document.inspection_id == inspection_id)  # the cascade's
            session.delete(row)
            return True

    def purge_inspection_reviews(self, inspection_id: int) -> int:
        """Delete the reviews of a round's findings and the prior cases made from them."""
        with self._sessions.begin() as session:
            finding_ids = select(models.Finding.id).join(models.Document).where(
                models.Document.inspection_id == inspection_id)
            _delete_cases(session, Case.finding_id.in_(finding_ids))
            purged = session.execute(delete(models.TagFeedback).where(
                models.TagFeedback.finding_id.in_(finding_ids))).rowcount or 0
            if purged:  # their reviews are gone: rejected findings are candidates again
                _log_findings(session, ADD, models.Document.inspection_id == inspection_id)
            return purged

    def get_inspection(self, inspection_id: int) -> InspectionRecord | None:
        with self.session() as session:
            row = session.get(models.Inspection, inspection_id)
            return _inspection(row) if row is not None else None

    def find_document(self, inspection_id: int, sha256: str) -> int | None:
        with self.session() as session:
            return session.scalar(select(models.Document.id).where(
                models.Document.inspection_id == inspection_id, models.Document.sha256 == sha256))

    def add_document(self, inspection_id: int, document: NewDocument) -> int:
        values = asdict(document)
        findings = values.pop("findings")
        if values.get("year") is None:
            values["year"] = document_year(values["fields"], values["text"], values["kind"])
        with self._sessions.begin() as session:
            row = models.Document(inspection_id=inspection_id, **values)
            row.findings = [models.Finding(**finding) for finding in findings]
            session.add(row)
            session.flush()
            log_changes(session, "findings", ADD, ((f.id, f.text) for f in row.findings))
            return row.id

    def list_documents(self, inspection: str | None = None, team: str | None = None, *,
                       inspection_id: int | None = None, kind: str | None = None) -> list[DocumentSummary]:
        flag = models.Finding.tags["is_finding"].as_boolean()
        counts = (select(models.Finding.document_id, func.count().label("n"), func.count(flag).label("tagged"),
                         func.sum(case((flag, 1), else_=0)).label("flagged"))
                  .group_by(models.Finding.document_id).subquery())
        query = (select(models.Document, models.Inspection, func.coalesce(counts.c.n, 0), counts.c.tagged,
                        counts.c.flagged)
                 .join(models.Inspection).outerjoin(counts, counts.c.document_id == models.Document.id)
                 .order_by(models.Document.id))
        if inspection is not None:
            query = query.where(models.Inspection.name == inspection)
        if team is not None:
            query = query.where(models.Inspection.team == team)
        if inspection_id is not None:
            query = query.where(models.Document.inspection_id == inspection_id)
        if kind is not None:
            query = query.where(models.Document.kind == kind)
        with self.session() as session:
            return [self._summary(doc, insp, count, int(flagged) if tagged else None)
                    for doc, insp, count, tagged, flagged in session.execute(query)]

    @staticmethod
    def _summary(doc: models.Document, inspection: models.Inspection, count: int,
                 flagged: int | None) -> DocumentSummary:
        year = doc.year if doc.year is not None else document_year(doc.fields, doc.text, doc.kind, doc.created_at)
        return DocumentSummary(doc.id, inspection.name, inspection.team, doc.filename, doc.kind,
                               doc.kind_score, doc.pages, count, doc.created_at, inspection.id, year,
                               bool(inspection.demo), flagged)

    def get_document(self, document_id: int) -> DocumentDetail | None:
        with self.session() as session:
            doc = session.get(models.Document, document_id)
            if doc is None:
                return None
            summary = self._summary(doc, doc.inspection, len(doc.findings),
                                    flagged_count(f.tags for f in doc.findings))
            reviews = latest_reviews(session, [f.id for f in doc.findings])
            findings = [finding_record(f, reviews.get(f.id)) for f in doc.findings]
            return DocumentDetail(
                **asdict(summary), sha256=doc.sha256, size=doc.size, media_type=doc.media_type,
                kind_scores=doc.kind_scores, kind_overridden=doc.kind_overridden, fields=doc.fields,
                encoding=doc.encoding, ocr_pages=doc.ocr_pages, warnings=doc.warnings,
                original_path=doc.original_path, text=doc.text, findings=findings, updated_at=doc.updated_at,
            )

    def set_document_kind(self, document_id: int, kind: str, fields: dict, year: int | None) -> bool:
        """Store a corrected kind with its re-extracted fields and year; the findings stay as they are."""
        with self._sessions.begin() as session:
            doc = session.get(models.Document, document_id)
            if doc is None:
                return False
            doc.kind, doc.kind_overridden, doc.fields = kind, True, fields
            doc.year = year if year is not None else doc.created_at.year
            doc.updated_at = models.utcnow()
            log_changes(session, "findings", ADD, ((f.id, f.text) for f in doc.findings))  # kind, year
            return True

    def delete_document(self, document_id: int) -> str | None:
        with self._sessions.begin() as session:
            doc = session.get(models.Document, document_id)
            if doc is None:
                return None
            path = doc.original_path
            _withdraw_findings(session, models.Document.id == document_id)
            session.delete(doc)
            return path

    def inspection_findings(self, inspection_id: int) -> list[tuple[FindingRecord, str, str]]:
        """Every finding of a round with its latest review, as (finding, filename, document kind),
        in document then text order."""
        query = (select(models.Finding, models.Document.filename, models.Document.kind)
                 .join(models.Document).where(models.Document.inspection_id == inspection_id)
                 .order_by(models.Document.id, models.Finding.start, models.Finding.id))
        with self.session() as session:
            rows = session.execute(query).all()
            reviews = latest_reviews(session, [row[0].id for row in rows])
            return [(finding_record(f, reviews.get(f.id)), filename, kind) for f, filename, kind in rows]

    def original_in_use(self, original_path: str) -> bool:
        with self.session() as session:
            return session.scalar(select(func.count()).where(models.Document.original_path == original_path)) > 0

    def get_finding(self, finding_id: int) -> FindingRecord | None:
        with self.session() as session:
            f = session.get(models.Finding, finding_id)
            if f is None:
                return None
            return finding_record(f)

    def add_feedback(self, finding_id: int | None, text: str, action: str, items: list[str], reviewer: str) -> int:
        from service.storage.cases import sync_review_case

        with self._sessions.begin() as session:
            row = models.TagFeedback(finding_id=finding_id, text=text, action=action, items=items, reviewer=reviewer)
            session.add(row)
            session.flush()
            if finding_id is not None:
                finding = session.get(models.Finding, finding_id)
                if finding is not None:  # its items (or its rejection) change what search shows
                    log_changes(session, "findings", ADD, [(finding.id, finding.text)])
                sync_review_case(session, finding_id)
            return row.id

    def list_feedback(self) -> list[FeedbackRecord]:
        with self.session() as session:
            rows = session.scalars(select(models.TagFeedback).order_by(models.TagFeedback.id))
            return [FeedbackRecord(r.id, r.finding_id, r.text, r.action, r.items, r.reviewer, r.created_at)
                    for r in rows]
