"""The inspection vocabulary shipped in ``corpora/dict`` and a jieba tokenizer that knows it."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import jieba
import jieba.posseg

DICT_DIR = Path(__file__).resolve().parents[1] / "corpora" / "dict"
POSITION_TAG = "nposition"

jieba.setLogLevel(logging.WARNING)


def _lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


@lru_cache(maxsize=1)
def positions() -> tuple[str, ...]:
    """Position titles, longest first so that regex alternations prefer the full title."""
    return tuple(sorted(set(_lines(DICT_DIR / "positions.txt")), key=len, reverse=True))


@lru_cache(maxsize=1)
def not_names() -> frozenset[str]:
    """Words that are never person names although jieba may tag them ``nr`` (张贴, 高悬, 牛鼻子)."""
    return frozenset(_lines(DICT_DIR / "not_names.txt"))


@lru_cache(maxsize=1)
def tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with the inspection dictionary and position titles loaded."""
    tok = jieba.Tokenizer()
    tok.initialize()
    tok.load_userdict(str(DICT_DIR / "inspection.txt"))
    for title in positions():
        tok.add_word(title, freq=2000, tag=POSITION_TAG)
    return tok


@lru_cache(maxsize=1)
def pos_tokenizer() -> jieba.posseg.POSTokenizer:
    return jieba.posseg.POSTokenizer(tokenizer())


def words(text: str) -> list[str]:
    """jieba words of ``text`` (accurate mode), whitespace dropped."""
    return [w for w in tokenizer().lcut(text) if w.strip()]


def tagged_words(text: str) -> list[tuple[str, str, int]]:
    """``(word, pos, start)`` triples from jieba's POS tagger."""
    return list(_tagged_words(text))


@lru_cache(maxsize=256)
def _tagged_words(text: str) -> tuple[tuple[str, str, int], ...]:
    # people, organisations and their roles all read the same sentence: tag it once
    out, position = [], 0
    for pair in pos_tokenizer().lcut(text):
        start = text.find(pair.word, position)
        if start < 0:
            start = position
        out.append((pair.word, pair.flag, start))
        position = start + len(pair.word)
    return tuple(out)
