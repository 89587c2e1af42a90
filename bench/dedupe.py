"""Choose the near-duplicate thresholds on the labelled duplicate pairs of the prior cases.

Positive pairs share a ``dup_group``; negatives are every other pair of cases from the same unit
type (hard: same kind of unit, often the same topic). Prints precision/recall/F1 per threshold.
Run: ``python bench/dedupe.py``.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import artefacts  # noqa: E402
from service.dedupe import pair_scores  # noqa: E402
from service.settings import get_settings  # noqa: E402


def main() -> None:
    cases = [json.loads(l) for p in sorted((ROOT / "corpora" / "cases").glob("*.jsonl"))
             for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]
    cosine, shared = pair_scores([c["text"] for c in cases], artefacts.embedder_for(get_settings()).embed_passages)
    pairs = [(i, j) for i, j in itertools.combinations(range(len(cases)), 2)
             if cases[i].get("unit_type") == cases[j].get("unit_type")]
    gold = {(i, j) for i, j in pairs if cases[i].get("dup_group") and cases[i].get("dup_group") == cases[j].get("dup_group")}
    print(f"{len(gold)} duplicate pairs among {len(pairs)} same-unit-type pairs")
    print(f"{'cos≥':>6} {'anchors≥':>8} {'P':>6} {'R':>6} {'F1':>6}")
    for cos_min in (0.90, 0.92, 0.93, 0.94, 0.95, 0.96):
        for anchors_min in (1, 2, 3):
            found = {(i, j) for i, j in pairs if cosine[i, j] >= cos_min and shared[i, j] >= anchors_min}
            tp = len(found & gold)
            p, r = (tp / len(found) if found else 0.0), tp / len(gold)
            print(f"{cos_min:6.2f} {anchors_min:8d} {p:6.3f} {r:6.3f} {2 * p * r / (p + r) if p + r else 0:6.3f}")


if __name__ == "__main__":
    main()
