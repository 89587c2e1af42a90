"""Plain text (.txt .md .csv): detect the encoding (UTF-8/GBK/GB18030/Big5/UTF-16), one block per line."""

from __future__ import annotations

import codecs
import unicodedata

from charset_normalizer import from_bytes

from nlp.types import Block, ParsedDocument, ParseError

from ._layout import is_cjk

_BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
MAX_BAD_RATIO = 0.02  # share of control/unassigned/replacement characters tolerated
MAX_REPLACED_RATIO = 0.001  # share of undecodable bytes tolerated (with a warning)

_ENCODING_ERROR = "无法识别文本文件的编码。请用 UTF-8 或 GBK 编码另存后再上传。"
_BINARY_ERROR = "文件扩展名与实际内容不符：扩展名为 {suffix}，内容是二进制数据，不是文本。"


def parse_text(data: bytes, filename: str, suffix: str = ".txt") -> ParsedDocument:
    text, encoding, warns = decode(data, suffix)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [Block(text=line.strip()) for line in text.split("\n") if line.strip()]
    if not blocks:
        raise ParseError("empty", "文本文件中没有文字内容。")
    return ParsedDocument(filename=filename, media_type="text", blocks=blocks, encoding=encoding, warnings=warns)


def decode(data: bytes, suffix: str = ".txt") -> tuple[str, str, list[str]]:
    """(text, encoding name, warnings) for ``data``; raises ParseError("encoding") if unsure."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            text, warns = _decode_tolerant(data[len(bom) :], codec)
            if text is None:
                raise ParseError("encoding", _ENCODING_ERROR, f"bad {name} after BOM")
            return _checked(text), name, warns

    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None or _bad_ratio(text) > MAX_BAD_RATIO:
            raise ParseError("mismatched_type", _BINARY_ERROR.format(suffix=suffix), "NUL bytes")
        return text, "utf-16", []

    text = _try(data, "utf-8")
    if text is not None:
        return _checked(text), "utf-8", []

    best = from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    if best is not None:
        codec = best.encoding
        text = str(best)
        if codec == "gb18030":
            codec = "gbk" if _try(data, "gbk") is not None else "gb18030"
        return _checked(text), codec, []

    for codec in ("utf-8", "gb18030"):  # a few broken bytes in otherwise fine text
        text, warns = _decode_tolerant(data, codec)
        if text is not None:
            return _checked(text), codec, warns
    raise ParseError("encoding", _ENCODING_ERROR, "no candidate encoding")


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _decode_tolerant(data: bytes, codec: str) -> tuple[str | None, list[str]]:
    text = _try(data, codec)
    if text is not None:
        return text, []
    text = data.decode(codec, errors="replace")
    if text.count("\ufffd") > max(1, MAX_REPLACED_RATIO * len(text)):
        return None, []
    return text, ["文本中有少量无法解码的字节，已替换为 �。"]


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 LE or BE text without a BOM, if one of them reads as plausible Chinese/ASCII text."""
    best, best_score = None, 0.0
    for codec in ("utf-16-le", "utf-16-be"):
        text = _try(data, codec)
        if text:
            sample = text[:20_000]
            plausible = sum(1 for ch in sample if is_cjk(ch) or ch.isspace() or " " <= ch <= "~")
            score = plausible / len(sample)
            if score > best_score:
                best, best_score = text, score
    return best if best_score >= 0.95 else None


def _bad_ratio(text: str) -> float:
    if len(text) > 200_000:  # sample 20 evenly spaced 10k-character windows of long texts
        step = len(text) // 20
        text = "".join(text[i : i + 10_000] for i in range(0, len(text), step))
    if not text:
        return 0.0
    bad = 0
    for ch in text:
        if ch in "\t\n\r\f\v":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cn", "Co", "Cs") or ch == "\ufffd":
            bad += 1
    return bad / len(text)


def _checked(text: str) -> str:
    if _bad_ratio(text) > MAX_BAD_RATIO:
        raise ParseError("encoding", _ENCODING_ERROR, "too many control or unassigned characters")
    return text
