"""PDF (pdfplumber): lines → paragraphs in reading order, ruled tables, header/footer removal, OCR fallback."""

from __future__ import annotations

import io
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from nlp.types import Block, ParsedDocument, ParseError

from ._layout import Fragment, Line, clean_cell, group_lines, join_wrapped, table_text
from .limits import NO_LIMITS, Checkpoint, OcrBudget, ParseLimits, too_many_ocr_pages, too_many_pages
from .ocr import MAX_SIDE, ocr_lines

HEADER_ZONE = 0.08  # running headers/footers live in the top/bottom 8% of the page
PAGE_NUMBER_ZONE = 0.12
MIN_TEXT_CHARS = 10  # fewer real characters than this on a page with images → OCR the page
RENDER_SCALE = 2.0  # 144 dpi

_NUM = r"[0-9０-９一二三四五六七八九十百零〇]+"
_PAGE_NUMBER_RE = re.compile(
    "|".join(
        (
            rf"第{_NUM}页([,，、/]?共{_NUM}页)?",
            rf"共{_NUM}页[,，、/]?第{_NUM}页",
            rf"[-—–－~]+{_NUM}[-—–－~]+",
            r"\d+(/|of)\d+",
            r"\d+",
            r"(page|p\.?)\d+((/|of)\d+)?",
        )
    ),
    re.IGNORECASE,
)
_CID_RE = re.compile(r"\(cid:\d+\)")
_PARAGRAPH_END = set("。！？：；…”’」』）】.!?:;)")


@dataclass
class _Page:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[Block] = field(default_factory=list)
    needs_ocr: bool = False
    ocr: bool = False


def parse_pdf(data: bytes, filename: str, *, ocr: bool = True, limits: ParseLimits = NO_LIMITS,
              checkpoint: Checkpoint | None = None) -> ParsedDocument:
    warns: list[str] = []
    if limits.max_pages is not None:
        count = _page_count(data)  # before pdfplumber builds an object for every page
        if count is not None and count > limits.max_pages:
            raise too_many_pages(count, limits.max_pages)
    pdf = _open(data)
    try:
        try:
            plumber_pages = pdf.pages
        except Exception as exc:
            raise _classify(exc) from exc
        if not plumber_pages:
            raise ParseError("corrupt", "PDF 文件已损坏：文件中没有页面。")
        if limits.max_pages is not None and len(plumber_pages) > limits.max_pages:
            raise too_many_pages(len(plumber_pages), limits.max_pages)
        pages, failed = [], 0
        for page in plumber_pages:
            if checkpoint is not None:
                checkpoint()
            try:
                pages.append(_read_page(page))
            except Exception as exc:  # one broken page should not lose the whole document
                error = _classify(exc)
                if error.code == "encrypted":
                    raise error from exc
                failed += 1
                warns.append(f"第 {page.page_number} 页无法解析，已跳过。")
                pages.append(_Page(page.page_number, float(page.width), float(page.height)))
            finally:
                page.close()
    finally:
        pdf.close()
    if failed == len(pages):
        raise ParseError("corrupt", "PDF 文件已损坏，所有页面都无法解析。", warns[0])

    to_ocr = [page for page in pages if page.needs_ocr]
    ocr_error: ParseError | None = None
    if to_ocr and ocr and limits.max_ocr_pages is not None and len(to_ocr) > limits.max_ocr_pages:
        raise too_many_ocr_pages(len(to_ocr), limits.max_ocr_pages)
    if to_ocr and ocr:
        ocr_error = _ocr_pages(data, to_ocr, warns, OcrBudget(limits, len(to_ocr), checkpoint))
    elif to_ocr:
        numbers = "、".join(str(page.number) for page in to_ocr)
        warns.append(f"第 {numbers} 页没有文字层（可能是扫描件），未启用文字识别（OCR），这些页的内容未提取。")

    _drop_running_lines(pages)
    body_size = _body_size(pages)
    blocks = [block for page in pages for block in _page_blocks(page, body_size)]
    if not blocks:
        if ocr_error is not None:
            raise ocr_error
        if to_ocr and not ocr:
            raise ParseError("empty", "PDF 没有文字层（可能是扫描件），当前未启用文字识别（OCR），无法提取文字。")
        if to_ocr:
            raise ParseError("empty", "PDF 中没有文字层，文字识别（OCR）也未识别到文字。请确认扫描件清晰。")
        raise ParseError("empty", "PDF 中没有可提取的文字内容。")
    return ParsedDocument(
        filename=filename,
        media_type="pdf",
        blocks=blocks,
        pages=len(pages),
        ocr_pages=[page.number for page in pages if page.ocr],
        warnings=warns,
    )


