"""KeywordIndex: real bm25s over real jieba words with the inspection dictionary."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from index import keyword as kw
from index.keyword import KeywordIndex, KeywordIndexError, matched_terms
from nlp import lexicon

DOCS = {
    1: "副镇长钱永军长期把公车开回家私用，加油费在镇里报销。",
    2: "市区新建了一个公共汽车站，方便群众出行。",
    3: "镇党委开会决定给干部突击发放年终补助46.8万元。",
    4: "公车私用问题突出，公车管理混乱。",
    5: "办公楼维修由宏达公司承建，不用招标了，金额38万元。",
    6: "会议决定防汛物资采购按程序报县财政局审批。",
}


@pytest.fixture(scope="module")
def index() -> KeywordIndex:
    return KeywordIndex(list(DOCS), list(DOCS.values()))


def test_tokenizer_assumptions():
    # what jieba does with our dictionary, which the examples below rely on
    assert lexicon.words("公共汽车站") == ["公共汽车", "站"]
    assert "公车" in lexicon.words(DOCS[1])
    assert "公车私用" in lexicon.words(DOCS[4])  # a dictionary compound
    assert kw.query_tokens("的 了 和与及在是等，。") == []
    assert kw.query_tokens("ABC 公车") == ["abc", "公车"]


def test_words_not_characters(index):
    # 公车 shares both characters with 公共汽车站 but is not one of its words
    scores, ids = index.search("公车", 10)
    assert 2 not in ids
    assert set(ids.tolist()) == {1, 4}
    assert index.search("汽车", 10)[1].tolist() == [2]  # a real word inside 公共汽车
    assert index.search("车", 10)[1].size == 0  # single characters are not indexed on their own


def test_ranks_document_with_query_words_first(index):
    scores, ids = index.search("违规发放年终补助", 3)
    assert ids[0] == 3 and scores.dtype == np.float32 and ids.dtype == np.int64
    assert (np.diff(scores) <= 0).all()
    scores, ids = index.search("招标 办公楼维修", 10)
    assert ids.tolist() == [5]
    assert index.search("防汛物资采购审批", 10)[1][0] == 6


def test_compounds_found_by_their_parts(index):
    scores, ids = index.search("公车", 10)
    assert ids[0] == 4  # 公车 twice (inside 公车私用 / 公车管理) beats once
    assert index.search("公车私用", 10)[1].tolist() == [4]  # the compound query stays specific


def test_stop_words_and_empty_queries(index):
    assert index.search("的了和在是", 5)[1].size == 0
    assert index.search("", 5)[1].size == 0
    assert index.search("完全无关的词语外星人", 5)[1].size == 0
    with pytest.raises(ValueError):
        index.search("公车", 0)


def test_allowed_and_k(index):
    assert index.search("公车", 10, allowed=[1, 2, 3]).__getitem__(1).tolist() == [1]
    assert index.search("公车", 10, allowed=np.array([2, 3], dtype=np.int64))[1].size == 0
    assert index.search("公车 万元", 1)[1].size == 1


def test_add_remove_replace_keep_results_right():
    index = KeywordIndex([1, 2], [DOCS[1], DOCS[2]])
    assert index.search("招标", 5)[1].size == 0
    index.add([7], [DOCS[5]])
    assert index.search("招标", 5)[1].tolist() == [7]
    index.add([7], ["内容已更正，与采购无关。"])  # replace
    assert index.search("招标", 5)[1].size == 0 and len(index) == 3
    assert index.search("更正", 5)[1].tolist() == [7]
    assert index.remove([1, 99]) == 1
    assert index.search("公车", 5)[1].size == 0 and index.ids().tolist() == [2, 7]
    assert index.remove([2, 7]) == 2
    assert len(index) == 0 and index.search("更正", 5)[1].size == 0
    with pytest.raises(ValueError, match="数量"):
        index.add([1, 2], ["只有一条"])


def test_scores_follow_document_frequency():
    # after removal the idf changes; scores must be those of a fresh index over the same docs
    texts = {i: DOCS[i] for i in (1, 3, 4, 5)}
    index = KeywordIndex(list(DOCS), list(DOCS.values()))
    index.remove([2, 6])
    fresh = KeywordIndex(list(texts), list(texts.values()))
    a, b = index.search("公车 万元", 10), fresh.search("公车 万元", 10)
    assert np.array_equal(a[1], b[1]) and np.allclose(a[0], b[0])


def test_matched_terms_spans_are_exact():
    text = DOCS[1]
    spans = matched_terms("公车 加油费报销", text)
    assert spans == [("公车", 9, 11), ("加油", 17, 19), ("报销", 23, 25)]  # 费 alone is not in the text's words
    for word, start, end in spans:
        assert text[start:end] == word
    assert ("公车", text.index("公车"), text.index("公车") + 2) in spans
    assert ("报销", text.index("报销"), text.index("报销") + 2) in spans
    assert matched_terms("公车", DOCS[2]) == []  # no match inside 公共汽车
    text4 = DOCS[4]
    assert matched_terms("公车", text4) == [("公车", 0, 2), ("公车", 9, 11)]
    assert matched_terms("公车私用", text4) == [("公车私用", 0, 4)]
    assert KeywordIndex.matched_terms("ABC", "报告abc与ABC") == [("abc", 2, 5), ("ABC", 6, 9)]
    assert matched_terms("的", "我的") == []


def test_save_load_round_trip(tmp_path, index):
    path = tmp_path / "kw" / "bm25.json.gz"
    index.save(path)
    (path.parent / f".{path.name}.junk.tmp").write_bytes(b"partial")
    loaded = KeywordIndex.load(path)
    assert loaded.ids().tolist() == sorted(DOCS)
    for query in ("公车", "年终补助", "招标 审批"):
        a, b = index.search(query, 5), loaded.search(query, 5)
        assert np.array_equal(a[1], b[1]) and np.allclose(a[0], b[0])


def test_load_retokenises_when_tokenizer_changed(tmp_path, index):
    path = tmp_path / "bm25.json.gz"
    index.save(path)
    payload = json.loads(gzip.decompress(path.read_bytes()))
    payload["signature"] = "old"
    payload["tokens"] = [["过期"] for _ in payload["tokens"]]
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    loaded = KeywordIndex.load(path)
    assert loaded.search("过期", 5)[1].size == 0
    assert loaded.search("公车", 5)[1].tolist() == [4, 1]


def test_load_missing_or_corrupt(tmp_path):
    with pytest.raises(KeywordIndexError, match="不存在"):
        KeywordIndex.load(tmp_path / "none.json.gz")
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(KeywordIndexError, match="损坏"):
        KeywordIndex.load(bad)
