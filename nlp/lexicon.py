"""The inspection vocabulary shipped in ``corpora/dict`` and a jieba tokenizer that knows it."""

from __future__ import annotations

import bisect
import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba

DICT_DIR = Path(__file__).resolve().parents[1] / "corpora" / "dict"
POSITION_TAG = "nposition"
LONG_TEXT = 2000  # characters: a text this long is a document whose sentences will be asked for

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
    import jieba.posseg  # its HMM model loads here, when a text is first tagged, not on import

    return jieba.posseg.POSTokenizer(tokenizer())


def words(text: str) -> list[str]:
    """jieba words of ``text`` (accurate mode), whitespace dropped."""
    return [w for w in tokenizer().lcut(text) if w.strip()]


def tagged_words(text: str) -> list[tuple[str, str, int]]:
    """``(word, pos, start)`` triples from jieba's POS tagger.

    A sentence of a document tagged shortly before is cut from that document's tags instead of
    tagged again (the pipeline reads entities of the whole text, then of every finding): jieba tags
    each run of Han/alphanumeric characters on its own, so a slice that starts and ends where such
    a run does, on token boundaries, is exactly what tagging the sentence alone gives."""
    return list(_sliced(text) or _tagged_words(text))


_HAN_RUN = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&._]")
_RECENT_DOCUMENTS = 4
_recent: list[tuple[str, tuple, list[int]]] = []  # (text, tags, token starts), newest last
_recent_lock = threading.Lock()


def _remember(text: str, tags: tuple) -> None:
    with _recent_lock:
        _recent.append((text, tags, [start for _, _, start in tags]))
        del _recent[:-_RECENT_DOCUMENTS]


def _run_edge(document: str, position: int) -> bool:
    """Whether a run of Han/alphanumeric characters cannot continue across ``position``."""
    return (position in (0, len(document)) or not _HAN_RUN.match(document[position - 1])
            or not _HAN_RUN.match(document[position]))


def _sliced(text: str) -> tuple | None:
    if not text:
        return None
    with _recent_lock:
        recent = list(_recent)
    for document, tags, starts in reversed(recent):
        if len(document) <= len(text):
            continue
        offset = document.find(text)
        end = offset + len(text)
        if offset < 0 or not (_run_edge(document, offset) and _run_edge(document, end)):
            continue
        first, last = bisect.bisect_left(starts, offset), bisect.bisect_left(starts, end)
        if first == len(starts) or starts[first] != offset or (last < len(starts) and starts[last] != end):
            continue
        return tuple((word, flag, start - offset) for word, flag, start in tags[first:last])
    return None


@lru_cache(maxsize=8192)  # leads and reports read the same case and finding texts again and again
def _tagged_words(text: str) -> tuple[tuple[str, str, int], ...]:
    # people, organisations and their roles all read the same sentence: tag it once
    out, position = [], 0
    for pair in pos_tokenizer().lcut(text):
        start = text.find(pair.word, position)
        if start < 0:
            start = position
        out.append((pair.word, pair.flag, start))
        position = start + len(pair.word)
    if len(text) >= LONG_TEXT:
        _remember(text, tuple(out))
    return tuple(out)
