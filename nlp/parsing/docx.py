"""DOCX (python-docx): body paragraphs and tables in document order; headers/footers skipped."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from nlp.types import Block, ParsedDocument, ParseError

from ._layout import clean_cell, table_text
from .sniffing import check_zip_limits

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W, "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"}
# Visible text of a paragraph: runs anywhere below it (hyperlinks, tracked insertions, fields, smart
# tags) except text boxes and the duplicate fallback copy of drawings. Deleted text is w:delText.
_RUN = ".//w:r[not(ancestor::w:txbxContent) and not(ancestor::mc:Fallback)]"
_TEXT_XPATH = etree.XPath(
    f"{_RUN}/w:t | {_RUN}/w:tab | {_RUN}/w:br | {_RUN}/w:cr | {_RUN}/w:noBreakHyphen", namespaces=_NS
)
_HEADING_PREFIXES = ("heading", "标题", "title")


def parse_docx(data: bytes, filename: str, media_type: str = "docx") -> ParsedDocument:
    check_zip_limits(data)  # before anything is inflated: zip bombs raise ParseError("too_large")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise ParseError("corrupt", "Word 文档已损坏，无法打开。", repr(exc)) from exc
    except Exception as exc:  # python-docx raises assorted other errors on malformed parts
        raise ParseError("corrupt", "Word 文档已损坏，无法打开。", repr(exc)) from exc

    styles = _heading_styles(document)
    blocks: list[Block] = []
    for element in _body_items(document.element.body):
        if element.tag == f"{{{_W}}}p":
            text = paragraph_text(element).strip()
            if text:
                kind = "heading" if _is_heading(element, styles) else "paragraph"
                blocks.append(Block(text=text, kind=kind))
        else:
            rows = _table_rows(element)
            if rows:
                blocks.append(Block(text=table_text(rows), kind="table", rows=rows))
    if not blocks:
        raise ParseError("empty", "Word 文档中没有文字内容。")
    return ParsedDocument(filename=filename, media_type=media_type, blocks=blocks, pages=1)


def paragraph_text(p: etree._Element) -> str:
    parts = []
    for node in _TEXT_XPATH(p):
        tag = etree.QName(node).localname
        if tag == "t":
            parts.append(node.text or "")
        elif tag == "tab":
            parts.append("\t")
        elif tag == "noBreakHyphen":
            parts.append("-")
        else:
            parts.append("\n")
    return "".join(parts)


def _body_items(parent: etree._Element) -> Iterator[etree._Element]:
    """w:p and w:tbl children in order, looking inside content controls (w:sdt)."""
    for child in parent:
        tag = child.tag
        if tag in (f"{{{_W}}}p", f"{{{_W}}}tbl"):
            yield child
        elif tag == f"{{{_W}}}sdt":
            for content in child.findall(f"{{{_W}}}sdtContent"):
                yield from _body_items(content)


def _table_rows(tbl: etree._Element) -> list[list[str]]:
    """Cell texts row by row; a merged cell's text appears once, the spanned positions are ""."""
    rows = []
    for tr in _children(tbl, "tr"):
        row: list[str] = []
        for tc in _children(tr, "tc"):
            span = tc.find(f"{{{_W}}}tcPr/{{{_W}}}gridSpan")
            width = int(span.get(f"{{{_W}}}val", "1")) if span is not None else 1
            vmerge = tc.find(f"{{{_W}}}tcPr/{{{_W}}}vMerge")
            continued = vmerge is not None and vmerge.get(f"{{{_W}}}val", "continue") == "continue"
            text = "" if continued else _cell_text(tc)
            row.extend([text] + [""] * (width - 1))
        if any(row):
            rows.append(row)
    return rows


def _children(parent: etree._Element, name: str) -> Iterator[etree._Element]:
    """Children ``w:name`` of ``parent``, including those wrapped in content controls."""
    for child in parent:
        if child.tag == f"{{{_W}}}{name}":
            yield child
        elif child.tag == f"{{{_W}}}sdt":
            for content in child.findall(f"{{{_W}}}sdtContent"):
                yield from _children(content, name)


def _cell_text(tc: etree._Element) -> str:
    lines = [paragraph_text(p) for p in tc.iter(f"{{{_W}}}p")]
    return clean_cell("\n".join(lines))


def _heading_styles(document) -> set[str]:
    """Ids of paragraph styles that are headings by name, outline level or inheritance."""
    found: set[str] = set()
    by_id = {}
    for style in document.styles.element.findall(f"{{{_W}}}style"):
        if style.get(f"{{{_W}}}type") == "paragraph":
            by_id[style.get(f"{{{_W}}}styleId")] = style

    def is_heading(style_id: str | None, depth: int = 0) -> bool:
        style = by_id.get(style_id)
        if style is None or depth > 5:
            return False
        name_el = style.find(f"{{{_W}}}name")
        name = (name_el.get(f"{{{_W}}}val", "") if name_el is not None else "").strip().lower()
        if name.startswith(_HEADING_PREFIXES) or (style_id or "").lower().startswith(("heading", "title")):
            return True
        level = style.find(f"{{{_W}}}pPr/{{{_W}}}outlineLvl")
        if level is not None and level.get(f"{{{_W}}}val", "9").isdigit() and int(level.get(f"{{{_W}}}val")) < 9:
            return True
        based = style.find(f"{{{_W}}}basedOn")
        return based is not None and is_heading(based.get(f"{{{_W}}}val"), depth + 1)

    for style_id in by_id:
        if is_heading(style_id):
            found.add(style_id)
    return found


def _is_heading(p: etree._Element, heading_styles: set[str]) -> bool:
    style = p.find(f"{{{_W}}}pPr/{{{_W}}}pStyle")
    if style is not None and style.get(f"{{{_W}}}val") in heading_styles:
        return True
    level = p.find(f"{{{_W}}}pPr/{{{_W}}}outlineLvl")
    value = level.get(f"{{{_W}}}val", "9") if level is not None else "9"
    return value.isdigit() and int(value) < 9
