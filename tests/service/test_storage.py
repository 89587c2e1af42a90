import sqlite3

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select

from service.storage import NewDocument, NewFinding, open_repository
from service.storage import models
from service.storage.sql import MIGRATIONS


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _document(sha: str = "a" * 64) -> NewDocument:
    return NewDocument(
        filename="x.txt", sha256=sha, size=3, media_type="text", kind="petition", kind_score=0.9,
        kind_scores={"petition": 0.9}, fields={"complainant": "匿名"}, pages=1, encoding="gbk", ocr_pages=[],
        warnings=[], original_path=f"{sha[:2]}/{sha}.txt", text="举报某某",
        findings=[NewFinding(0, "举报某某", 0, 4, 0, 4, None, None, "statement", None, [])],
    )


def test_migrations_create_the_schema_in_a_real_sqlite_file(tmp_path):
    repository = open_repository(f"sqlite:///{tmp_path / 'x.db'}")
    connection = sqlite3.connect(tmp_path / "x.db")
    tables = {row[0] for row in connection.execute("select name from sqlite_master where type='table'")}
    assert {"inspections", "documents", "findings", "tag_feedback", "alembic_version"} <= tables
    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())  # revisions off one parent: all applied
    assert {row[0] for row in connection.execute("select version_num from alembic_version")} == heads
    open_repository(f"sqlite:///{tmp_path / 'x.db'}")  # idempotent on an existing database
    assert repository.list_documents() == []


def test_inspections_are_scoped_by_team(tmp_path):
    repository = open_repository(f"sqlite:///{tmp_path / 'x.db'}")
    a = repository.ensure_inspection("第二轮", "一组")
    b = repository.ensure_inspection("第二轮", "二组")
    assert a.id != b.id
    assert repository.ensure_inspection("第二轮", "一组").id == a.id
    assert [i.team for i in repository.list_inspections(team="二组")] == ["二组"]


def test_delete_removes_the_findings_too(tmp_path):
    repository = open_repository(f"sqlite:///{tmp_path / 'x.db'}")
    inspection = repository.ensure_inspection("第二轮", "一组")
    document_id = repository.add_document(inspection.id, _document())
    assert repository.get_document(document_id).finding_count == 1
    assert repository.delete_document(document_id) == "aa/" + "a" * 64 + ".txt"
    with repository.session() as session:
        assert session.scalars(select(models.Finding)).all() == []
    assert repository.get_document(document_id) is None
    assert repository.delete_document(document_id) is None


def test_documents_count_the_findings_flagged_as_suspected_problems(tmp_path):
    """The tagger's flags are counted in SQL for the list and from the rows for one document; a
    document whose findings carry no tags has no count (not 0)."""
    repository = open_repository(f"sqlite:///{tmp_path / 'x.db'}")
    inspection = repository.ensure_inspection("第二轮", "一组")
    tagged = _document("b" * 64)
    tagged.findings = [NewFinding(i, "举报某某", 0, 4, 0, 4, None, None, "statement", None, [], tags)
                       for i, tags in enumerate([{"is_finding": True}, {"is_finding": False}, None,
                                                 {"is_finding": True, "labels": ["C2-01"]}])]
    tagged_id = repository.add_document(inspection.id, tagged)
    untagged_id = repository.add_document(inspection.id, _document())
    listed = {d.id: d for d in repository.list_documents()}
    assert (listed[tagged_id].finding_count, listed[tagged_id].flagged_count) == (4, 2)
    assert (listed[untagged_id].finding_count, listed[untagged_id].flagged_count) == (1, None)
    assert repository.get_document(tagged_id).flagged_count == 2
    assert repository.get_document(untagged_id).flagged_count is None


def test_documents_filtered_by_team(tmp_path):
    repository = open_repository(f"sqlite:///{tmp_path / 'x.db'}")
    one = repository.ensure_inspection("第二轮", "一组")
    two = repository.ensure_inspection("第二轮", "二组")
    repository.add_document(one.id, _document("a" * 64))
    repository.add_document(two.id, _document("b" * 64))
    assert [d.team for d in repository.list_documents(team="一组")] == ["一组"]
    assert len(repository.list_documents(inspection="第二轮")) == 2
