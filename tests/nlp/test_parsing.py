"""Parsing stage: real files built here with reportlab / python-docx / PIL, parsed with the real libraries."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.lib.styles import ParagraphStyle

from nlp.parsing import SUPPORTED_SUFFIXES, parse_bytes, parse_file, sniff
from nlp.types import ParseError

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WQYMicroHei"
pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))

HEADER = "中共某县委第二巡察组 工作底稿"
PARAGRAPHS = [
    [
        "巡察组于2023年5月进驻县自然资源局，听取了党组工作汇报，开展个别谈话三十二人次，调阅文件资料一百余份。",
        "巡察发现，该局在土地出让金征收、项目审批等环节存在风险隐患，部分干部廉洁意识淡薄。",
    ],
    [
        "群众反映，局长张某某在担任副局长期间收受管理服务对象礼金共计人民币五万元，并为其在用地审批中提供便利。",
        "经初步核实，相关线索具体，具有可查性，建议移交县纪委监委处置。",
    ],
    [
        "下一步，巡察组将督促被巡察党组织认真落实整改主体责任，建立问题清单、任务清单和责任清单。",
        "本页为第三页正文，用于检验页码识别是否正确。",
    ],
]


# ---------------------------------------------------------------------------------------------- helpers


def _draw_paragraph(c: canvas.Canvas, text: str, y: float, size: float = 12, per_line: int = 34) -> float:
    """Draw ``text`` wrapped at ``per_line`` characters with a two-character first-line indent."""
    x0 = 72
    first = per_line - 2
    lines = [text[:first]] + [text[i : i + per_line] for i in range(first, len(text), per_line)]
    for index, line in enumerate(lines):
        c.drawString(x0 + (2 * size if index == 0 else 0), y, line)
        y -= size * 1.6
    return y - size * 0.4


def make_three_page_pdf(path: Path) -> None:
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number, paragraphs in enumerate(PARAGRAPHS, start=1):
        c.setFont(FONT, 10)
        c.drawCentredString(width / 2, height - 40, HEADER)
        c.drawCentredString(width / 2, 30, f"第 {number} 页 共 3 页")
        c.setFont(FONT, 12)
        y = height - 110
        for paragraph in paragraphs:
            y = _draw_paragraph(c, paragraph, y)
        c.showPage()
    c.save()


def make_text_pdf(path: Path, pages: int) -> None:
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    text = "".join(p for page in PARAGRAPHS for p in page)
    for number in range(1, pages + 1):
        c.setFont(FONT, 10)
        c.drawCentredString(width / 2, height - 40, HEADER)
        c.drawCentredString(width / 2, 30, f"- {number} -")
        c.setFont(FONT, 12)
        y = height - 110
        while y > 120:
            y = _draw_paragraph(c, text, y)
        c.showPage()
    c.save()


def render_text_image(lines: list[str], size: int = 40) -> Image.Image:
    font = ImageFont.truetype(FONT_PATH, size, index=0)
    width = max(int(font.getlength(line)) for line in lines) + 2 * size
    image = Image.new("RGB", (width, (len(lines) + 1) * int(size * 1.8)), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((size, size // 2 + index * int(size * 1.8)), line, font=font, fill="black")
    return image


def char_overlap(expected: str, actual: str) -> float:
    """Share of the characters of ``expected`` found in ``actual`` (multiset intersection)."""
    from collections import Counter

    want, got = Counter(expected.replace(" ", "")), Counter(actual.replace(" ", ""))
    return sum((want & got).values()) / max(sum(want.values()), 1)


def assert_parse_error(code: str, func, *args, **kwargs) -> ParseError:
    with pytest.raises(ParseError) as info:
        func(*args, **kwargs)
    error = info.value
    assert error.code == code, error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message), error.message
    return error


# ---------------------------------------------------------------------------------------------- PDF


def test_pdf_three_pages_without_running_header_and_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "纪要.pdf"
    make_three_page_pdf(path)
    doc = parse_file(path)

    assert doc.media_type == "pdf" and doc.pages == 3 and doc.ocr_pages == []
    text = doc.text
    assert HEADER.replace(" ", "") not in text.replace(" ", "")
    assert "第 1 页" not in text and "共 3 页" not in text and "页共" not in text
    # CJK characters are not separated by spaces, wrapped lines are joined into paragraphs
    assert [b.text for b in doc.blocks] == [p for page in PARAGRAPHS for p in page]
    assert all(b.kind == "paragraph" and b.bbox is not None and not b.ocr for b in doc.blocks)
    assert [b.page for b in doc.blocks] == [1, 1, 2, 2, 3, 3]
    assert doc.page_at(text.index("张某某")) == 2
    assert doc.page_at(text.index("第三页正文")) == 3
    assert doc.page_at(0) == 1


def test_pdf_table_block_in_reading_order(tmp_path: Path) -> None:
    path = tmp_path / "table.pdf"
    body = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=18)
    rows = [["姓名", "职务", "问题线索"], ["张某某", "局长", "收受礼金五万元"], ["李某", "副局长", "违规发放津贴"]]
    table = Table(rows, colWidths=[100, 100, 200])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("GRID", (0, 0), (-1, -1), 0.8, colors.black)]))
    SimpleDocTemplate(str(path), pagesize=A4).build(
        [Paragraph("问题线索汇总如下：", body), Spacer(1, 12), table, Spacer(1, 12), Paragraph("以上线索待核实。", body)]
    )
    doc = parse_file(path)

    assert [b.kind for b in doc.blocks] == ["paragraph", "table", "paragraph"]
    before, tbl, after = doc.blocks
    assert before.text == "问题线索汇总如下：" and after.text == "以上线索待核实。"
    assert tbl.rows == rows
    assert tbl.text == "\n".join("\t".join(row) for row in rows)
    assert tbl.page == 1 and tbl.bbox is not None
    assert doc.text.count("张某某") == 1  # words inside the table are not repeated as paragraphs


@pytest.mark.slow
def test_image_only_pdf_goes_through_ocr(tmp_path: Path) -> None:
    sentence = "县委巡察组召开反馈会议"
    image = render_text_image([sentence], size=48)
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(image), 72, 600, width=image.width * 0.6, height=image.height * 0.6)
    c.showPage()
    c.save()

    doc = parse_file(path)
    assert doc.ocr_pages == [1] and doc.pages == 1
    assert char_overlap(sentence, doc.text) >= 0.8, doc.text
    assert all(b.ocr and b.page == 1 and 0 < b.confidence <= 1 for b in doc.blocks)
    # bbox is in PDF points: inside the A4 page, near where the image was drawn (top ≈ 842 - 600 - h)
    x0, top, x1, bottom = doc.blocks[0].bbox
    assert 60 <= x0 and x1 <= A4[0] and 0 < top < bottom < A4[1] - 600 + 5

    assert_parse_error("empty", parse_file, path, ocr=False)


@pytest.mark.slow
def test_outlined_text_pdf_goes_through_ocr(tmp_path: Path) -> None:
    """Print-to-outline PDFs draw glyphs as vector paths: no characters, so the page is OCRed."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    from fontTools.pens.basePen import BasePen

    font = ttlib.TTCollection(FONT_PATH).fonts[0]
    glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
    scale = 18 / font["head"].unitsPerEm

    class PathPen(BasePen):
        def __init__(self, path, x: float, y: float) -> None:
            super().__init__(glyphs)
            self.path, self.x, self.y = path, x, y

        def _pt(self, pt):
            return self.x + pt[0] * scale, self.y + pt[1] * scale

        def _moveTo(self, pt):
            self.path.moveTo(*self._pt(pt))

        def _lineTo(self, pt):
            self.path.lineTo(*self._pt(pt))

        def _curveToOne(self, a, b, c):
            self.path.curveTo(*self._pt(a), *self._pt(b), *self._pt(c))

        def _closePath(self):
            self.path.close()

    sentence = "关于县自然资源局党组巡察情况的反馈意见"
    path = tmp_path / "outlined.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    outline, x = c.beginPath(), 72.0
    for ch in sentence:
        glyph = glyphs[cmap[ord(ch)]]
        glyph.draw(PathPen(outline, x, 700))
        x += glyph.width * scale
    c.drawPath(outline, fill=1, stroke=0)
    c.showPage()
    c.save()

    doc = parse_file(path)
    assert doc.ocr_pages == [1]
    assert char_overlap(sentence, doc.text) >= 0.8, doc.text


