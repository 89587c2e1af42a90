"""Ids never reused, the change log written with each change, and search replicas that follow it
(issue 14 items 4 and 5, issue 12's change log): real SQLite files, real faiss, real embedder."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import delete, insert, select

from service import context
from service.search import build_search_service
from service.settings import get_settings
from service.storage.cases import CaseRecord, SqlCaseRepository
from service.storage.changes import IndexChange, text_hash

A_TEXT = "柳湾村会计孙某某挪用扶贫专项资金12万元用于个人炒股，至今没有归还。"
A_QUERY = "村会计挪用扶贫专项资金炒股"
B_TEXT = "县交通局副局长钱某某多次在高档酒店接受工程承包商宴请并收受购物卡。"
B_QUERY = "副局长接受工程承包商宴请收受购物卡"
C_TEXT = "镇财政所所长违规将防汛物资采购项目拆分后直接交给其妻弟经营的公司。"
C_QUERY = "防汛物资采购拆分交给妻弟的公司"


def _log(repository) -> list[tuple]:
    with repository.session() as session:
        return [(r.seq, r.collection, r.item_id, r.op, r.hash)
                for r in session.scalars(select(IndexChange).order_by(IndexChange.seq))]


def test_ids_of_deleted_documents_findings_and_cases_are_never_reused(xuncha_home, make_docx):
    ingestor = context.ingestor(tag=False)
    repository = ingestor.repository
    inspection = repository.ensure_inspection("一轮", "一组").id
    first = ingestor.ingest_path(make_docx(["材料", A_TEXT], "a.docx"), inspection).document_id
    newest = ingestor.ingest_path(make_docx(["材料", B_TEXT], "b.docx"), inspection).document_id
    deleted_findings = {f.id for f in repository.get_document(newest).findings}
    ingestor.delete(newest)
    again = ingestor.ingest_path(make_docx(["材料", C_TEXT], "c.docx"), inspection).document_id
    assert again not in (first, newest)
    assert not {f.id for f in repository.get_document(again).findings} & deleted_findings

    cases = SqlCaseRepository(repository)
    cases.upsert_cases([CaseRecord(0, "x-1", "某局长收受购物卡")])
    (old,) = [c.id for c in cases.list_cases() if c.external_id == "x-1"]
    cases.delete_cases(["x-1"])
    cases.upsert_cases([CaseRecord(0, "x-2", "某科长公车私用")])
    assert [c.id for c in cases.list_cases() if c.external_id == "x-2"] != [old]


def test_every_change_is_logged_with_the_hash_of_its_text_in_its_transaction(xuncha_home, make_docx):
    ingestor = context.ingestor(tag=False)
    repository = ingestor.repository
    inspection = repository.ensure_inspection("一轮", "一组").id
    document = ingestor.ingest_path(make_docx(["材料", A_TEXT], "a.docx"), inspection).document_id
    findings = repository.get_document(document).findings
    log = _log(repository)
    assert [(c, i, op, h) for _, c, i, op, h in log] == [("findings", f.id, "add", text_hash(f.text)) for f in findings]
    target = next(f for f in findings if "扶贫" in f.text)
    repository.add_feedback(target.id, target.text, "correct", ["C2-14"], "审核人")
    after_review = _log(repository)[len(log):]
    case_id = next(c.id for c in SqlCaseRepository(repository).list_cases() if c.finding_id == target.id)
    assert [(c, i, op) for _, c, i, op, _ in after_review] == [("findings", target.id, "add"), ("cases", case_id, "add")]
    seen = len(_log(repository))
    ingestor.delete(document)
    removed = _log(repository)[seen:]
    assert {(c, i, op) for _, c, i, op, _ in removed} == {("findings", f.id, "remove") for f in findings} | {
        ("cases", case_id, "remove")}
    assert all(h is None for *_, h in removed)
    assert [seq for seq, *_ in _log(repository)] == sorted({seq for seq, *_ in _log(repository)})


@pytest.fixture
def search_home(xuncha_home):
    yield xuncha_home
    context._search_services.clear()


def _service():
    return build_search_service(get_settings())


def test_a_replica_follows_the_log_and_restarts_check_every_hash(search_home, make_docx):
    ingestor = context.ingestor(tag=False)
    repository = ingestor.repository
    round_a = repository.ensure_inspection("甲轮", "甲组").id
    round_b = repository.ensure_inspection("乙轮", "乙组").id
    service = _service()
    a = ingestor.ingest_path(make_docx(["材料", A_TEXT], "a.docx"), round_a).document_id
    assert service.search(A_QUERY, 5, collection="findings")[0].meta["document_id"] == a  # applied before searching
    ingestor.delete(a)
    b = ingestor.ingest_path(make_docx(["材料", B_TEXT], "b.docx"), round_b).document_id
    b_texts = {f.id: f.text for f in repository.get_document(b).findings}

    def consistent(svc) -> None:
        for mode in ("hybrid", "vector", "keyword"):
            for hit in svc.search(A_QUERY, 10, collection="findings", mode=mode):
                assert hit.meta["document_id"] != a and "扶贫" not in hit.text
                assert mode == "vector" and hit.text == b_texts[hit.id] and hit.vector_score < 0.95
        top = svc.search(B_QUERY, 5, collection="findings", teams={"乙组"})[0]
        assert top.meta["document_id"] == b and top.text == b_texts[top.id]

    consistent(service)
    service.flush()
    consistent(_service())  # a restart: from the replica files, checked against the database

    # A text changed behind the log's back (a restored backup, ids reused before migration 0008):
    # the next start sees the hash differ and re-embeds it.
    (finding_id,) = [i for i, text in b_texts.items() if "购物卡" in text]
    with sqlite3.connect(search_home / "xuncha.db") as db:
        db.execute("update findings set text = ? where id = ?", (C_TEXT, finding_id))
    restarted = _service()
    hit = restarted.search(C_QUERY, 3, collection="findings", mode="vector")[0]
    assert hit.id == finding_id and hit.text == C_TEXT and hit.vector_score > 0.8
    for hit in restarted.search(B_QUERY, 5, collection="findings", mode="vector"):  # B's vector is gone
        assert hit.id != finding_id or (hit.text == C_TEXT and hit.vector_score < 0.95)


def test_a_change_committed_after_a_later_one_is_still_applied(search_home, make_docx):
    """PostgreSQL hands out sequence numbers before commit: a row may appear below the newest one
    a replica has already applied. The replica asks for the gap again until it appears."""
    ingestor = context.ingestor(tag=False)
    repository = ingestor.repository
    inspection = repository.ensure_inspection("一轮", "一组").id
    service = _service()
    service.catch_up()
    document = ingestor.ingest_path(make_docx(["材料", A_TEXT], "a.docx"), inspection).document_id
    with repository._sessions.begin() as session:  # the document's rows have not committed yet...
        late = [dict(seq=r.seq, collection=r.collection, item_id=r.item_id, op=r.op, hash=r.hash,
                     created_at=r.created_at)
                for r in session.scalars(select(IndexChange).where(IndexChange.seq > service.applied))]
        session.execute(delete(IndexChange).where(IndexChange.seq > service.applied))
        top = max(row["seq"] for row in late)
        # ...when a later change (numbered after them) commits
        session.execute(insert(IndexChange), [dict(late[0], seq=top + 1, collection="cases", item_id=10 ** 9,
                                                    op="remove", hash=None)])
    before = service.applied
    assert service.catch_up() == 1
    assert all(h.meta["document_id"] != document for h in service.search(A_QUERY, 5, collection="findings"))
    assert service.applied == before  # the gap is remembered
    with repository._sessions.begin() as session:  # the earlier transaction commits now
        session.execute(insert(IndexChange), late)
    hits = service.search(A_QUERY, 5, collection="findings")
    assert hits and hits[0].meta["document_id"] == document
    assert service.applied == top + 1


def test_searches_run_while_documents_come_and_go(search_home, make_docx):
    ingestor = context.ingestor(tag=False)
    inspection = ingestor.repository.ensure_inspection("一轮", "一组").id
    service = _service()
    service.catch_up()
    paths = [make_docx(["材料", f"{B_TEXT}（第{n}份）"], f"b{n}.docx") for n in range(4)]
    errors, done = [], threading.Event()

    def search() -> None:
        while not done.is_set():
            try:
                for hit in service.search(B_QUERY, 10, collection="findings", mode="keyword"):
                    stored = ingestor.repository.get_finding(hit.id)  # None: deleted since
                    assert stored is None or stored.text == hit.text
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)
                return

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for path in paths:
            document = ingestor.ingest_path(path, inspection).document_id
            service.catch_up()
            ingestor.delete(document)
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert errors == []
    assert service.search(B_QUERY, 10, collection="findings", mode="keyword") == []
