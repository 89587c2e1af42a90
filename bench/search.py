"""Search benchmark: faiss flat / HNSW / IVF through index.vectors.VectorIndex, and BM25.

    .venv/bin/python bench/search.py --max-n 100000      # quick (~3 min on 2 cores)
    .venv/bin/python bench/search.py                     # up to 1M vectors

Vectors: synthetic unit vectors, dim 384. ``--data clustered`` (default) draws them around
n/100 shared random centres with noise of norm ≈ 0.7, a stand-in for the topical structure of
real sentence embeddings; ``--data uniform`` is the worst case for every ANN index (no structure,
recall of IVF/HNSW drops sharply) and is there for comparison. Queries are fresh draws from the
same distribution, answered one at a time (k=10). Recall@10 is against exact search.

Each index kind is built in a fresh (spawned) child process that loads the data from .npy files,
so its memory can be read as the growth of the child's RSS over the data already in memory
(fork is not used: libgomp deadlocks in a forked child once the parent has run OpenMP code).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import vectors as vx  # noqa: E402
from index.vectors import VectorIndex  # noqa: E402

DIM = 384
K = 10
HNSW_BUDGET_S = 360.0

_NAMES = ("x", "ids", "queries", "truth", "extra")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_vectors(n: int, kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    if kind == "clustered":
        centres = np.random.default_rng(1).standard_normal((max(64, n // 100), DIM)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        if kind == "clustered":
            noise = rng.standard_normal((m, DIM), dtype=np.float32) * np.float32(0.7 / math.sqrt(DIM))
            block = centres[rng.integers(0, len(centres), m)] + noise
        else:
            block = rng.standard_normal((m, DIM), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + m] = block
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def run_kind(kind: str, settings: list[dict], data_dir: str, queue) -> None:
    """Child process: build one index, time it, report through ``queue``."""
    try:
        x, ids, queries, truth, extra = (np.load(Path(data_dir) / f"{k}.npy") for k in _NAMES)
        before = rss_mb()
        t0 = time.perf_counter()
        index = VectorIndex(DIM, kind)
        index.add(ids, x)
        build = time.perf_counter() - t0
        grown = rss_mb() - before
        rows = []
        for setting in settings:
            if kind == "hnsw":
                index.ef_search = setting["efSearch"]
            if kind == "ivf":
                index.nprobe = setting["nprobe"]
            index.search(queries[:5], K)  # warm-up
            times, found = [], []
            for q in queries:
                t = time.perf_counter()
                _, got = index.search(q[None, :], K)
                times.append(time.perf_counter() - t)
                found.append(got[0])
            recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(truth, found)]))
            p50, p99 = percentiles(times)
            rows.append({"setting": setting, "p50": p50, "p99": p99, "recall": recall})
        t = time.perf_counter()
        index.add(np.arange(len(ids), len(ids) + 1000, dtype=np.int64) + 10_000_000, extra)
        add_s = time.perf_counter() - t
        t = time.perf_counter()
        index.remove(ids[::max(1, len(ids) // 1000)][:1000])
        remove_s = time.perf_counter() - t
        queue.put({"kind": kind, "build": build, "add": add_s, "remove": remove_s, "rss_mb": grown,
                   "total_rss_mb": rss_mb(), "rows": rows,
                   "nlist": int(index._index.nlist) if kind == "ivf" else None})
    except BaseException as exc:  # report instead of hanging the parent
        queue.put({"kind": kind, "error": repr(exc)})


def in_child(kind: str, settings: list[dict], data_dir: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=run_kind, args=(kind, settings, data_dir, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: keep waiting while the child lives
            if not proc.is_alive():
                result = {"kind": kind, "error": f"child exited with code {proc.exitcode}"}
                break
    proc.join()
    return result


def fmt_row(n: int, result: dict) -> list[str]:
    if "error" in result:
        return [f"  {result['kind']:<5} ERROR {result['error']}"]
    lines = []
    for row in result["rows"]:
        setting = ",".join(f"{k}={v}" for k, v in row["setting"].items()) or "exact"
        label = f"{result['kind']}({setting})"
        lines.append(
            f"  {label:<22} build {result['build']:8.2f}s  add1k {result['add'] * 1000:8.1f}ms  "
            f"rm1k {result['remove'] * 1000:8.1f}ms  p50 {row['p50']:7.2f}ms  p99 {row['p99']:7.2f}ms  "
            f"recall@10 {row['recall']:.3f}  index RSS +{result['rss_mb']:7.0f}MB")
    return lines


def bench_vectors(max_n: int, data_kind: str, n_queries: int) -> dict:
    results: dict = {}
    hnsw_build_100k = None
    for n in (10_000, 100_000, 1_000_000):
        if n > max_n:
            break
        t = time.perf_counter()
        x = make_vectors(n, data_kind, seed=n)
        ids = np.arange(n, dtype=np.int64)
        queries = make_vectors(n_queries, data_kind, seed=n + 1)
        extra = make_vectors(1000, data_kind, seed=n + 2)
        exact = VectorIndex(DIM, "flat")
        exact.add(ids, x)
        truth = exact.search(queries, K)[1]
        del exact
        data_dir = tempfile.mkdtemp(prefix="xuncha-bench-")
        for name, value in zip(_NAMES, (x, ids, queries, truth, extra)):
            np.save(Path(data_dir) / f"{name}.npy", value)
        del x
        print(f"\n[n={n:,}] data {data_kind}, generated in {time.perf_counter() - t:.1f}s, "
              f"process RSS {rss_mb():.0f} MB (vectors alone {n * DIM * 4 / 2**20:.0f} MB)", flush=True)
        results[n] = {}
        for kind, settings in (("flat", [{}]),
                               ("hnsw", [{"efSearch": 64}, {"efSearch": 128}]),
                               ("ivf", [{"nprobe": 8}, {"nprobe": 32}])):
            if kind == "hnsw" and n >= 1_000_000 and hnsw_build_100k is not None:
                estimate = hnsw_build_100k * (n / 100_000) * math.log(n) / math.log(100_000)
                if estimate > HNSW_BUDGET_S:
                    print(f"  hnsw skipped: build estimated at ~{estimate / 60:.0f} min "
                          f"(> {HNSW_BUDGET_S / 60:.0f} min budget) from the 100k build", flush=True)
                    continue
            result = in_child(kind, settings, data_dir)
            results[n][kind] = result
            if kind == "hnsw" and n == 100_000 and "build" in result:
                hnsw_build_100k = result["build"]
            for line in fmt_row(n, result):
                print(line, flush=True)
            if kind == "ivf" and result.get("nlist"):
                print(f"  {'':<22} (ivf nlist {result['nlist']})", flush=True)
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def load_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpora" / "findings").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line).get("text")
                if text:
                    texts.append(text)
    return texts


def bench_bm25(n_queries: int) -> dict:
    from index import keyword as kw
    from index.keyword import KeywordIndex

    texts = load_texts()
    kw.document_tokens("预热")  # load jieba and the dictionary outside the timings
    t = time.perf_counter()
    toks = [kw.document_tokens(s) for s in texts]
    tokenise_s = time.perf_counter() - t
    chars = sum(map(len, texts))
    print(f"\n[bm25] {len(texts)} unique texts from corpora/findings, {chars:,} chars; jieba tokenising "
          f"{tokenise_s:.2f}s = {chars / tokenise_s / 1000:.0f}k chars/s "
          f"(≈{100_000 * chars / len(texts) / (chars / tokenise_s):.0f}s for 100k distinct docs)", flush=True)
    rng = np.random.default_rng(0)
    queries = []
    for i in rng.choice(len(texts), n_queries, replace=False):
        words = [w for w in toks[i] if len(w) > 1]
        if words:
            picks = rng.choice(len(words), min(3, len(words)), replace=False)
            queries.append(" ".join(words[j] for j in sorted(picks)))
    out = {}
    for n in (10_000, 100_000):
        reps = [texts[i % len(texts)] for i in range(n)]
        index = KeywordIndex()
        t = time.perf_counter()
        index.add(range(n), reps)  # identical texts are tokenised once, so this is mostly bookkeeping
        add_s = time.perf_counter() - t
        t = time.perf_counter()
        index.search("预热", 1)  # builds the BM25 matrix
        build_s = time.perf_counter() - t
        times = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, K)
            times.append(time.perf_counter() - t)
        p50, p99 = percentiles(times)
        t = time.perf_counter()
        index.remove(range(1000))
        index.search("预热", 1)
        rebuild_s = time.perf_counter() - t
        out[n] = {"build": build_s, "p50": p50, "p99": p99, "rebuild": rebuild_s}
        print(f"  {n:>7,} docs: BM25 matrix build {build_s:6.2f}s (+{add_s:.2f}s add), query p50 {p50:6.2f}ms "
              f"p99 {p99:6.2f}ms, remove 1k + rebuild {rebuild_s:6.2f}s", flush=True)
    return out


def chosen_defaults(results: dict) -> str:
    """Smallest n at which flat's p50 exceeds 15 ms (interactive budget per stage)."""
    flat = {n: r["flat"]["rows"][0]["p50"] for n, r in results.items() if "rows" in r.get("flat", {})}
    if not flat:
        return "no vector results"
    over = [n for n, p in sorted(flat.items()) if p > 15.0]
    if over:
        # flat latency is linear in n: interpolate where it crosses 15 ms
        n_hi = over[0]
        limit = int(n_hi * 15.0 / flat[n_hi])
    else:
        n_max = max(flat)
        limit = int(n_max * 15.0 / flat[n_max])
    return (f"chosen defaults: flat up to ~{limit:,} vectors (flat p50 reaches 15 ms there, linear in n), "
            f"HNSW M={vx.HNSW_M} efSearch={vx.HNSW_EF_SEARCH} above; IVF nprobe={vx.IVF_NPROBE} only when "
            f"memory or build time rules HNSW out; code constant FLAT_MAX={vx.FLAT_MAX:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-n", type=int, default=1_000_000, help="largest vector count (10k/100k/1M)")
    parser.add_argument("--data", choices=("clustered", "uniform"), default="clustered")
    parser.add_argument("--queries", type=int, default=200, help="single queries timed per setting")
    parser.add_argument("--skip-bm25", action="store_true")
    args = parser.parse_args()
    import faiss

    print(f"faiss {faiss.__version__}, {os.cpu_count()} CPUs, omp threads {faiss.omp_get_max_threads()}, "
          f"dim {DIM}, k {K}, {args.queries} single queries per setting; load average at start "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())} (shared machine: latencies are noisy)", flush=True)
    results = bench_vectors(args.max_n, args.data, args.queries)
    if not args.skip_bm25:
        bench_bm25(args.queries)
    print("\n" + chosen_defaults(results))


if __name__ == "__main__":
    main()
