"""Retrieval evaluation on the held-out queries in ``corpora/eval/retrieval``.

A prior case is relevant to a query when they share a checklist item. The queries are split by a
hash of their id: two buckets in five choose the fusion (RRF or a vector weight), the other three
report the numbers, so the reported figures never come from the queries used to choose.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from index.embeddings import Embedder
from index.hybrid import Entry, HybridIndex

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "corpora" / "eval" / "retrieval" / "queries.jsonl"
CASES_DIR = ROOT / "corpora" / "cases"
FUSIONS = [("rrf", 0.5), ("weighted", 0.3), ("weighted", 0.5), ("weighted", 0.7), ("weighted", 0.85)]


@dataclass
class RetrievalScores:
    name: str
    recall5: float = 0.0
    recall10: float = 0.0
    mrr: float = 0.0
    ndcg10: float = 0.0


def is_tuning_query(query_id: str) -> bool:
    return hashlib.md5(query_id.encode()).digest()[0] % 5 < 2


def load(path: Path = QUERIES, cases_dir: Path = CASES_DIR) -> tuple[list[dict], list[dict]]:
    queries = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    cases = [json.loads(l) for p in sorted(cases_dir.glob("*.jsonl"))
             for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]
    from nlp.checklist import load_checklist  # ids of merged items count as their current item

    aliases = load_checklist().alias_of
    for row, key in [*((q, "relevant_items") for q in queries), *((c, "checklist") for c in cases)]:
        if row.get(key):
            row[key] = list(dict.fromkeys(aliases.get(i, i) for i in row[key]))
    return queries, cases


def score(name: str, rankings: list[list[int]], relevant: list[set[int]]) -> RetrievalScores:
    result = RetrievalScores(name)
    for ranking, gold in zip(rankings, relevant):
        result.recall5 += len(set(ranking[:5]) & gold) / len(gold)
        result.recall10 += len(set(ranking[:10]) & gold) / len(gold)
        first = next((rank for rank, i in enumerate(ranking, 1) if i in gold), None)
        result.mrr += 1 / first if first else 0.0
        dcg = sum(1 / math.log2(rank + 1) for rank, i in enumerate(ranking[:10], 1) if i in gold)
        ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(gold), 10) + 1))
        result.ndcg10 += dcg / ideal
    n = max(len(rankings), 1)
    for key in ("recall5", "recall10", "mrr", "ndcg10"):
        setattr(result, key, getattr(result, key) / n)
    return result


def evaluate(embedder: Embedder) -> tuple[list[RetrievalScores], str, int, int]:
    """Scores of BM25, vectors and the chosen hybrid on the reporting queries."""
    queries, cases = load()
    index = HybridIndex(embedder.embed_passages, embedder.embed_queries, embedder.dim)
    index.add([Entry(i, c["text"], {"items": c.get("checklist") or []}) for i, c in enumerate(cases)])
    answerable = [q for q in queries if any(set(q["relevant_items"]) & set(c.get("checklist") or []) for c in cases)]
    tuning = [q for q in answerable if is_tuning_query(q["id"])]
    reporting = [q for q in answerable if not is_tuning_query(q["id"])]

    def relevant(query: dict) -> set[int]:
        wanted = set(query["relevant_items"])
        return {i for i, c in enumerate(cases) if wanted & set(c.get("checklist") or [])}

    def rankings(subset: list[dict], mode: str) -> list[list[int]]:
        return [[h.id for h in index.search(q["text"], 10, mode=mode)] for q in subset]

    best, best_ndcg = FUSIONS[0], -1.0
    for fusion, weight in FUSIONS:
        index.fusion, index.vector_weight = fusion, weight
        ndcg = score("", rankings(tuning, "hybrid"), [relevant(q) for q in tuning]).ndcg10
        if ndcg > best_ndcg:
            best, best_ndcg = (fusion, weight), ndcg
    index.fusion, index.vector_weight = best
    gold = [relevant(q) for q in reporting]
    chosen = "RRF" if best[0] == "rrf" else f"加权融合（语义权重 {best[1]}）"
    results = [score("BM25 关键词", rankings(reporting, "keyword"), gold),
               score(f"向量（{embedder.name}）", rankings(reporting, "vector"), gold),
               score(f"混合：{chosen}", rankings(reporting, "hybrid"), gold)]
    return results, chosen, len(tuning), len(reporting)