@pytest.mark.slow
def test_multipage_tiff_one_page_per_frame() -> None:
    first = render_text_image(["第一页巡察报告"]).convert("1")  # 1-bit fax scan
    second = render_text_image(["第二页整改情况"]).convert("L")
    buffer = io.BytesIO()
    first.save(buffer, format="TIFF", save_all=True, append_images=[second])
    doc = parse_bytes(buffer.getvalue(), "传真.tif")
    assert doc.pages == 2 and doc.ocr_pages == [1, 2]
    assert [b.page for b in doc.blocks] == [1, 2]
    assert char_overlap("第一页巡察报告", doc.blocks[0].text) >= 0.8
    assert char_overlap("第二页整改情况", doc.blocks[1].text) >= 0.8


@pytest.mark.slow
def test_jpeg_named_png_is_read_by_content() -> None:
    buffer = io.BytesIO()
    render_text_image(["扩展名不对的图片"]).save(buffer, format="JPEG", quality=90)
    doc = parse_bytes(buffer.getvalue(), "photo.png")
    assert char_overlap("扩展名不对的图片", doc.text) >= 0.8 and "JPEG" in doc.warnings[0]


@pytest.mark.slow
def test_png_ocr_recovers_chinese_sentence(tmp_path: Path) -> None:
    lines = ["关于县自然资源局党组巡察情况的反馈意见", "存在违规收受礼金问题线索三条"]
    path = tmp_path / "photo.png"
    render_text_image(lines).save(path)
    doc = parse_file(path)

    assert doc.media_type == "image" and doc.pages == 1 and doc.ocr_pages == [1]
    assert len(doc.blocks) == 2, doc.text  # one block per recognised line, top to bottom
    for expected, block in zip(lines, doc.blocks):
        assert char_overlap(expected, block.text) >= 0.8, block.text
        assert block.ocr and block.confidence is not None and " " not in block.text


