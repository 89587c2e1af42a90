"""Tagging speed: findings/s and p50/p95 latency for single findings and batches.

Compared in the same run with the keyword-match baseline (the cheapest possible tagger).
Needs a trained model (``xuncha train``). Run: ``python bench/tag.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.dataset import load_examples, train_dev  # noqa: E402
from service import artefacts  # noqa: E402

SINGLES = 200
BATCH = 32


def latencies(function, inputs) -> np.ndarray:
    out = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        out.append(time.perf_counter() - start)
    return np.array(out) * 1000


def keyword_tagger(checklist):
    terms = [[t for t in {*i.keywords, *i.synonyms} if len(t) >= 2] for i in checklist.items]

    def tag(texts):
        return [int(np.argmax([sum(t in text for t in item) for item in terms])) for text in texts]

    return tag


def main() -> None:
    tagger = artefacts.load_tagger()
    _, dev = train_dev(load_examples())
    # Fresh texts, so the embedding cache cannot hide the model's cost.
    run = time.time_ns() % 1_000_000  # the embedding cache persists across runs: a new suffix each run
    texts = [f"{e.text}（第{run}-{i}条）" for i, e in enumerate(dev)]
    tagger.tag(texts[:4])  # warm up: load models
    baseline = keyword_tagger(tagger.checklist)
    print(f"{'system':12} {'mode':8} {'findings/s':>10} {'p50 ms':>8} {'p95 ms':>8}")
    for name, run in (("xuncha", lambda batch: tagger.tag(batch)), ("keyword", baseline)):
        single = latencies(lambda t: run([t]), texts[:SINGLES])
        batches = [texts[i:i + BATCH] for i in range(SINGLES, min(len(texts), SINGLES + 10 * BATCH), BATCH)]
        batch = latencies(run, batches)
        per_second_single = 1000 / single.mean()
        per_second_batch = BATCH * 1000 / batch.mean()
        print(f"{name:12} {'single':8} {per_second_single:10.1f} {np.percentile(single, 50):8.2f} "
              f"{np.percentile(single, 95):8.2f}")
        print(f"{name:12} {'batch32':8} {per_second_batch:10.1f} {np.percentile(batch, 50):8.2f} "
              f"{np.percentile(batch, 95):8.2f}")


if __name__ == "__main__":
    main()
