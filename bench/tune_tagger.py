"""Choose the tagger's hyper-parameters on an inner validation split of the *training* data.

The dev split (``nlp.dataset.split_of``) is never touched here: the training examples are split
again by a second hash byte, fitted on 80 % and scored on the rest. Run: ``python bench/tune_tagger.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.checklist import load_checklist  # noqa: E402
from nlp.dataset import load_examples, train_dev  # noqa: E402
from nlp.evaluation.tagging import tagger_scores  # noqa: E402
from nlp.tagger import FindingTagger  # noqa: E402
from service import artefacts  # noqa: E402
from service.settings import get_settings  # noqa: E402

GRID = {"semantic_weight": [0.03, 0.1, 0.2, 0.4], "c_items": [10.0, 20.0, 40.0]}


def inner_split(examples):
    bucket = lambda e: hashlib.md5(e.text.strip().encode()).digest()[1] % 5
    return [e for e in examples if bucket(e) != 0], [e for e in examples if bucket(e) == 0]


def main() -> None:
    checklist = load_checklist()
    train, _ = train_dev(load_examples())
    fit_part, validation = inner_split(train)
    embed = artefacts.embedder_for(get_settings()).embed_queries
    print(f"fit {len(fit_part)}  validation {len(validation)} (both inside the training split)")
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values))
        started = time.perf_counter()
        tagger = FindingTagger(checklist=checklist, embed=embed, calibrate_items=False, **params)
        tagger.fit([e.text for e in fit_part], [list(e.items) for e in fit_part])
        s = tagger_scores(tagger, validation)
        print(f"{params}  top1 {s.top1:.3f}  top3 {s.top3:.3f}  focus {s.focus_accuracy:.3f}  "
              f"finding F1 {s.finding.f1:.3f}  ({time.perf_counter() - started:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