@pytest.mark.slow
def test_blank_image_is_empty(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buffer, format="JPEG")
    error = assert_parse_error("empty", parse_bytes, buffer.getvalue(), "blank.jpg")
    assert "未识别到文字" in error.message


# ---------------------------------------------------------------------------------------------- DOCX


def make_docx() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "页眉：内部资料"
    document.add_heading("县自然资源局巡察情况报告", level=1)
    document.add_paragraph("一、基本情况")
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_paragraph("巡察组共开展个别谈话32人次。")
    table = document.add_table(rows=3, cols=3)
    cells = [["姓名", "职务", "问题"], ["张某某", "局长", "收受礼金"], ["李某", "副局长", "违规发放津贴"]]
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = document.add_table(rows=2, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "合并标题"
    merged.cell(1, 0).text, merged.cell(1, 1).text = "甲", "乙"
    document.add_heading("二、存在问题", level=2)
    document.add_paragraph("部分干部廉洁意识淡薄。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_reading_order_and_kinds() -> None:
    doc = parse_bytes(make_docx(), "报告.docx")

    assert doc.media_type == "docx" and doc.pages == 1
    assert [(b.kind, b.text.split("\n")[0]) for b in doc.blocks] == [
        ("heading", "县自然资源局巡察情况报告"),
        ("paragraph", "一、基本情况"),
        ("paragraph", "巡察组共开展个别谈话32人次。"),
        ("table", "姓名\t职务\t问题"),
        ("table", "合并标题\t"),
        ("heading", "二、存在问题"),
        ("paragraph", "部分干部廉洁意识淡薄。"),
    ]
    assert doc.blocks[3].rows == [["姓名", "职务", "问题"], ["张某某", "局长", "收受礼金"], ["李某", "副局长", "违规发放津贴"]]
    assert doc.blocks[4].rows == [["合并标题", ""], ["甲", "乙"]]  # merged cell text once
    assert "页眉" not in doc.text
    assert all(b.page is None for b in doc.blocks)


def test_docx_renamed_doc_is_read_with_warning() -> None:
    doc = parse_bytes(make_docx(), "old.doc")
    assert doc.blocks[0].text == "县自然资源局巡察情况报告" and doc.warnings


# ---------------------------------------------------------------------------------------------- text

SAMPLE = "巡察组反馈意见\r\n一、关于张某某收受礼金问题\r\n\r\n　　经查，金额为5万元。\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SAMPLE.encode("gbk"), "gbk"),
        (SAMPLE.encode("utf-8"), "utf-8"),
        (SAMPLE.encode("utf-8-sig"), "utf-8-sig"),
        (SAMPLE.encode("utf-16"), "utf-16"),  # with BOM
        (SAMPLE.encode("utf-16-le"), "utf-16"),  # without BOM
        (SAMPLE.encode("utf-32"), "utf-32"),
    ],
)
def test_text_encodings(data: bytes, encoding: str) -> None:
    doc = parse_bytes(data, "信访件.txt")
    assert doc.encoding == encoding
    assert doc.media_type == "text"
    assert [b.text for b in doc.blocks] == ["巡察组反馈意见", "一、关于张某某收受礼金问题", "经查，金额为5万元。"]
    assert "\r" not in doc.text


