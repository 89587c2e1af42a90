"""Zip bombs in DOCX files are refused from the zip directory, before anything is inflated."""

from __future__ import annotations

import io
import time
import zipfile

import docx
import pytest

from nlp.parsing import parse_bytes
from nlp.parsing.sniffing import MAX_ENTRIES, check_zip_limits
from nlp.types import ParseError


def _docx_bytes(text: str = "会议记录：研究办公楼维修项目") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rebuild(extra_body: int = 0, extra_members: int = 0, padding_member: int = 0) -> bytes:
    """The plain DOCX with ``extra_body`` MB of ``<w:p/>`` in document.xml, ``extra_members``
    tiny extra parts, and one stored (uncompressed) part of ``padding_member`` bytes."""
    source = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "word/document.xml" or not extra_body:
                archive.writestr(info, data)
                continue
            cut = data.index(b"<w:body>") + len(b"<w:body>")
            with archive.open("word/document.xml", "w", force_zip64=True) as member:
                member.write(data[:cut])
                block = b"<w:p/>" * (1 << 20)  # 6 MB
                for _ in range(extra_body // 6):
                    member.write(block)
                member.write(data[cut:])
        for n in range(extra_members):
            archive.writestr(f"customXml/extra{n}.xml", b"<a/>")
        if padding_member:
            archive.writestr(zipfile.ZipInfo("word/media/pad.bin"), b"\0" * padding_member,
                             compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def test_a_300kb_docx_holding_200mb_of_paragraphs_is_refused_in_under_2s():
    bomb = _rebuild(extra_body=204)
    assert len(bomb) < 400 * 1024
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        parse_bytes(bomb, "会议.docx", ocr=False)
    elapsed = time.perf_counter() - started
    assert caught.value.code == "too_large" and "压缩比" in caught.value.message
    assert elapsed < 2, elapsed


def test_total_unpacked_size_and_entry_count_are_capped():
    stored = _rebuild(padding_member=3 * 1024 * 1024)  # 3 MB stored: ratio 1:1, only the total can stop it
    check_zip_limits(stored)  # under the default 100 MB
    with pytest.raises(ParseError) as caught:
        check_zip_limits(stored, max_unpacked=2 * 1024 * 1024)
    assert caught.value.code == "too_large" and "解压后过大" in caught.value.message
    crowded = _rebuild(extra_members=MAX_ENTRIES + 1)
    with pytest.raises(ParseError) as caught:
        parse_bytes(crowded, "会议.docx", ocr=False)
    assert caught.value.code == "too_large" and "部件过多" in caught.value.message


def test_ordinary_and_slightly_padded_documents_still_parse():
    document = parse_bytes(_docx_bytes(), "会议.docx", ocr=False)
    assert "办公楼维修" in document.blocks[0].text
    padded = parse_bytes(_rebuild(padding_member=3 * 1024 * 1024), "会议.docx", ocr=False)  # big embedded media
    assert "办公楼维修" in padded.blocks[0].text


def test_a_broken_archive_is_still_reported_as_corrupt():
    data = _docx_bytes()
    with pytest.raises(ParseError) as caught:
        parse_bytes(data[: len(data) // 2], "会议.docx", ocr=False)
    assert caught.value.code == "corrupt"
