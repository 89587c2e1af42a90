"""Parsing stage: a file (PDF, DOCX, DOC, text, image) → ParsedDocument of blocks in reading order.

Dispatch is by content (magic bytes), checked against the extension. Every failure is a
ParseError whose ``code`` is stable and whose ``message`` is Chinese for the user:
empty, too_large, unsupported_type, mismatched_type, corrupt, encrypted, encoding,
needs_libreoffice, ocr_failed.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from nlp.types import ParsedDocument, ParseError

from .limits import NO_LIMITS, Checkpoint, ParseLimits
from .sniffing import IMAGE_KINDS, KIND_LABELS, sniff

__all__ = ["SUPPORTED_SUFFIXES", "DEFAULT_MAX_BYTES", "ParseLimits", "parse_file", "parse_bytes", "sniff"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".md", ".csv"})
_EXPECTED_KIND: dict[str, str | None] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    **{suffix: None for suffix in TEXT_SUFFIXES},
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
}
SUPPORTED_SUFFIXES = frozenset(_EXPECTED_KIND)
_SUFFIX_FOR_KIND = {
    "pdf": ".pdf", "docx": ".docx", "doc": ".doc", "png": ".png", "jpeg": ".jpg", "tiff": ".tif", "bmp": ".bmp"
}  # fmt: skip


def parse_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, ocr: bool = True) -> ParsedDocument:
    """Parse the file at ``path``; its size is checked before it is read."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_large(size, max_bytes)
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    return parse_bytes(data, path.name, max_bytes=max_bytes, ocr=ocr)


def parse_bytes(
    data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES, ocr: bool = True,
    limits: ParseLimits = NO_LIMITS, checkpoint: Checkpoint | None = None,
) -> ParsedDocument:
    """Parse ``data``, an uploaded file called ``filename`` (the extension matters).

    ``limits``: per-document page and OCR caps; ``checkpoint``: called between pages (see nlp.parsing.limits)."""
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data:
        raise ParseError("empty", "文件为空（0 字节）。")
    suffix = PurePath(filename).suffix.lower()
    kind = sniff(data)
    if suffix not in SUPPORTED_SUFFIXES:
        if suffix or kind not in _SUFFIX_FOR_KIND:
            found = f"（内容是 {KIND_LABELS[kind]}）" if kind in KIND_LABELS else ""
            raise ParseError(
                "unsupported_type",
                f"不支持的文件类型：{suffix or '无扩展名'}{found}。"
                "目前支持 PDF、Word（.docx/.doc）、文本（.txt/.md/.csv）和图片（.png/.jpg/.tif/.bmp）。",
            )
        suffix = _SUFFIX_FOR_KIND[kind]  # no extension at all: trust the content

    document = _dispatch(data, filename, suffix, kind, ocr, limits, checkpoint)
    if not any(block.text.strip() for block in document.blocks):
        raise ParseError("empty", "文件中没有可提取的文字内容。")
    return document


def _dispatch(data: bytes, filename: str, suffix: str, kind: str | None, ocr: bool,
              limits: ParseLimits = NO_LIMITS, checkpoint: Checkpoint | None = None) -> ParsedDocument:
    expected = _EXPECTED_KIND[suffix]
    warning = None
    if kind == "encrypted_office" and suffix in (".docx", ".doc"):
        raise ParseError("encrypted", "Word 文档已加密（设有打开密码），无法读取。请解除密码后再上传。")
    if kind != expected:
        # Tolerated: images saved with another image extension; .doc ↔ .docx renamed by hand; RTF
        # saved as .doc (common in exports from office systems; LibreOffice converts it like a .doc).
        if (
            expected in IMAGE_KINDS
            and kind in IMAGE_KINDS
            or {kind, expected} == {"doc", "docx"}
            or (kind, expected) == ("rtf", "doc")
        ):
            warning = f"文件扩展名为 {suffix}，实际内容是 {KIND_LABELS[kind]}，已按实际内容读取。"
        else:
            what = KIND_LABELS.get(kind, "") if kind else ""
            if suffix in TEXT_SUFFIXES:
                what = f"{what}，不是文本"
            elif not what:
                what = "纯文本或无法识别的格式"
            space = " " if what[:1].isascii() else ""
            raise ParseError("mismatched_type", f"文件扩展名与实际内容不符：扩展名为 {suffix}，内容是{space}{what}")

    if kind == "pdf":
        from .pdf import parse_pdf

        document = parse_pdf(data, filename, ocr=ocr, limits=limits, checkpoint=checkpoint)
    elif kind == "docx":
        from .docx import parse_docx

        document = parse_docx(data, filename)
    elif kind in ("doc", "rtf"):
        from .doc import parse_doc

        document = parse_doc(data, filename)
    elif kind in IMAGE_KINDS:
        from .image import parse_image

        document = parse_image(data, filename, ocr=ocr, limits=limits, checkpoint=checkpoint)
    else:
        from .text import parse_text

        document = parse_text(data, filename, suffix)
    if warning:
        document.warnings.insert(0, warning)
    return document


def _too_large(size: int, max_bytes: int) -> ParseError:
    return ParseError("too_large", f"文件过大（{_megabytes(size)}），超过上限 {_megabytes(max_bytes)}。")


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} 字节"
    return f"{size / 1024 / 1024:.1f} MB"