def test_text_gb18030_outside_gbk() -> None:
    text = "南汉高祖刘䶮的名字用字不在GBK中，举报人王某某反映情况属实。"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    doc = parse_bytes(data, "note.md")
    assert doc.encoding == "gb18030" and doc.text == text


def test_text_big5() -> None:
    text = "會議紀要：本局長於三月召開黨組會議，討論巡察整改方案。"
    doc = parse_bytes(text.encode("big5"), "old.csv")
    assert doc.encoding == "big5" and doc.text == text


def test_text_binary_is_rejected() -> None:
    data = bytes(range(256)) * 8
    error = assert_parse_error("mismatched_type", parse_bytes, data, "notes.txt")
    assert ".txt" in error.message


def test_text_undecodable_is_encoding_error() -> None:
    data = bytes(range(0x80, 0x100)) * 20  # high bytes only: no encoding reads this as text
    assert_parse_error("encoding", parse_bytes, data, "notes.txt")


# ---------------------------------------------------------------------------------------------- errors and sniffing


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert_parse_error("empty", parse_file, path)
    assert_parse_error("empty", parse_bytes, b"\r\n  \n", "blank.txt")


def test_corrupt_pdf() -> None:
    import random

    data = b"%PDF-1.7\n" + random.Random(7).randbytes(4000)
    assert_parse_error("corrupt", parse_bytes, data, "bad.pdf")


def test_corrupt_docx() -> None:
    data = make_docx()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, b"<broken" if item.filename == "word/document.xml" else content)
    assert_parse_error("corrupt", parse_bytes, buffer.getvalue(), "bad.docx")


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "secret.pdf"
    c = canvas.Canvas(str(path), encrypt="secret")
    c.setFont(FONT, 12)
    c.drawString(72, 700, "机密材料")
    c.showPage()
    c.save()
    error = assert_parse_error("encrypted", parse_file, path)
    assert "密码" in error.message


def test_encrypted_ooxml() -> None:
    # An encrypted .docx is an OLE2 compound file holding an "EncryptedPackage" stream.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64
    assert sniff(data) == "encrypted_office"
    assert_parse_error("encrypted", parse_bytes, data, "加密.docx")


def test_docx_named_pdf() -> None:
    error = assert_parse_error("mismatched_type", parse_bytes, make_docx(), "report.pdf")
    assert error.message == "文件扩展名与实际内容不符：扩展名为 .pdf，内容是 DOCX 文档"


def test_pdf_named_txt_and_plain_zip_named_docx(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    make_three_page_pdf(path)
    assert_parse_error("mismatched_type", parse_bytes, path.read_bytes(), "a.txt")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    error = assert_parse_error("mismatched_type", parse_bytes, buffer.getvalue(), "a.docx")
    assert "ZIP" in error.message


def test_too_large_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes("巡察".encode() * 1000)
    assert_parse_error("too_large", parse_file, path, max_bytes=1000)
    assert_parse_error("too_large", parse_bytes, b"x" * 2000, "big.txt", max_bytes=1000)


def test_unsupported_suffix() -> None:
    assert_parse_error("unsupported_type", parse_bytes, b"some data", "table.xlsx")
    assert_parse_error("unsupported_type", parse_bytes, b"MZ\x90\x00", "setup.exe")


@pytest.mark.skipif(shutil.which("soffice") or shutil.which("libreoffice"), reason="LibreOffice is installed")
def test_doc_without_libreoffice() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "WordDocument".encode("utf-16-le") + b"\x00" * 64
    error = assert_parse_error("needs_libreoffice", parse_bytes, data, "旧文件.doc")
    assert "LibreOffice" in error.message
    # RTF saved as .doc goes the same way (LibreOffice would convert it)
    assert_parse_error("needs_libreoffice", parse_bytes, b"{\\rtf1\\ansi hello}", "导出.doc")


def test_sniff_and_supported_suffixes(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="PNG")
    png = buffer.getvalue()
    assert sniff(png) == "png"
    assert sniff(make_docx()) == "docx"
    assert sniff(b"%PDF-1.4\n") == "pdf"
    assert sniff("普通文本".encode()) is None
    assert sniff(b"BM is also how a text can start") is None
    assert {".pdf", ".docx", ".doc", ".txt", ".md", ".csv", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"} == set(
        SUPPORTED_SUFFIXES
    )
    # No extension: dispatched by content (here to the image parser, which needs OCR).
    assert_parse_error("empty", parse_bytes, png, "no_extension", ocr=False)
