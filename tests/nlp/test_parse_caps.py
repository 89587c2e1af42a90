"""Per-document caps: a PDF over the page cap is refused before its pages are read, a scan over the
OCR page cap before any OCR, and OCR stops at the time budget — each with a Chinese reason."""

from __future__ import annotations

import io

import pytest

from nlp import parsing
from nlp.parsing import ParseLimits
from nlp.types import ParseError


def _drawing_pages(pages: int) -> bytes:
    """A PDF whose pages hold only drawn shapes (no text layer): each needs OCR."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number in range(pages):
        pdf.rect(100 + number, 100, 300, 200)
        pdf.line(100, 400, 500, 600)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _blank_pages(pages: int) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def test_a_20000_page_pdf_is_refused_before_its_pages_are_read(monkeypatch):
    import pdfplumber

    data = _blank_pages(20_000)
    opened = []
    real_open = pdfplumber.open
    # pdfplumber builds an object per page (minutes over 20,000 pages): the count comes first
    monkeypatch.setattr(pdfplumber, "open", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    with pytest.raises(ParseError) as caught:
        parsing.parse_bytes(data, "图纸.pdf", limits=ParseLimits(max_pages=1000))
    assert opened == []
    assert caught.value.code == "too_many_pages"
    assert caught.value.message == "文件共 20000 页，超过单个文档 1000 页的上限，未导入。请拆分成较小的文件后再上传。"


def test_a_scan_over_the_ocr_page_cap_is_refused_before_any_ocr(monkeypatch):
    from nlp.parsing import pdf

    def no_ocr(*_args, **_kwargs):
        raise AssertionError("OCR must not start")

    monkeypatch.setattr(pdf, "ocr_lines", no_ocr)
    with pytest.raises(ParseError) as caught:
        parsing.parse_bytes(_drawing_pages(3), "扫描件.pdf", limits=ParseLimits(max_ocr_pages=2))
    assert caught.value.code == "too_many_ocr_pages"
    assert "有 3 页没有文字层，需要文字识别（OCR），超过单个文档 2 页的识别上限" in caught.value.message


def test_ocr_stops_at_the_time_budget_and_a_checkpoint_runs_between_pages():
    pytest.importorskip("rapidocr_onnxruntime")
    calls = []
    with pytest.raises(ParseError) as caught:
        parsing.parse_bytes(_drawing_pages(3), "扫描件.pdf", limits=ParseLimits(ocr_seconds=0),
                            checkpoint=lambda: calls.append(1))
    assert caught.value.code == "ocr_timeout"
    assert caught.value.message.startswith("文字识别（OCR）用时超过单个文档 0 秒的上限（已识别 1/3 页）")
    assert len(calls) == 3 + 2  # three pages read, then two OCR turns (the second stops)


def test_a_checkpoint_error_stops_the_parse_instead_of_skipping_a_page():
    def stop():
        raise ParseError("cancelled", "任务已取消，该文件未导入")

    with pytest.raises(ParseError) as caught:
        parsing.parse_bytes(_drawing_pages(2), "扫描件.pdf", ocr=False, checkpoint=stop)
    assert caught.value.code == "cancelled"
