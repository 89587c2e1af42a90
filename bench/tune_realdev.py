"""Choose the tagger's settings on the *choose* half of the real-register set (never the report half).

Fits the tagger on the training split once per structural configuration, then sweeps the settings
applied at tagging time (finding threshold, weight of the focus/discipline models) on the choose
half. Run: ``python bench/tune_realdev.py ../shared/realdev [--param cue_weight=0,1]``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.checklist import load_checklist  # noqa: E402
from nlp.dataset import load_examples, train_dev  # noqa: E402
from nlp.evaluation.realdev import load_realdev, score, tagger_predictions  # noqa: E402
from nlp.tagger import FindingTagger  # noqa: E402
from nlp.training import SEED  # noqa: E402
from service import artefacts  # noqa: E402
from service.settings import get_settings  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
HEAD_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _grid(pairs: list[str]) -> list[dict]:
    axes = {}
    for pair in pairs:
        name, values = pair.split("=")
        axes[name] = [float(v) for v in values.split(",")]
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())] or [{}]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="+", type=Path)
    parser.add_argument("--param", action="append", default=[], help="name=v1,v2 (a FindingTagger argument)")
    parser.add_argument("--half", default="choose")
    parser.add_argument("--saved", action="store_true", help="sweep the trained model in models/ instead of fitting")
    args = parser.parse_args()
    checklist = load_checklist()
    resolve = getattr(checklist, "resolve", lambda item_id: item_id)
    examples = load_realdev(args.data, args.half, resolve)
    texts = [e.text for e in examples]
    train, _ = train_dev(load_examples())
    embed = artefacts.embedder_for(get_settings()).embed_queries
    print(f"train {len(train)}; {args.half} half {len(examples)}", flush=True)
    for params in [{}] if args.saved else _grid(args.param):
        started = time.perf_counter()
        if args.saved:
            tagger = artefacts.load_tagger()
            tagger.kind_thresholds = getattr(tagger, "kind_thresholds", None)  # models saved before it existed
        else:
            tagger = FindingTagger(checklist=checklist, embed=embed, random_state=SEED, **params)
            tagger.fit([e.text for e in train], [list(e.items) for e in train],
                       focus=[e.focus for e in train], discipline=[e.discipline for e in train])
        print(f"== {params or 'saved model'} ready in {time.perf_counter() - started:.0f}s", flush=True)
        scores = tagger.predict_proba(texts)[:, 1]
        gold = np.array([e.is_finding for e in examples])
        kinds = np.array([e.kind for e in examples])
        for threshold in THRESHOLDS:
            flagged = scores >= threshold
            cells = []
            for kind in ["all", *sorted(set(kinds))]:
                mask = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
                fp = (flagged & ~gold & mask).sum() / max((~gold & mask).sum(), 1)
                recall = (flagged & gold & mask).sum() / max((gold & mask).sum(), 1)
                cells.append(f"{kind} R {recall:.3f} FP {fp:.3f}")
            print(f"  threshold {threshold:.2f}: " + " | ".join(cells))
        for weight in HEAD_WEIGHTS:
            tagger.head_weight = weight
            s = score("t", examples, tagger_predictions(tagger, texts))
            print(f"  head_weight {weight:.2f}: focus {s.focus_accuracy:.3f} (F1 {s.focus_macro_f1:.3f})  "
                  f"discipline {s.discipline_accuracy:.3f} / all {s.discipline_accuracy_all:.3f}  "
                  f"top1 {s.top1:.3f} top3 {s.top3:.3f}", flush=True)


if __name__ == "__main__":
    main()
