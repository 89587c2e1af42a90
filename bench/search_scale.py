"""The whole calibrated hybrid search at scale: p50/p99 per query, query embedding included.

Entries are real-register texts (training sentences recombined, with fresh names and numbers) so
BM25 and the character n-gram side see a realistic vocabulary; their e5 vectors and checklist item
distributions are synthetic (embedding 1M texts with e5 would take days here), drawn around
shared centres like real ones. Queries go through the real path: e5 query embedding, the trained
tagger's item distribution, faiss (HNSW above 100k), BM25, char n-grams, calibrated fusion.
Printed beside it, measured in the same run: the same search on the old exhaustive path (every
entry scanned by the char and item sides) where that is affordable, and a team filter both as a
Python predicate called on every entry (the path before :mod:`index.postings`) and as the
structured :class:`index.postings.MetaFilter` the service passes (resolved from metadata columns).
The query is embedded once and its checklist profile comes from the tagger as the service computes
it (:class:`service.search.ItemDistributions`, sharing the query's e5 vector); no query is written
to an on-disk cache.

Run: ``python bench/search_scale.py [--sizes 100000 1000000] [--queries 200] [--no-full-scan]``.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


def synthetic_texts(n: int, seed: int = 7) -> list[str]:
    from nlp.dataset import load_examples

    rng = random.Random(seed)
    sentences = [e.text for e in load_examples() if len(e.text) >= 12]
    out = []
    for _ in range(n):
        a, b = rng.sample(sentences, 2)
        text = a[: len(a) // 2 + rng.randint(0, len(a) // 2)] + "，" + b[len(b) // 2:]
        text = re.sub(r"\d+(?:\.\d+)?", lambda m: str(rng.randint(1, 999)), text)
        out.append(f"{rng.choice(SURNAMES)}某{rng.choice('某甲乙丙')}：{text}")
    return out


def clustered(n: int, dim: int, rng: np.random.Generator, centres: int) -> np.ndarray:
    base = rng.standard_normal((centres, dim)).astype(np.float32)
    vectors = base[rng.integers(0, centres, n)] + 0.7 * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim) * 4
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(n: int, embed_query, items_fn, item_ids, rng: np.random.Generator):
    from index.hybrid import Entry, HybridIndex

    texts = synthetic_texts(n)
    index = HybridIndex(embed_query, embed_query, 384, fusion="calibrated", kind="hnsw" if n > 100_000 else "flat",
                        items_fn=items_fn, item_ids=item_ids)
    chunk = 50_000
    start = time.perf_counter()
    for offset in range(0, n, chunk):
        part = texts[offset:offset + chunk]
        entries = [Entry(offset + i + 1, t, {"team": f"组{(offset + i) % 20}"}) for i, t in enumerate(part)]
        items = rng.dirichlet(np.full(len(item_ids), 0.05), len(part)).astype(np.float32)
        items /= np.linalg.norm(items, axis=1, keepdims=True)
        index.add(entries, clustered(len(part), 384, rng, max(1, n // 100)), items)
    index.warm()
    return index, time.perf_counter() - start


def compare_tagging(n: int) -> None:
    """Per query: e5 vector for the search then the tagger's checklist profile, as the service did
    before (e5 through the on-disk caches, scikit-learn's decision function: the profile computed
    by an unpatched copy of the tagger) and as it does now (one e5 vector shared in memory, the
    column gather), alternating query by query so both see the same machine load. Wall and CPU ms."""
    import copy

    from service import artefacts
    from service.search import ItemDistributions, QueryMemo, _uncached

    tagger = artefacts.load_tagger()
    cached = getattr(tagger.embed, "__self__", None)
    before = ItemDistributions(tagger, "bench")
    before._all = copy.copy(tagger)  # the tagger as it is: its own e5 call and decision function
    before._all.top_k = len(before.item_ids)
    vectors = QueryMemo(_uncached(cached).embed_queries)
    after = ItemDistributions(tagger, "bench")
    after.share_query_vectors(vectors)
    run = time.time_ns() % 1_000_000
    queries = [f"{q}（{run}-{i}）" for i, q in enumerate(synthetic_texts(2 * n + 4, seed=13))]
    paths = {"before": lambda q: (cached.embed_queries([q]), before.embed_queries([q])),
             "after": lambda q: (vectors([q]), after.embed_queries([q]))}
    for name, path in paths.items():  # warm both
        path(queries.pop())
        path(queries.pop())
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for i, query in enumerate(queries[:2 * n]):
        name = ("before", "after")[i % 2]
        wall, cpu = time.perf_counter(), time.process_time()
        paths[name](query)
        times[name].append((1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)))
    for name, rows in times.items():
        wall, cpu = np.array(rows).T
        print(f"query e5 + profile, {name:6}: wall p50 {np.percentile(wall, 50):6.1f} p99 {np.percentile(wall, 99):6.1f} ms"
              f" | CPU p50 {np.percentile(cpu, 50):6.1f} ms ({len(rows)} queries)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-full-scan", action="store_true", help="skip the old exhaustive path")
    parser.add_argument("--tagging", action="store_true",
                        help="only time the query's e5 vector + checklist profile, before vs after, interleaved")
    args = parser.parse_args()
    if args.tagging:
        return compare_tagging(args.queries)

    import index.hybrid as hybrid
    from bench.tag import latencies  # per-call wall times in ms, as the tagging benchmark reports them
    from index.postings import Atom, MetaFilter
    from service import artefacts
    from service.search import ItemDistributions, QueryMemo, _uncached

    tagger = artefacts.load_tagger()
    embed_query = QueryMemo(_uncached(getattr(tagger.embed, "__self__", None)).embed_queries)
    profile = ItemDistributions(tagger, "bench")  # item profile only: the synthetic rows have no discipline part
    profile.share_query_vectors(embed_query)
    items_fn = QueryMemo(profile.embed_queries)
    rng = np.random.default_rng(3)
    default_limit = hybrid.EXHAUSTIVE_MAX
    run = time.time_ns() % 1_000_000  # the embedding cache persists across runs: new queries each run
    queries = [f"{q}（{run}-{i}）" for i, q in enumerate(synthetic_texts(args.queries, seed=11))]
    embed_ms = latencies(lambda q: embed_query([q]), queries[:50])
    print(f"e5 query embedding alone: p50 {np.percentile(embed_ms, 50):.1f} ms, p99 {np.percentile(embed_ms, 99):.1f} ms")
    print(f"{'entries':>9} {'build s':>8} | {'path':12} {'p50 ms':>8} {'p99 ms':>8} | "
          f"{'team predicate p50':>18} {'p99':>8} | {'team filter p50':>15} {'p99':>8} {'resolve ms':>10}")
    team_filter = MetaFilter(((Atom("shared", "truthy"), Atom("team", "in", frozenset({"组3"}))),))
    for n in args.sizes:
        index, seconds = build(n, embed_query, items_fn, tagger.item_ids_, rng)
        started = time.perf_counter()
        resolved = index.allowed(team_filter)  # first use of the fields: columns built, then memoised
        first = 1000 * (time.perf_counter() - started)
        walked = index.allowed(lambda m: bool(m.get("shared")) or m.get("team") in {"组3"})
        assert resolved.tolist() == walked.tolist()
        paths = [("candidates", default_limit if n > default_limit else 0)]
        if n <= 200_000 and not args.no_full_scan:
            paths.append(("full scan", 10 ** 12))  # the path every size took before the candidate path
        for label, limit in paths:
            hybrid.EXHAUSTIVE_MAX = limit
            fresh = [f"{q}{label}" for q in queries]
            plain = latencies(lambda q: index.search(q, 10), fresh)
            team = latencies(lambda q: index.search(q + "队", 10, where=lambda m: bool(m.get("shared"))
                                                    or m.get("team") in {"组3"}), fresh[:50])
            fast = latencies(lambda q: index.search(q + "组", 10, where=team_filter), fresh)
            print(f"{n:9d} {seconds:8.1f} | {label:12} {np.percentile(plain, 50):8.1f} {np.percentile(plain, 99):8.1f} | "
                  f"{np.percentile(team, 50):18.1f} {np.percentile(team, 99):8.1f} | "
                  f"{np.percentile(fast, 50):15.1f} {np.percentile(fast, 99):8.1f} {first:10.1f}")
        del index


if __name__ == "__main__":
    main()
