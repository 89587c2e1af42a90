import sqlite3
from pathlib import Path

import pytest

from conftest import MINUTES_LINES, PETITION_LINES
from nlp.types import DocumentKind
from service import context, ingest


def _counts(home: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(home / "xuncha.db")
    documents = db.execute("select count(*) from documents").fetchone()[0]
    findings = db.execute("select count(*) from findings").fetchone()[0]
    originals = sum(1 for p in (home / "originals").rglob("*") if p.is_file()) if (home / "originals").exists() else 0
    return documents, findings, originals


@pytest.fixture
def ingestor(xuncha_home):
    return context.ingestor(tag=False)


@pytest.fixture
def inspection(ingestor):
    return ingestor.repository.ensure_inspection("2024年第二轮", "第三巡察组", "县水利局").id


def test_docx_minutes_are_parsed_classified_structured_and_split(ingestor, inspection, make_docx):
    result = ingestor.ingest_path(make_docx(MINUTES_LINES, "minutes.docx"), inspection)
    assert result.status == "added" and result.kind == "minutes"
    detail = ingestor.repository.get_document(result.document_id)
    assert detail.fields["chair"] == "高志远"
    assert detail.fields["date"] == "2024-06-03"
    assert detail.fields["absentees"] == ["唐伟"]
    assert detail.fields["agenda"] == ["研究防汛物资采购事项", "研究办公楼维修项目"]
    assert 380000.0 in detail.fields["amounts"]
    speakers = {f.speaker for f in detail.findings if f.speaker}
    assert {"高志远", "何建平"} <= speakers
    for finding in detail.findings:
        assert detail.text[finding.start:finding.end] == finding.text


def test_pdf_findings_cite_their_page(ingestor, inspection, make_pdf):
    result = ingestor.ingest_path(make_pdf(PETITION_LINES, "petition.pdf", lines_per_page=4), inspection)
    assert result.kind == "petition" and result.pages == 2
    detail = ingestor.repository.get_document(result.document_id)
    assert "内部资料" not in detail.text and "共 2 页" not in detail.text
    pages = {f.text[:6]: f.page for f in detail.findings}
    assert pages["我实名举报青"] == 1
    assert pages["副镇长钱永军"] == 2
    allegation = next(f for f in detail.findings if f.text.startswith("2023年12月28日"))
    assert allegation.role == "allegation" and allegation.allegation == 1
    assert any(e["label"] == "money" and e["value"] == 468000.0 for e in allegation.entities)
    assert detail.fields["complainant"] == "田富贵"
    assert detail.fields["reported"][0]["name"] == "陈立国"


def test_gbk_text_records_its_encoding_and_spans_point_into_the_original(ingestor, inspection, tmp_path):
    path = tmp_path / "letter.txt"
    raw = "\r\n".join(PETITION_LINES)
    path.write_bytes(raw.encode("gbk"))
    result = ingestor.ingest_path(path, inspection)
    detail = ingestor.repository.get_document(result.document_id)
    assert detail.encoding in ("gbk", "gb18030")
    source = raw.replace("\r\n", "\n")
    for finding in detail.findings:
        assert source[finding.source_start:finding.source_end].strip() == finding.text


def test_reingesting_the_same_file_is_a_no_op(ingestor, inspection, make_docx, xuncha_home):
    path = make_docx(MINUTES_LINES)
    first = ingestor.ingest_path(path, inspection)
    before = _counts(xuncha_home)
    again = ingestor.ingest_path(path, inspection)
    assert again.status == "duplicate" and again.document_id == first.document_id
    assert _counts(xuncha_home) == before


def test_kind_can_be_overridden(ingestor, inspection, make_docx):
    result = ingestor.ingest_path(make_docx(MINUTES_LINES), inspection, kind=DocumentKind.OTHER)
    detail = ingestor.repository.get_document(result.document_id)
    assert detail.kind == "other" and detail.kind_overridden


@pytest.mark.parametrize(
    "name,content,code",
    [
        ("empty.txt", b"", "empty"),
        ("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8, "corrupt"),
        ("really-a-pdf.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "mismatched_type"),
        ("big.txt", "巡察".encode("utf-8") * 1_200_000, "too_large"),
        ("notes.xyz", "会议记录".encode("utf-8"), "unsupported_type"),
    ],
)
def test_bad_files_are_rejected_with_a_reason_and_nothing_changes(ingestor, inspection, make_docx, tmp_path,
                                                                   xuncha_home, name, content, code):
    ingestor.ingest_path(make_docx(MINUTES_LINES), inspection)
    before = _counts(xuncha_home)
    path = tmp_path / name
    path.write_bytes(content)
    result = ingestor.ingest_path(path, inspection)
    assert result.status == "error" and result.error_code == code
    assert result.message and any("\u4e00" <= c <= "\u9fff" for c in result.message)
    assert _counts(xuncha_home) == before


def test_a_database_failure_mid_ingest_leaves_no_half_document(ingestor, inspection, make_docx, xuncha_home,
                                                                monkeypatch):
    original = ingest.to_new_document

    def broken(*args, **kwargs):
        document = original(*args, **kwargs)
        document.findings[-1].text = None  # violates NOT NULL on the last row of the transaction
        return document

    monkeypatch.setattr(ingest, "to_new_document", broken)
    with pytest.raises(Exception):
        ingestor.ingest_path(make_docx(MINUTES_LINES), inspection)
    assert _counts(xuncha_home) == (0, 0, 0)


def test_delete_removes_document_findings_and_original(ingestor, inspection, make_docx, xuncha_home):
    result = ingestor.ingest_path(make_docx(MINUTES_LINES), inspection)
    assert _counts(xuncha_home)[0] == 1
    assert ingestor.delete(result.document_id)
    assert _counts(xuncha_home) == (0, 0, 0)
    assert not ingestor.delete(result.document_id)


def test_collect_files_walks_folders_and_skips_unsupported(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.docx", "a/b/y.PDF", "a/b/z.txt", "a/manifest.jsonl", "a/.hidden.txt"):
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in ingest.collect_files([tmp_path / "a"])]
    assert found == ["a/b/y.PDF", "a/b/z.txt", "a/x.docx"]
