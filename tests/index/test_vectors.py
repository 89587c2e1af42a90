"""VectorIndex on real faiss indexes written to tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from index import vectors as vx
from index.vectors import VectorIndex, VectorIndexError, choose_kind, load_consistent

KINDS = ["flat", "hnsw", "ivf"]
DIM = 32


def unit(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(n: int, dim: int = 64, clusters: int = 60, seed: int = 0) -> np.ndarray:
    """Unit vectors around shared random centres (noise norm ≈ 0.6): topical structure like real
    sentence embeddings, unlike uniform noise on which every ANN index degrades."""
    rng = np.random.default_rng(seed)
    centres = unit(clusters, dim, 12345)
    noise = (0.6 / np.sqrt(dim)) * rng.standard_normal((n, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + noise
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def ids_for(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64) * 7 + 1000  # not positions: catches id/position mix-ups


@pytest.fixture(scope="module")
def data():
    return ids_for(2000), unit(2000)


@pytest.fixture(scope="module")
def cdata():
    return ids_for(2000), clustered(2000, dim=DIM)


@pytest.mark.parametrize("kind", KINDS)
def test_exact_top1_for_stored_vectors(kind, data):
    ids, x = data
    index = VectorIndex(DIM, kind)
    index.add(ids, x)
    assert len(index) == 2000 and np.array_equal(index.ids(), ids)
    scores, found = index.search(x[:200], 5)
    assert scores.shape == found.shape == (200, 5) and found.dtype == np.int64
    assert np.array_equal(found[:, 0], ids[:200])
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_recall_at_10_against_flat(kind):
    x = clustered(4000)
    queries = clustered(200, seed=9)
    ids = ids_for(len(x))
    flat, approx = VectorIndex(64, "flat"), VectorIndex(64, kind)
    flat.add(ids, x)
    approx.add(ids, x)
    _, truth = flat.search(queries, 10)
    _, got = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(g)) / 10 for t, g in zip(truth, got)])
    assert recall >= 0.9, recall


def test_empty_index_and_padding():
    index = VectorIndex(DIM, "flat")
    scores, found = index.search(unit(2), 3)
    assert (found == -1).all() and np.isneginf(scores).all()
    index.add([1, 2], unit(2))
    scores, found = index.search(unit(1, seed=3), 4)
    assert sorted(found[0, :2]) == [1, 2] and (found[0, 2:] == -1).all() and np.isneginf(scores[0, 2:]).all()
    ivf = VectorIndex(DIM, "ivf")  # untrained until the first add
    assert (ivf.search(unit(1), 2)[1] == -1).all() and ivf.remove([1]) == 0


def test_rejects_bad_input():
    index = VectorIndex(DIM, "flat")
    with pytest.raises(ValueError, match="维度"):
        index.add([1], unit(1, dim=DIM + 1))
    with pytest.raises(ValueError, match="数量"):
        index.add([1, 2], unit(1))
    with pytest.raises(ValueError, match="非负"):
        index.add([-1], unit(1))
    with pytest.raises(ValueError, match="未知"):
        VectorIndex(DIM, "lsh")


@pytest.mark.parametrize("kind", KINDS)
def test_re_add_replaces(kind, data):
    ids, x = data
    index = VectorIndex(DIM, kind)
    index.add(ids[:500], x[:500])
    target = int(ids[10])
    index.add([target], x[1500:1501])  # same id, new vector
    assert len(index) == 500
    _, found = index.search(x[1500:1501], 1)
    assert found[0, 0] == target
    _, found = index.search(x[10:11], 3)
    assert target not in found[0]  # the old vector is gone
    # duplicates inside one batch: the last one wins
    index.add([target, target], np.vstack([x[1600], x[1601]]))
    assert len(index) == 500
    assert index.search(x[1601:1602], 1)[1][0, 0] == target


@pytest.mark.parametrize("kind", KINDS)
def test_remove(kind, data):
    ids, x = data
    index = VectorIndex(DIM, kind)
    index.add(ids[:1000], x[:1000])
    assert index.remove(np.concatenate([ids[:100], [999_999]])) == 100  # unknown id ignored
    assert index.remove(ids[:100]) == 0
    assert len(index) == 900 and np.array_equal(index.ids(), ids[100:1000])
    _, found = index.search(x[:100], 10)
    assert not np.isin(found, ids[:100]).any()
    assert np.array_equal(index.search(x[100:200], 1)[1][:, 0], ids[100:200])


def test_hnsw_tombstones_then_automatic_rebuild(data):
    ids, x = data
    index = VectorIndex(DIM, "hnsw")
    index.add(ids[:1000], x[:1000])
    assert index.remove(ids[:150]) == 150
    assert index.tombstones == 150 and len(index) == 850  # 15 %: kept as tombstones
    index.add(ids[150:160], x[1800:1810])  # replacements are tombstones too
    assert index.tombstones == 160
    _, found = index.search(x[:160], 10)
    assert not np.isin(found, ids[:150]).any()
    assert np.array_equal(index.search(x[1800:1810], 1)[1][:, 0], ids[150:160])
    index.remove(ids[160:250])  # 250 dead of 1010 stored > 20 %: rebuilt
    assert index.tombstones == 0 and len(index) == 760
    assert np.array_equal(index.ids(), np.concatenate([ids[150:160], ids[250:1000]]))
    assert np.array_equal(index.search(x[250:1000], 1)[1][:, 0], ids[250:1000])
    assert np.array_equal(index.search(x[1800:1810], 1)[1][:, 0], ids[150:160])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("exact_max", [vx.EXACT_FILTER_MAX, 0])  # exact scoring / faiss selector
def test_filtered_search(kind, exact_max, cdata, monkeypatch):
    monkeypatch.setattr(vx, "EXACT_FILTER_MAX", exact_max)
    ids, x = cdata
    index = VectorIndex(DIM, kind)
    index.add(ids, x)
    index.remove(ids[:10])
    rng = np.random.default_rng(5)
    allowed = np.sort(rng.choice(ids[10:], 300, replace=False))
    allowed_with_noise = np.concatenate([allowed, ids[:10], [12_345_678]])  # removed / unknown ids
    queries = x[np.searchsorted(ids, allowed[:20])]
    scores, found = index.search(queries, 10, allowed=allowed_with_noise)
    assert np.isin(found[found >= 0], allowed).all()
    assert np.array_equal(found[:, 0], allowed[:20])
    # exact answer on the allowed subset, for comparison
    sub = x[np.searchsorted(ids, allowed)]
    truth = allowed[np.argsort(-(queries @ sub.T), axis=1)[:, :10]]
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= (1.0 if kind == "flat" or exact_max else 0.9), recall
    # fewer allowed than k: padded
    _, found = index.search(queries[:1], 5, allowed=allowed[:2])
    assert sorted(found[0, :2]) == sorted(allowed[:2]) and (found[0, 2:] == -1).all()
    assert (index.search(queries[:1], 5, allowed=[])[1] == -1).all()


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(kind, data, tmp_path):
    ids, x = data
    index = VectorIndex(DIM, kind, ef_search=80, nprobe=16)
    index.add(ids, x)
    index.remove(ids[:50])
    path = tmp_path / "sub" / f"{kind}.vec"
    index.save(path)
    (path.parent / f".{path.name}.leftover.tmp").write_bytes(b"half-written garbage")
    loaded = VectorIndex.load(path)
    assert (loaded.kind, loaded.dim, loaded.ef_search, loaded.nprobe) == (kind, DIM, 80, 16)
    assert loaded.tombstones == index.tombstones and len(loaded) == len(index)
    assert np.array_equal(loaded.ids(), index.ids())
    for a, b in zip(index.search(x[:50], 10), loaded.search(x[:50], 10)):
        assert np.array_equal(a, b)
    # the loaded index keeps working and saves again over the old file
    loaded.add(ids[:5], x[:5])
    loaded.remove(ids[100:105])
    loaded.save(path)
    again = VectorIndex.load(path)
    assert len(again) == len(index) and np.array_equal(again.search(x[:5], 1)[1][:, 0], ids[:5])
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, f".{path.name}.leftover.tmp"])


def test_failed_save_keeps_old_file(data, tmp_path, monkeypatch):
    ids, x = data
    path = tmp_path / "v.vec"
    index = VectorIndex(DIM, "flat")
    index.add(ids[:10], x[:10])
    index.save(path)
    before = path.read_bytes()
    index.add(ids[10:20], x[10:20])

    def boom(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(vx.faiss, "write_index", boom)
    with pytest.raises(RuntimeError):
        index.save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["v.vec"]


def test_load_rejects_missing_and_corrupt(tmp_path, data):
    ids, x = data
    with pytest.raises(VectorIndexError, match="不存在"):
        VectorIndex.load(tmp_path / "nope.vec")
    path = tmp_path / "v.vec"
    path.write_bytes(b"not an index at all")
    with pytest.raises(VectorIndexError):
        VectorIndex.load(path)
    index = VectorIndex(DIM, "hnsw")
    index.add(ids[:100], x[:100])
    index.save(path)
    path.write_bytes(path.read_bytes()[:-1000])  # truncated
    with pytest.raises(VectorIndexError):
        VectorIndex.load(path)


def test_choose_kind():
    assert choose_kind(0) == "flat" and choose_kind(vx.FLAT_MAX) == "flat"
    assert choose_kind(vx.FLAT_MAX + 1) == "hnsw"


class Source:
    """Stands in for the database: vectors by id, counting calls."""

    def __init__(self, ids, x):
        self.table = {int(i): v for i, v in zip(ids, x)}
        self.calls: list[list[int]] = []

    def __call__(self, wanted: list[int]) -> np.ndarray:
        self.calls.append(list(wanted))
        return np.vstack([self.table[i] for i in wanted])


def test_load_consistent(tmp_path, data):
    ids, x = data
    source = Source(ids, x)
    path = tmp_path / "idx" / "v.vec"
    expected = set(int(i) for i in ids[:300])

    index, rebuilt = load_consistent(path, expected, source, DIM)  # missing file
    assert rebuilt and path.exists() and index.kind == choose_kind(300)
    assert source.calls == [sorted(expected)]
    assert np.array_equal(index.search(x[:20], 1)[1][:, 0], ids[:20])

    index, rebuilt = load_consistent(path, expected, source, DIM)  # consistent: loaded as is
    assert not rebuilt and len(source.calls) == 1 and set(index.ids().tolist()) == expected

    expected2 = (expected - {int(ids[0])}) | {int(ids[500])}  # database moved on
    index, rebuilt = load_consistent(path, expected2, source, DIM)
    assert rebuilt and set(index.ids().tolist()) == expected2 and source.calls[-1] == sorted(expected2)
    assert not load_consistent(path, expected2, source, DIM)[1]

    index, rebuilt = load_consistent(path, expected2, source, DIM, kind="hnsw")  # other kind asked
    assert rebuilt and index.kind == "hnsw" and VectorIndex.load(path).kind == "hnsw"

    path.write_bytes(b"\x00" * 64)  # corrupt
    index, rebuilt = load_consistent(path, expected2, source, DIM)
    assert rebuilt and set(index.ids().tolist()) == expected2
    assert set(VectorIndex.load(path).ids().tolist()) == expected2

    empty, rebuilt = load_consistent(tmp_path / "empty.vec", set(), source, DIM)
    assert rebuilt and len(empty) == 0 and len(VectorIndex.load(tmp_path / "empty.vec")) == 0


def test_load_consistent_rebuilds_on_dimension_change(tmp_path, data):
    ids, x = data
    path = tmp_path / "v.vec"
    load_consistent(path, {1, 2}, lambda w: unit(len(w), dim=16), 16)
    index, rebuilt = load_consistent(path, {1, 2}, lambda w: unit(len(w)), DIM)
    assert rebuilt and index.dim == DIM


def test_ivf_retrains_as_it_grows():
    x = clustered(3000)
    ids = ids_for(3000)
    index = VectorIndex(64, "ivf")
    index.add(ids[:100], x[:100])
    small_nlist = index._index.nlist
    for start in range(100, 3000, 500):
        index.add(ids[start:start + 500], x[start:start + 500])
    assert index._index.nlist > small_nlist and len(index) == 3000
    assert np.array_equal(index.search(x[:200], 1)[1][:, 0], ids[:200])
