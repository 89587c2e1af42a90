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


# Decompression-bomb limits for zip containers (DOCX, XLSX), checked on the central directory
# before any member is inflated. A DOCX of 300 KB can hold hundreds of MB of repeated XML.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ENTRY_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024  # small members compress well legitimately; only big ones are judged
MAX_ENTRIES = 5000


def check_zip_limits(data: bytes, max_unpacked: int = MAX_UNPACKED_BYTES) -> None:
    """Raise ParseError("too_large") when the archive would inflate beyond the limits.

    Sizes come from the central directory; a member that lies about its size is still bounded at
    read time by zipfile, which stops at the declared size and checks the CRC. An unreadable
    directory is left for the format parser to report as corrupt.
    """
    from nlp.types import ParseError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    if len(entries) > MAX_ENTRIES:
        raise ParseError("too_large", f"文件内部包含的部件过多（{len(entries)} 个，上限 {MAX_ENTRIES} 个），"
                                      "可能是恶意构造的文件，已拒绝读取。")
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > RATIO_MIN_BYTES and entry.file_size > MAX_ENTRY_RATIO * max(entry.compress_size, 1):
            raise ParseError("too_large", f"文件内部内容的压缩比异常（超过 {MAX_ENTRY_RATIO}:1），"
                                          "可能是“压缩炸弹”，已拒绝读取。",
                             f"{entry.file_size}/{entry.compress_size}")
    if total > max_unpacked:
        raise ParseError("too_large", f"文件解压后过大（约 {total / 1048576:.0f} MB，上限 "
                                      f"{max_unpacked / 1048576:.0f} MB），已拒绝读取。")