def _page_count(data: bytes) -> int | None:
    """Pages of the PDF read from its page tree by pdfium (milliseconds even for 20,000 pages); None if
    pdfium cannot open it (pdfplumber then reports why)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception:
        return None
    try:
        return len(document)
    finally:
        document.close()


def _open(data: bytes) -> pdfplumber.PDF:
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        raise _classify(exc) from exc


def _classify(exc: Exception) -> ParseError:
    cause: BaseException | None = exc
    while cause is not None:  # PdfminerException wraps the pdfminer error in args[0]
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            return ParseError("encrypted", "PDF 文件已加密（设有打开密码），无法读取。请解除密码后再上传。", repr(exc))
        if isinstance(cause, PdfminerException) and cause.args and isinstance(cause.args[0], BaseException):
            cause = cause.args[0]
        else:
            cause = cause.__cause__ or cause.__context__
    return ParseError("corrupt", "PDF 文件已损坏，无法打开。", repr(exc))


def _read_page(page: pdfplumber.page.Page) -> _Page:
    result = _Page(page.page_number, float(page.width), float(page.height))
    if _has_duplicate_chars(page.chars):  # fake bold: the same glyph drawn twice with a small offset
        page = page.dedupe_chars()
    chars = [c for c in page.chars if c["text"].strip()]
    garbled = sum(1 for c in chars if c["text"].startswith("(cid:") or _is_private_use(c["text"]))
    real = len(chars) - garbled
    drawn = page.images or page.curves or page.rects or page.lines
    if (real == 0 and drawn) or (real < MIN_TEXT_CHARS and page.images) or (chars and garbled > real):
        result.needs_ocr = True  # scan, vector-outlined text, or fonts without a Unicode map
        return result

    if page.rects or page.lines or page.curves:  # ruled tables need drawn edges
        for table in page.find_tables():
            rows = [[clean_cell(cell) for cell in row] for row in table.extract()]
            rows = [row for row in rows if any(row)]
            if sum(1 for row in rows for cell in row if cell) < 2:
                continue  # a frame around the page or a box around one paragraph, not a table
            bbox = tuple(float(v) for v in table.bbox)
            result.tables.append(Block(text=table_text(rows), page=result.number, kind="table", rows=rows, bbox=bbox))

    fragments = []
    words = page.extract_words(x_tolerance=1.5, y_tolerance=3, keep_blank_chars=False, extra_attrs=["size"])
    for word in words:
        text = _CID_RE.sub("", word["text"])
        if text and not any(_inside(word, table.bbox) for table in result.tables):
            fragments.append(Fragment(text, word["x0"], word["top"], word["x1"], word["bottom"], float(word["size"])))
    result.lines = group_lines(fragments)
    return result


def _has_duplicate_chars(chars: list[dict]) -> bool:
    """Cheap pre-check for dedupe_chars(), which costs a third of the page time."""
    seen = set()
    for char in chars:
        key = (char["text"], round(char["x0"]), round(char["top"]))
        if key in seen:
            return True
        seen.add(key)
    return False


def _is_private_use(text: str) -> bool:
    return len(text) == 1 and 0xE000 <= ord(text) <= 0xF8FF


def _inside(word: dict, bbox: tuple[float, float, float, float]) -> bool:
    x, y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _ocr_pages(data: bytes, pages: list[_Page], warns: list[str], budget: OcrBudget) -> ParseError | None:
    """Render and OCR ``pages`` in place. Returns the OCR error, if any, instead of raising it; the
    budget's limits (OCR time, the checkpoint's timeout or cancel) raise."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception as exc:
        return ParseError("ocr_failed", "PDF 页面无法渲染，文字识别（OCR）失败。", repr(exc))
    error: ParseError | None = None
    try:
        for page in pages:
            budget.check()
            scale = min(RENDER_SCALE, MAX_SIDE / max(page.width, page.height, 1.0))
            try:
                image = document[page.number - 1].render(scale=scale).to_pil()
                lines = ocr_lines(image)
            except ParseError as exc:
                warns.append(f"第 {page.number} 页文字识别（OCR）失败。")
                return exc
            except Exception as exc:
                warns.append(f"第 {page.number} 页无法渲染，未能识别文字。")
                error = ParseError("ocr_failed", "PDF 页面无法渲染，文字识别（OCR）失败。", repr(exc))
                continue
            finally:
                budget.page_done()
            for line in lines:  # pixels → PDF points
                line.x0, line.top, line.x1, line.bottom = (v / scale for v in line.bbox)
                line.size /= scale
            page.lines, page.ocr = lines, True
    finally:
        document.close()
    return error


