"""Chinese numerals, money amounts and dates as plain values."""

from __future__ import annotations

import re

_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}


def chinese_to_number(text: str) -> float | None:
    """``"二十三"`` → 23, ``"二〇二四"`` → 2024, ``"3.5"`` → 3.5, ``"1,280"`` → 1280."""
    text = text.strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if all(c in _DIGITS for c in text):  # digit-by-digit form, e.g. a year
        return float("".join(str(_DIGITS[c]) for c in text))
    total, section, digit = 0.0, 0.0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            section += (digit if digit is not None else 1) * _UNITS[char]
            digit = None
        elif char in _BIG:
            total = (total + section + (digit or 0)) * _BIG[char]
            section, digit = 0.0, None
        else:
            return None
    return total + section + (digit or 0)


_NUM = r"\d[\d,]*(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+(?:[万亿][零〇一二两三四五六七八九十百千]*)?"
MONEY_PATTERN = re.compile(
    rf"(?P<currency>[¥￥])\s*(?P<cnum>\d[\d,]*(?:\.\d+)?)\s*(?P<cunit>万|亿)?元?"
    rf"|(?P<num>{_NUM})\s*(?P<approx1>余|多)?\s*(?P<unit>万|亿|千)?\s*(?P<approx2>余|多)?\s*(?:元|块钱|块)"
)


def money_value(match: re.Match) -> float | None:
    number_text = match.group("cnum") or match.group("num")
    value = chinese_to_number(number_text)
    if value is None:
        return None
    unit = match.group("cunit") or match.group("unit")
    if unit:
        value *= {"千": 1000, "万": 10_000, "亿": 100_000_000}[unit]
    return round(value, 2)


_CN_D = "〇零○一二三四五六七八九"
_CN_SMALL = "一二三四五六七八九十"
DATE_PATTERN = re.compile(
    rf"(?P<y>\d{{4}}|[{_CN_D}]{{4}})\s*年\s*(?P<m>\d{{1,2}}|[{_CN_SMALL}]{{1,2}})\s*月"
    rf"(?:\s*(?P<d>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})\s*[日号])?"
    rf"|(?<![\d.])(?P<y2>(?:19|20)\d{{2}})\s*[.\-/]\s*(?P<m2>\d{{1,2}})\s*[.\-/]\s*(?P<d2>\d{{1,2}})(?![\d.])"
    rf"|(?<![年\d])(?P<m3>\d{{1,2}}|[{_CN_SMALL}]{{1,2}})月(?P<d3>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})[日号]"
)


def date_value(match: re.Match, default_year: int | None = None) -> str | None:
    """ISO date (``YYYY-MM-DD``), or ``YYYY-MM`` when no day is given; None if impossible."""
    if match.group("y"):
        year, month, day = match.group("y"), match.group("m"), match.group("d")
    elif match.group("y2"):
        year, month, day = match.group("y2"), match.group("m2"), match.group("d2")
    else:
        if default_year is None:
            return None
        year, month, day = str(default_year), match.group("m3"), match.group("d3")
    y, m = chinese_to_number(year), chinese_to_number(month)
    d = chinese_to_number(day) if day else None
    if y is None or m is None or not (1900 <= y <= 2100 and 1 <= m <= 12):
        return None
    if d is None:
        return f"{int(y):04d}-{int(m):02d}"
    if not 1 <= d <= 31:
        return None
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
