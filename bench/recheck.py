"""Choose the 回头看 similarity thresholds on labelled pairs and report precision/recall on the rest.

``corpora/eval/recheck/pairs.jsonl`` holds pairs written for this purpose (an earlier round's problem,
a new round's finding, whether both carry the same checklist item, and whether the new finding is
the same problem again). Pairs are split into two fixed halves by the MD5 of their id: thresholds
are chosen on the ``choose`` half (best F1, then precision), precision/recall are reported on the
``report`` half, next to the constants ``service.recheck.matching`` ships and two baselines.
Run: ``python bench/recheck.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import artefacts  # noqa: E402
from service.recheck.matching import Thresholds, decide, shared, text_anchors  # noqa: E402
from service.settings import get_settings  # noqa: E402

PAIRS = ROOT / "corpora" / "eval" / "recheck" / "pairs.jsonl"
GRID = [round(x, 3) for x in np.arange(0.80, 0.985, 0.005)]


def half(pair_id: str) -> str:
    return "choose" if int(hashlib.md5(pair_id.encode()).hexdigest(), 16) % 2 == 0 else "report"


def prf(predicted: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(predicted, gold))
    precision = tp / max(1, sum(predicted))
    recall = tp / max(1, sum(gold))
    return precision, recall, 2 * precision * recall / max(1e-9, precision + recall)


def scored_pairs() -> list[dict]:
    """The labelled pairs with their e5 cosine and shared anchors."""
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    embed = artefacts.embedder_for(get_settings()).embed_queries
    texts = list(dict.fromkeys(t for p in pairs for t in (p["earlier"], p["new"])))
    vectors = dict(zip(texts, np.asarray(embed(texts), dtype=np.float32)))
    for p in pairs:
        p["similarity"] = float(vectors[p["earlier"]] @ vectors[p["new"]])
        p["anchors"] = shared(text_anchors(p["new"]), text_anchors(p["earlier"]))
    return pairs


def run(rows: list[dict], thresholds: Thresholds) -> tuple[float, float, float]:
    return prf([decide(p["same_item"], p["similarity"], p["anchors"], thresholds).repeat for p in rows],
               [p["label"] == "same" for p in rows])


def choose(rows: list[dict]) -> tuple[Thresholds, tuple[float, float, float]]:
    """The thresholds with the best F1 on ``rows`` (then precision, then the higher thresholds)."""
    scores, a, b = max(((run(rows, Thresholds(a, b)), a, b) for a in GRID for b in GRID if b >= a),
                       key=lambda r: (r[0][2], r[0][0], r[2], r[1]))
    return Thresholds(a, b), scores


def main() -> None:
    pairs = scored_pairs()
    halves = {h: [p for p in pairs if half(p["id"]) == h] for h in ("choose", "report")}
    print(f"{len(pairs)} pairs ({sum(p['label'] == 'same' for p in pairs)} same); "
          f"choose {len(halves['choose'])}, report {len(halves['report'])}")
    chosen, (p, r, f) = choose(halves["choose"])
    print(f"chosen on the choose half: same-item threshold {chosen.same_item:.3f}, any-item threshold "
          f"{chosen.any_item:.3f} (P {p:.3f} R {r:.3f} F1 {f:.3f})")
    rows = halves["report"]
    gold = [p["label"] == "same" for p in rows]
    for name, predicted in (
            ("chosen thresholds", [decide(p["same_item"], p["similarity"], p["anchors"], chosen).repeat for p in rows]),
            ("shipped constants", [decide(p["same_item"], p["similarity"], p["anchors"]).repeat for p in rows]),
            ("baseline: same item only", [p["same_item"] for p in rows]),
            ("baseline: e5 only (any-item threshold)", [p["similarity"] >= chosen.any_item for p in rows])):
        p, r, f = prf(predicted, gold)
        print(f"report half, {name}: precision {p:.3f} recall {r:.3f} F1 {f:.3f} "
              f"({sum(predicted)} predicted, {sum(gold)} gold)")
    if Thresholds() != chosen:
        print(f"note: service.recheck.matching ships {Thresholds().same_item}/{Thresholds().any_item}")


if __name__ == "__main__":
    main()
