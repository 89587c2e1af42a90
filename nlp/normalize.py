"""Normalise raw document text while keeping a map back to the original offsets.

Full-width digits/letters become half-width, ASCII punctuation inside Chinese text becomes the
full-width form, stray whitespace between Chinese characters goes, and traditional characters
are converted to simplified when the text is written in traditional script.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TO_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
_DROPPED = {"\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad"}
_SPACES = {" ", "\u3000", "\u00a0", "\u2002", "\u2003", "\u2009"}
# A wide gap before a short label and its colon separates the cells of a form typed with spaces
# (被反映人：欧建设    单位：城关镇人民政府    职务：城建办主任): it becomes a tab, as in a table row,
# instead of gluing 欧建设单位 together. Other gaps between Chinese characters still go.
_FORM_CELL = re.compile(r"[\u4e00-\u9fff]{1,8}[：:]")
TRADITIONAL_RATIO = 0.04  # share of CJK chars that change under t2s above which a text is traditional


@dataclass(frozen=True)
class NormalizedText:
    text: str
    origin: tuple[int, ...]  # origin[i] is the offset in the source text of text[i]
    traditional: bool = False

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``[start, end)`` of the normalised text to the source text."""
        if not self.origin:
            return 0, 0
        if end <= start:
            position = self.origin[min(start, len(self.origin) - 1)]
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


def _is_cjk(char: str) -> bool:
    return bool(char) and bool(_CJK.match(char)) or char in "，。；：？！、（）“”《》"


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> tuple[str, bool]:
    """Convert ``text`` to simplified characters if it is written in traditional script.

    Conversion is character by character so that offsets stay aligned.
    """
    cjk = [c for c in text if _CJK.match(c)]
    if not cjk:
        return text, False
    converter = _t2s()
    sample = "".join(cjk[:4000])
    converted = converter.convert(sample)
    changed = sum(a != b for a, b in zip(sample, converted)) if len(converted) == len(sample) else len(sample)
    if changed / len(sample) < TRADITIONAL_RATIO:
        return text, False
    out = []
    for char in text:
        if _CJK.match(char):
            simple = converter.convert(char)
            out.append(simple if len(simple) == 1 else char)
        else:
            out.append(char)
    return "".join(out), True


def _width_fold(char: str) -> str:
    code = ord(char)
    if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
        return chr(code - 0xFEE0)
    if char in "．":
        return "."
    if char in "％＋－＝／＃＆＊＠＿":
        return unicodedata.normalize("NFKC", char)
    return char


def normalize(source: str) -> NormalizedText:
    """Return the normalised text of ``source`` with its offset map."""
    text, traditional = to_simplified(source)
    chars: list[str] = []
    origin: list[int] = []
    length = len(text)
    for index, char in enumerate(text):
        if char in _DROPPED or (unicodedata.category(char) == "Cc" and char not in "\n\t"):
            continue
        if char == "\r":
            if index + 1 < length and text[index + 1] == "\n":
                continue
            char = "\n"
        char = _width_fold(char)
        if char in _SPACES:
            previous = chars[-1] if chars else "\n"
            following = _next_visible(text, index)
            if previous in " \n\t" or following in "\n":
                continue
            if _is_form_gap(text, index):
                char = "\t"
            elif _is_cjk(previous) and _is_cjk(following):
                continue
            else:
                char = " "
        elif char in _TO_FULL_WIDTH:
            previous = chars[-1] if chars else ""
            following = _next_visible(text, index)
            digit_context = previous.isdigit() and following.isdigit()
            if not digit_context and (_is_cjk(previous) or _is_cjk(following)):
                char = _TO_FULL_WIDTH[char]
        if char == "\n" and chars and chars[-1] == " ":
            chars.pop()
            origin.pop()
        if char == "\n" and len(chars) >= 2 and chars[-1] == "\n" and chars[-2] == "\n":
            continue
        chars.append(char)
        origin.append(index)
    return NormalizedText("".join(chars), tuple(origin), traditional)


def _is_form_gap(text: str, index: int) -> bool:
    end = index
    while end < len(text) and text[end] in _SPACES:
        end += 1
    return end - index >= 2 and bool(_FORM_CELL.match(text, end))


def _next_visible(text: str, index: int) -> str:
    for char in text[index + 1 : index + 8]:
        if char not in _SPACES:
            return char
    return "\n"
