"""The SQL storage on a real PostgreSQL server: migrations to head (also over data written by older
revisions), the repository round trip, ids never reused, JSON columns, constraints, the index change
log and the append-only audit log."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from service.security.audit import AuditLog
from service.storage import NewDocument, NewFinding, models, open_repository
from service.storage.changes import IndexChange
from service.storage.sql import MIGRATIONS, _head_revisions, make_engine, migrate

FIELDS = {"complainant": "匿名", "reported": [{"name": "陈立国", "title": "镇党委书记"}], "amount": 468000.0,
          "nested": {"list": [1, 2.5, None, True], "引号": "含\"引号\"和\\反斜杠"}}
ENTITIES = [{"type": "person", "text": "陈立国", "start": 0, "end": 3}, {"type": "money", "value": 468000}]
TAGS = {"is_finding": True, "finding_score": 0.91, "labels": ["C2-14"], "focus": 2}


def _document(sha: str, findings: int = 2) -> NewDocument:
    return NewDocument(
        filename="举报信.docx", sha256=sha, size=3, media_type="docx", kind="petition", kind_score=0.9,
        kind_scores={"petition": 0.9, "minutes": 0.05}, fields=FIELDS, pages=1, encoding=None, ocr_pages=[1],
        warnings=["第 1 页没有文字层"], original_path=f"{sha[:2]}/{sha}.docx", text="陈立国发放补助",
        findings=[NewFinding(i, f"第{i}条：突击发放年终补助", 0, 4, 0, 4, 1, "田富贵", "statement", 1, ENTITIES,
                             TAGS if i == 0 else None) for i in range(findings)],
    )


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def test_migrations_reach_head_and_match_the_models(pg_url):
    repository = open_repository(pg_url)
    engine = repository.engine
    try:
        with engine.connect() as connection:
            heads = set(ScriptDirectory.from_config(_config(connection)).get_heads())
            assert {row[0] for row in connection.execute(text("select version_num from alembic_version"))} == heads
            from service.rectification import models as _rectification  # noqa: F401  (register tables)
            from service.storage import case_models, job_models, report_models, security_models  # noqa: F401

            assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
            triggers = {row[0] for row in connection.execute(text(
                "select tgname from pg_trigger where tgrelid = 'audit_log'::regclass and not tgisinternal"))}
            assert triggers == {"audit_log_append_only"}
            # ids come from sequences (never handed out twice), not from max(id) + 1
            for table in ("documents", "findings", "cases", "index_changes", "audit_log", "job_files"):
                column = "seq" if table == "index_changes" else "id"
                assert connection.execute(text(f"select pg_get_serial_sequence('{table}', '{column}')")).scalar()
        migrate(engine)  # at head: nothing to do, and idempotent
        open_repository(pg_url).engine.dispose()
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_one_after_the_other(pg_url):
    start = threading.Barrier(4)

    def start_up(_: int) -> set[str]:
        engine = make_engine(pg_url)
        try:
            start.wait()
            migrate(engine)
            with engine.connect() as connection:
                return {row[0] for row in connection.execute(text("select version_num from alembic_version"))}
        finally:
            engine.dispose()

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(start_up, range(4)))
    assert versions == [_head_revisions()] * 4  # every process finds the newest revision


def test_migrations_carry_data_written_by_older_revisions(pg_url):
    """0007 backfills years and the demo flag, 0008 adds the change log, 0010 moves job files out
    of JSON into rows: all over rows written at revision 0006."""
    engine = make_engine(pg_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), "0006")
            connection.execute(text(
                "insert into inspections (name, team, created_at) values "
                "('示例巡察（2024年第二轮）', '示例巡察组', now()), ('第一轮', '一组', now())"))
            connection.execute(text(
                "insert into documents (inspection_id, filename, sha256, size, media_type, kind, kind_score, "
                "kind_scores, kind_overridden, fields, pages, ocr_pages, warnings, original_path, text, created_at) "
                "values (2, 'a.docx', :sha, 1, 'docx', 'minutes', 0.9, '{}', false, :fields, 1, '[]', '[]', 'p', "
                "'会议记录', '2025-03-01T08:00:00+00:00')"),
                {"sha": "a" * 64, "fields": json.dumps({"date": "2023-06-03"})})
            connection.execute(text(
                "insert into findings (document_id, seq, text, start, \"end\", source_start, source_end, role, "
                "entities) values (1, 0, '不用招标了', 0, 5, 0, 5, 'statement', '[]')"))
            files = [{"index": 0, "filename": "a.docx", "size": 10, "status": "added", "document_id": 1,
                      "kind": "minutes", "pages": 1, "findings": 1, "warnings": ["警告"]},
                     {"index": 1, "filename": "b.pdf", "size": 20, "status": "queued"}]
            connection.execute(text(
                "insert into jobs (id, inspection_id, status, retryable, total, processed, files, created_at) "
                "values ('j1', 2, 'running', false, 2, 1, :files, now())"),
                {"files": json.dumps(files, ensure_ascii=False)})
        migrate(engine)
        with engine.connect() as connection:
            assert connection.execute(text("select year from documents where id = 1")).scalar() == 2023
            demo = dict(connection.execute(text("select name, demo from inspections")).all())
            assert demo == {"示例巡察（2024年第二轮）": True, "第一轮": False}
            rows = connection.execute(text(
                "select idx, filename, status, document_id, warnings, finished_at is not null "
                "from job_files where job_id = 'j1' order by idx")).all()
            assert [tuple(r) for r in rows] == [(0, "a.docx", "added", 1, ["警告"], True),
                                                (1, "b.pdf", "queued", None, [], False)]
        repository = open_repository(pg_url)
        assert [f.text for f in repository.get_document(1).findings] == ["不用招标了"]
        repository.engine.dispose()
    finally:
        engine.dispose()


def test_migrations_go_down_to_nothing_and_up_again(pg_url):
    engine = make_engine(pg_url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            command.downgrade(_config(connection), "base")
        with engine.connect() as connection:
            left = connection.execute(text(
                "select tablename from pg_tables where schemaname = 'public' and tablename <> 'alembic_version'"))
            assert left.all() == []
            assert connection.execute(text("select count(*) from pg_proc where proname = 'audit_log_append_only'")
                                      ).scalar() == 0
        migrate(engine)
        assert open_repository(pg_url).list_documents() == []
    finally:
        engine.dispose()


def test_repository_round_trip_and_ids_never_reused(pg_url):
    repository = open_repository(pg_url)
    try:
        one = repository.ensure_inspection("第二轮", "一组", target_unit="青石镇")
        assert repository.ensure_inspection("第二轮", "一组").id == one.id
        two = repository.ensure_inspection("第二轮", "二组")
        first = repository.add_document(one.id, _document("a" * 64))
        second = repository.add_document(one.id, _document("b" * 64, findings=3))
        repository.add_document(two.id, _document("a" * 64))  # the same file in another team's round

        detail = repository.get_document(second)
        assert detail.fields == FIELDS and detail.kind_scores == {"petition": 0.9, "minutes": 0.05}
        assert detail.ocr_pages == [1] and detail.warnings == ["第 1 页没有文字层"]
        assert [f.entities for f in detail.findings] == [ENTITIES] * 3
        assert detail.findings[0].tags == TAGS and detail.findings[1].tags is None
        assert detail.created_at.utcoffset() is not None and detail.created_at.utcoffset().total_seconds() == 0
        assert [d.id for d in repository.list_documents(team="一组")] == [first, second]
        assert [d.finding_count for d in repository.list_documents(inspection_id=one.id)] == [2, 3]
        assert [d.flagged_count for d in repository.list_documents(inspection_id=one.id)] == [1, 1]  # JSON path on PG
        assert detail.flagged_count == 1
        assert repository.inspection_counts() == {one.id: (2, 5), two.id: (1, 2)}
        assert repository.find_document(one.id, "b" * 64) == second

        with pytest.raises(IntegrityError):  # one file once per round
            repository.add_document(one.id, _document("a" * 64))

        finding = detail.findings[0].id
        repository.add_feedback(finding, "突击发放年终补助", "confirm", ["C2-14"], "张三")
        assert repository.get_document(second).findings[0].review["items"] == ["C2-14"]

        old_findings = [f.id for f in detail.findings]
        assert repository.delete_document(second) == "bb/" + "b" * 64 + ".docx"
        assert repository.get_document(second) is None
        with repository.session() as session:
            assert session.scalars(select(models.Finding.id).where(models.Finding.id.in_(old_findings))).all() == []
            feedback = session.scalars(select(models.TagFeedback)).one()
            assert feedback.finding_id is None and feedback.text == "突击发放年终补助"  # kept for training
            removed = session.execute(select(IndexChange.collection, IndexChange.item_id)
                                      .where(IndexChange.op == "remove").order_by(IndexChange.seq)).all()
            # the confirmed finding's prior case is withdrawn with it
            assert sorted(i for c, i in removed if c == "findings") == sorted(old_findings)
            assert [c for c, _ in removed].count("cases") == 1

        third = repository.add_document(one.id, _document("c" * 64, findings=3))
        assert third > second
        assert min(f.id for f in repository.get_document(third).findings) > max(old_findings)

        assert repository.delete_inspection(two.id)
        assert [d.id for d in repository.list_documents()] == [first, third]
    finally:
        repository.engine.dispose()


def test_timestamps_come_back_in_utc_whatever_the_server_time_zone(pg_url):
    admin = make_engine(pg_url)
    with admin.connect() as connection:
        connection.execute(text(f"alter database \"{make_url(pg_url).database}\" set timezone = 'Asia/Shanghai'"))
        connection.commit()
    admin.dispose()
    repository = open_repository(pg_url)
    try:
        inspection = repository.ensure_inspection("第二轮", "一组")
        stored = repository.get_inspection(inspection.id).created_at
        assert stored.tzinfo is not None and stored.utcoffset().total_seconds() == 0
        assert stored.astimezone(timezone.utc) == inspection.created_at.astimezone(timezone.utc)
    finally:
        repository.engine.dispose()


def test_audit_log_refuses_update_and_delete(pg_url):
    repository = open_repository(pg_url)
    engine = repository.engine
    try:
        log = AuditLog(engine)
        log.append("documents.read", "ok", user_id=1, user_name="张三", object_type="document", object_id=7,
                   client="127.0.0.1")
        for statement in ("update audit_log set outcome = 'denied'", "delete from audit_log",
                          "update audit_log set user_name = null where id = 1"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as connection:
                    connection.execute(text(statement))
        log.append("documents.read", "denied", user_name="李四")
        assert [(e.user_name, e.outcome) for e in log.entries()] == [("李四", "denied"), ("张三", "ok")]
    finally:
        engine.dispose()
