"""CharNgramIndex: character 1–3-gram TF-IDF cosine with incremental add/remove."""

from __future__ import annotations

import numpy as np
import pytest

from index.chars import CharNgramIndex

DOCS = {
    1: "村干部优亲厚友，把低保名额给了亲戚",
    2: "局长收受供应商购物卡",
    3: "食堂承包给校长亲属",
}


def test_matches_across_word_splits_and_ranks_by_cosine():
    index = CharNgramIndex(DOCS, DOCS.values())
    scores, ids = index.search("优亲厚友 低保", 3)
    assert ids[0] == 1 and scores[0] > 0.2
    assert list(scores) == sorted(scores, reverse=True)
    assert 0.0 < index.scores_for("优亲厚友", [1])[1] <= 1.0 + 1e-6
    assert index.scores_for("优亲厚友", [2, 99]) == {2: 0.0, 99: 0.0}  # nothing shared; unknown id
    scores, ids = index.search("asdfgh qwerty", 3)
    assert len(ids) == 0


def test_identical_text_scores_one_and_remove_updates_idf():
    index = CharNgramIndex(DOCS, DOCS.values())
    assert index.scores_for(DOCS[2], [2])[2] == pytest.approx(1.0, abs=1e-5)
    before = index.scores_for("亲戚", [1])[1]
    index.add([4], ["亲戚朋友都来了"])  # 亲戚 is now less rare: its idf drops
    assert index.scores_for("亲戚", [1])[1] < before
    assert index.remove([4, 77]) == 1 and len(index) == 3
    assert index.scores_for("亲戚", [1])[1] == pytest.approx(before, rel=1e-5)
    _, ids = index.search("购物卡", 5, allowed=np.array([1, 3]))
    assert 2 not in ids.tolist()


def test_empty_index_finds_nothing():
    index = CharNgramIndex()
    index.add([], [])
    assert len(index) == 0 and index.search("公车", 5)[1].tolist() == [] and index.scores_for("公车", [1]) == {1: 0.0}


def test_replacing_a_text_keeps_one_row():
    index = CharNgramIndex([1], ["公车私用"])
    index.add([1], ["公款吃喝"])
    assert len(index) == 1
    assert index.search("私用", 5)[1].tolist() == []
    assert index.search("吃喝", 5)[1].tolist() == [1]
