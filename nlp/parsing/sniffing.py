"""Content sniffing by magic bytes. Plain text has no magic and sniffs as ``None``."""

from __future__ import annotations

import io
import struct
import zipfile

# What a sniffed kind is called in user-facing messages.
KIND_LABELS: dict[str, str] = {
    "pdf": "PDF 文档",
    "docx": "DOCX 文档",
    "doc": "旧版 Word（.doc）文档",
    "encrypted_office": "加密的 Office 文档",
    "ole2": "Office 97-2003 文件（不是 Word 文档）",
    "xlsx": "Excel 表格",
    "pptx": "PowerPoint 演示文稿",
    "ofd": "OFD 版式文档",
    "zip": "ZIP 压缩包",
    "rar": "RAR 压缩包",
    "7z": "7z 压缩包",
    "gzip": "GZIP 压缩包",
    "rtf": "RTF 文档",
    "png": "PNG 图片",
    "jpeg": "JPEG 图片",
    "tiff": "TIFF 图片",
    "bmp": "BMP 图片",
    "gif": "GIF 图片",
    "webp": "WebP 图片",
}

IMAGE_KINDS = frozenset({"png", "jpeg", "tiff", "bmp"})

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(data: bytes) -> str | None:
    """The kind of file ``data`` holds according to its magic bytes (a key of KIND_LABELS), or None.

    None means no known signature: possibly plain text, possibly an unknown binary format.
    """
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data)
    if head.startswith(_OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            return "encrypted_office"
        if "WordDocument".encode("utf-16-le") in data:
            return "doc"
        return "ole2"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"BM") and len(data) >= 18:
        (dib_size,) = struct.unpack("<I", data[14:18])
        if dib_size in (12, 16, 40, 52, 56, 64, 108, 124):
            return "bmp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if b"%PDF-" in data[:1024]:  # the spec lets junk precede the header
        return "pdf"
    return None


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        # Truncated archive: judge by the member names visible in the local headers.
        return "docx" if b"word/document.xml" in data else "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "OFD.xml" in names:
        return "ofd"
    return "zip"