def _drop_running_lines(pages: list[_Page]) -> None:
    """Remove running headers/footers (repeated on ≥ half the pages) and page numbers."""
    zone_keys = [{_key(line.text) for line in page.lines if _in_zone(line, page, HEADER_ZONE)} for page in pages]
    counts = Counter(key for keys in zone_keys for key in keys)
    threshold = max(2, math.ceil(len(pages) * 0.5))
    repeated = {key for key, count in counts.items() if count >= threshold} if len(pages) >= 2 else set()
    for page in pages:
        page.lines = [
            line
            for line in page.lines
            if not (_in_zone(line, page, HEADER_ZONE) and _key(line.text) in repeated)
            and not (_in_zone(line, page, PAGE_NUMBER_ZONE) and _is_page_number(line.text))
        ]


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _in_zone(line: Line, page: _Page, share: float) -> bool:
    return line.top < page.height * share or line.bottom > page.height * (1 - share)


def _is_page_number(text: str) -> bool:
    return _PAGE_NUMBER_RE.fullmatch(re.sub(r"\s+", "", text)) is not None


def _body_size(pages: list[_Page]) -> float:
    """Most common font size, weighted by characters (0 when unknown)."""
    sizes = Counter()
    for page in pages:
        if not page.ocr:
            for line in page.lines:
                sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _page_blocks(page: _Page, body_size: float) -> list[Block]:
    if page.ocr:
        return [
            Block(text=line.text, page=page.number, bbox=line.bbox, ocr=True, confidence=line.confidence)
            for line in page.lines
        ]
    items: list[Line | Block] = sorted([*page.lines, *page.tables], key=_top)
    lines = page.lines
    left = min((line.x0 for line in lines), default=0.0)
    right = max((line.x1 for line in lines), default=0.0)
    gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:])]
    typical_gap = statistics.median(gaps) if gaps else None

    blocks: list[Block] = []
    paragraph: list[Line] = []
    for item in items:
        if isinstance(item, Block):
            blocks.extend(_paragraph(paragraph, page.number, body_size))
            blocks.append(item)
            paragraph = []
            continue
        if paragraph and _starts_paragraph(paragraph[-1], item, left, right, typical_gap):
            blocks.extend(_paragraph(paragraph, page.number, body_size))
            paragraph = []
        paragraph.append(item)
    blocks.extend(_paragraph(paragraph, page.number, body_size))
    return blocks


def _top(item: Line | Block) -> float:
    return item.top if isinstance(item, Line) else item.bbox[1]


def _starts_paragraph(prev: Line, cur: Line, left: float, right: float, typical_gap: float | None) -> bool:
    size = max(prev.size, cur.size, 1.0)
    gap = cur.top - prev.bottom
    if gap > (typical_gap + 0.6 * size if typical_gap is not None else 0.8 * size):
        return True  # vertical space
    if abs(prev.size - cur.size) > 0.15 * size:
        return True  # font size change: heading ↔ body
    if cur.x0 > prev.x0 + 0.8 * size and cur.x0 > left + 0.8 * size:
        return True  # first-line indent (首行缩进)
    # The previous line stopped short: it ended its paragraph (ragged lines must also end a sentence).
    shortfall = right - prev.x1
    return shortfall > 6 * size or (shortfall > 1.5 * size and prev.text[-1:] in _PARAGRAPH_END)


def _paragraph(lines: list[Line], page: int, body_size: float) -> list[Block]:
    if not lines:
        return []
    text = ""
    for line in lines:
        text = join_wrapped(text, line.text)
    bbox = (min(l.x0 for l in lines), min(l.top for l in lines), max(l.x1 for l in lines), max(l.bottom for l in lines))
    size = statistics.median(line.size for line in lines)
    kind = "heading" if body_size and size >= 1.2 * body_size and len(text) <= 80 else "paragraph"
    return [Block(text=text, page=page, kind=kind, bbox=bbox)]
