"""BM25 keyword search over jieba *words* (not characters) with bm25s.

Texts are tokenised with :func:`nlp.lexicon.words` (jieba plus the inspection dictionary), Latin
letters lower-cased, and stop-words / punctuation dropped (:data:`STOP_WORDS`). Documents are also
indexed under the dictionary words *inside* long words (jieba's search-mode rule, the usual
"fine-grained index, coarse query" split), because the inspection dictionary holds compounds such
as 公车私用 / 公车管理 that would otherwise hide 公车. Queries use plain jieba words. Matching is
still by words, never by characters: "公车" does not match "公共汽车站" (jieba: 公共汽车 / 站, and
公车 is not a substring of 公共汽车).

bm25s has no incremental update, so :meth:`KeywordIndex.add` / :meth:`KeywordIndex.remove` only
update the token lists and mark the index stale; the next search rebuilds the BM25 matrix from
the stored tokens (no re-tokenising). Rebuilding from tokens is cheap next to jieba: see
``bench/search.py`` for the numbers on 10k/100k documents.

Persistence: :meth:`KeywordIndex.save` writes one JSON file atomically (temp file in the same
directory, fsync, ``os.replace``) holding ids, texts and their tokens plus a signature of the
tokenizer (dictionary files, stop-words, jieba version). :meth:`KeywordIndex.load` reuses the
tokens when the signature matches and re-tokenises the stored texts when it does not, so a
dictionary update never leaves stale tokens behind. The BM25 matrix itself is not stored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import jieba
import numpy as np

from index.files import atomic_write
from nlp import lexicon

logging.getLogger("bm25s").setLevel(logging.WARNING)

TOKENIZER_VERSION = 1

# Chinese function words, pronouns, particles and generic connectives that carry no search
# signal in inspection documents. Punctuation and symbols are dropped by Unicode category.
STOP_WORDS = frozenset("""
的 地 得 了 着 过 和 与 及 以及 或 或者 并 并且 而 而且 且 在 于 是 为 被 把 将 对 对于 从 向 由 以
等 等等 之 其 其中 这 那 这个 那个 这些 那些 这样 那样 此 该 各 每 某 本 该项
我 你 他 她 它 我们 你们 他们 她们 它们 自己 大家 咱们
也 都 又 还 就 才 只 很 太 更 最 再 已 已经 曾 曾经 正在 没 没有 不 无 非
吗 呢 吧 啊 呀 嘛 哦 么 啦 呗
一个 一些 有 有的 个 种 些 里 上 下 中 内 外 后 前 时 时候
如果 因为 所以 但 但是 可是 然而 虽然 即 就是 还是 还有 以及 通过 根据 按照 关于
""".split())


def _is_noise(token: str) -> bool:
    """Punctuation, symbols and whitespace only."""
    return all(unicodedata.category(ch)[0] in "PSZC" for ch in token)


def _keep(word: str) -> bool:
    return word not in STOP_WORDS and not _is_noise(word)


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    """jieba words of ``text`` (via :func:`nlp.lexicon.words`) with their char spans."""
    out, position = [], 0
    for word in lexicon.words(text):
        start = text.find(word, position)
        if start < 0:  # cannot happen for jieba's segmentation, kept as a guard
            continue
        out.append((word, start, start + len(word)))
        position = start + len(word)
    return out


def _expand(word: str, start: int) -> list[tuple[str, int, int]]:
    """``word`` plus the dictionary words inside it (jieba's search-mode rule: 2-grams of words
    longer than 2 chars, 3-grams of words longer than 3), so "公车私用" is also found by "公车"."""
    out = [(word, start, start + len(word))]
    if len(word) > 2:
        freq = lexicon.tokenizer().FREQ
        for n in (2, 3):
            if len(word) <= n:
                break
            for i in range(len(word) - n + 1):
                gram = word[i:i + n]
                if freq.get(gram):
                    out.append((gram, start + i, start + i + n))
    return out


def query_tokens(text: str) -> list[str]:
    """BM25 query tokens: jieba words, Latin lower-cased, without stop-words and punctuation."""
    return list(_query_tokens(text))


@lru_cache(maxsize=4096)
def _query_tokens(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in lexicon.words(text) if _keep(w.lower()))


@lru_cache(maxsize=50_000)
def _expanded_spans(text: str) -> tuple[tuple[str, int, int], ...]:
    """Every word of ``text`` and the dictionary words inside it, with spans. Cached: hit texts
    recur across searches (a lead runs two searches per finding) and jieba dominates the cost."""
    return tuple(span for word, start, _ in _word_spans(text) for span in _expand(word, start))


def document_tokens(text: str) -> list[str]:
    """BM25 index tokens: the query tokens of ``text`` plus dictionary sub-words of long words."""
    return [g.lower() for word, start, _ in _word_spans(text)
            for g, _, _ in _expand(word, start) if _keep(g.lower())]


def matched_terms(query: str, text: str) -> list[tuple[str, int, int]]:
    """Query words found in ``text`` as ``(word, start, end)`` char spans, in text order.

    ``text[start:end] == word`` (the text's own spelling; Latin letters compare case-insensitively).
    The same rule as BM25 matching: whole jieba words of ``text`` and the dictionary words inside
    them (spans may therefore nest, e.g. 公车私用 and 公车 when the query has both).
    """
    wanted = set(_query_tokens(query))
    if not wanted or not text:
        return []
    return [(g, s, e) for g, s, e in _expanded_spans(text) if g.lower() in wanted]


def tokenizer_signature() -> str:
    """Changes whenever tokens() could tokenise a text differently."""
    digest = hashlib.sha256()
    digest.update(f"v{TOKENIZER_VERSION}|jieba {jieba.__version__}|".encode())
    digest.update(" ".join(sorted(STOP_WORDS)).encode("utf-8"))
    for path in sorted(lexicon.DICT_DIR.glob("*.txt")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class KeywordIndexError(ValueError):
    """The keyword index file is missing or unreadable."""


class KeywordIndex:
    """BM25 (bm25s, Lucene variant) over jieba words, keyed by int64 ids."""

    def __init__(self, ids: Iterable[int] = (), texts: Iterable[str] = (), *, k1: float = 1.5,
                 b: float = 0.75) -> None:
        self.k1, self.b = float(k1), float(b)
        self._texts: dict[int, str] = {}
        self._tokens: dict[int, list[str]] = {}
        self._bm25: bm25s.BM25 | None = None
        self._order = np.zeros(0, dtype=np.int64)  # document order of the built BM25 matrix
        self._stale = True
        ids, texts = list(ids), list(texts)
        if ids:
            self.add(ids, texts)

    def __len__(self) -> int:
        return len(self._tokens)

    def ids(self) -> np.ndarray:
        return np.array(sorted(self._tokens), dtype=np.int64)

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Add or replace documents; the BM25 matrix is rebuilt lazily on the next search."""
        ids = [int(i) for i in ids]
        texts = list(texts)
        if len(ids) != len(texts):
            raise ValueError(f"编号数量（{len(ids)}）与文本数量（{len(texts)}）不一致")
        cache: dict[str, list[str]] = {}  # identical texts are tokenised once
        for id_, text in zip(ids, texts):
            if not isinstance(text, str):
                raise ValueError(f"文本必须为字符串（编号 {id_}）")
            if text not in cache:
                cache[text] = document_tokens(text)
            self._texts[id_] = text
            self._tokens[id_] = cache[text]
        if ids:
            self._stale = True

    def remove(self, ids: Iterable[int]) -> int:
        """Remove documents; returns how many were present."""
        removed = 0
        for id_ in ids:
            if self._tokens.pop(int(id_), None) is not None:
                self._texts.pop(int(id_), None)
                removed += 1
        if removed:
            self._stale = True
        return removed

    def _build(self) -> None:
        self._order = np.array(sorted(self._tokens), dtype=np.int64)
        self._bm25 = None
        if len(self._order):
            import bm25s  # with scipy: loaded with the first index, not when the module is imported

            logging.getLogger("bm25s").setLevel(logging.WARNING)  # again: its import may have set it
            bm25 = bm25s.BM25(k1=self.k1, b=self.b)
            bm25.index([self._tokens[i] for i in self._order.tolist()], show_progress=False)
            self._bm25 = bm25
        self._stale = False

    def search(self, query: str, k: int, allowed: Iterable[int] | np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` documents sharing at least one word with ``query``.

        Returns ``(scores, ids)``: 1-D float32 / int64 arrays of length ≤ ``k``, best first (ties by
        id); documents with no query word are never returned, so there is no -1 padding.
        ``allowed`` restricts results to those ids.
        """
        if int(k) <= 0:
            raise ValueError(f"k 必须为正整数：{k}")
        empty = np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if self._stale:
            self._build()
        if self._bm25 is None:
            return empty
        vocab = self._bm25.vocab_dict
        query_ids = sorted({vocab[t] for t in query_tokens(query) if t in vocab})
        if not query_ids:
            return empty
        scores = np.asarray(self._bm25.get_scores_from_ids(query_ids), dtype=np.float32)
        candidates = np.flatnonzero(scores > 0)
        if allowed is not None:  # only the documents with a query word are looked up
            candidates = candidates[np.isin(self._order[candidates], np.asarray(
                list(allowed) if not isinstance(allowed, np.ndarray) else allowed, dtype=np.int64))]
        if not len(candidates):
            return empty
        k = min(int(k), len(candidates))
        cand_scores = scores[candidates]
        if k < len(candidates):
            # keep everything tied with the k-th score so the id tie-break below is exact
            kth = np.partition(cand_scores, len(candidates) - k)[len(candidates) - k]
            keep = cand_scores >= kth
            candidates, cand_scores = candidates[keep], cand_scores[keep]
        order = np.lexsort((self._order[candidates], -cand_scores))[:k]
        return cand_scores[order].astype(np.float32), self._order[candidates[order]]

    matched_terms = staticmethod(matched_terms)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """Write ids, texts and tokens atomically as gzip-compressed JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        order = sorted(self._tokens)
        payload = {
            "format": 1, "signature": tokenizer_signature(), "k1": self.k1, "b": self.b,
            "ids": order, "texts": [self._texts[i] for i in order],
            "tokens": [self._tokens[i] for i in order],
        }
        data = gzip.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8"), compresslevel=3)
        atomic_write(path, lambda stream: stream.write(data))

    @classmethod
    def load(cls, path: str | Path) -> "KeywordIndex":
        """Read an index written by :meth:`save`; re-tokenises if the tokenizer has changed."""
        path = Path(path)
        try:
            payload = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
            if payload.get("format") != 1:
                raise KeywordIndexError(f"不支持的关键词索引文件版本：{payload.get('format')}")
            ids, texts, toks = payload["ids"], payload["texts"], payload["tokens"]
            if not (len(ids) == len(texts) == len(toks)):
                raise KeywordIndexError(f"关键词索引文件内容不一致：{path}")
        except FileNotFoundError:
            raise KeywordIndexError(f"关键词索引文件不存在：{path}") from None
        except KeywordIndexError:
            raise
        except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeywordIndexError(f"关键词索引文件已损坏，无法读取：{path}（{exc}）") from exc
        out = cls(k1=payload.get("k1", 1.5), b=payload.get("b", 0.75))
        if payload.get("signature") == tokenizer_signature():
            out._texts = {int(i): t for i, t in zip(ids, texts)}
            out._tokens = {int(i): list(t) for i, t in zip(ids, toks)}
            out._stale = True
        else:
            out.add(ids, texts)
        return out
