"""Compare tagger levers on realdev's *choose* half (never the report half) and on the dev split.

The expensive parts of a fit (vectoriser, held-out and final item models) do not depend on the
levers, so they are fitted once and cached in ``--cache``; each variant then refits only the
finding model, the kNN memory, the item mix and the focus/discipline heads (a few minutes).
Printed beside the installed model (``models/``) scored in the same run.

Run: ``XUNCHA_MODELS_DIR=/tmp/x-models python bench/tagger_levers.py ../shared/realdev``
(copy ``models/embedding-cache.sqlite`` there first so the e5 vectors come from the cache).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.checklist import load_checklist  # noqa: E402
from nlp.dataset import load_examples, train_dev  # noqa: E402
from nlp.evaluation.realdev import RealExample, load_realdev, score, tagger_predictions  # noqa: E402
from nlp.tagger import SECONDARY_WEIGHT, FindingTagger  # noqa: E402
from nlp.training import CHOSEN, SEED  # noqa: E402
from service import artefacts  # noqa: E402
from service.settings import Settings, get_settings  # noqa: E402

VARIANTS = {  # in the order they run
    "base (levers off)": {},
    "checklist now + vector 1 + knn 10": {"checklist": "current", "vector_weight": 1.0, "knn_k": 10},
    "checklist now": {"checklist": "current"},
    "checklist now + knn 10": {"checklist": "current", "knn_k": 10},
    "checklist now + vector 1": {"checklist": "current", "vector_weight": 1.0},
    "checklist now + vector 1 + knn 10 outside the heads": {"checklist": "current", "vector_weight": 1.0,
                                                            "knn_k": 10, "knn_heads": False},
    "checklist now + vector 1 + knn 25": {"checklist": "current", "vector_weight": 1.0, "knn_k": 25},
}
THRESHOLDS = (0.5, 0.6, 0.7)
HEAD_WEIGHTS = (0.25, 0.5, 0.75)


class CachingTagger(FindingTagger):
    """Keeps the held-out item logits of its fit so variants can reuse them."""

    def _held_out_scores(self, *args):
        self.held_cache = super()._held_out_scores(*args)
        return self.held_cache


def refit_levers(base: FindingTagger, params: dict, texts, labels, focus, discipline, views, held) -> FindingTagger:
    """``base`` with ``params`` set and every lever-dependent part refitted (the item model kept)."""
    tagger = copy.copy(base)
    params = dict(params)
    if params.pop("checklist", None) == "current":  # focus/discipline defaults as corpora/checklist has them now
        tagger.checklist = load_checklist()
        tagger.item_focus_ = np.array([tagger.checklist.get(i).focus for i in tagger.item_ids_])
        tagger.item_discipline_ = np.array([tagger.checklist.get(i).discipline for i in tagger.item_ids_])
    for name, value in {"vector_weight": 0.0, "knn_k": 0, "knn_heads": True, **params}.items():
        setattr(tagger, name, value)
    text_features, hits, similarity, vectors = views
    focus_targets, discipline_targets = tagger._head_targets(labels, focus, discipline)
    tagger.vectors_in_features_ = tagger.vector_weight
    tagger._fit_memory(vectors, labels, focus_targets, discipline_targets)
    votes = tagger._votes(vectors, exclude_self=True)
    features = tagger._finding_features(text_features, hits, similarity, vectors, votes)
    tagger._fit_finding(features, labels)
    rows = np.array([r for r, ids in enumerate(labels) for _ in ids])
    targets = np.array([tagger.item_index_[i] for ids in labels for i in ids])
    weights = np.array([1.0 if rank == 0 else SECONDARY_WEIGHT for ids in labels for rank, _ in enumerate(ids)])
    tagger.mix_ = tagger._optimise_mix(held, hits, similarity, None if votes is None else votes.items,
                                       rows, targets, weights)
    tagger._fit_heads(tagger._head_features(features, text_features, hits, similarity, vectors, votes),
                      labels, focus_targets, discipline_targets)
    return tagger


def report(name: str, tagger: FindingTagger, choose: list[RealExample], dev) -> None:
    texts = [e.text for e in choose]
    scores = tagger.predict_proba(texts)[:, 1]
    gold = np.array([e.is_finding for e in choose])
    cells = []
    for threshold in THRESHOLDS:
        flagged = scores >= threshold
        cells.append(f"@{threshold:.1f} R {(flagged & gold).sum() / gold.sum():.3f} "
                     f"FP {(flagged & ~gold).sum() / (~gold).sum():.3f}")
    print(f"[{name}] mix {tuple(round(m, 2) for m in tagger.mix_)}  " + " | ".join(cells))
    keep = tagger.head_weight
    for weight in HEAD_WEIGHTS:
        tagger.head_weight = weight
        s = score(name, choose, tagger_predictions(tagger, texts))
        print(f"    head {weight:.2f}: focus {s.focus_accuracy:.3f}  disc {s.discipline_accuracy:.3f} "
              f"(all {s.discipline_accuracy_all:.3f})  top1 {s.top1:.3f} top3 {s.top3:.3f}  "
              f"FP {s.overall.false_positive_rate:.3f} R {s.overall.finding.recall:.3f}")
    tagger.head_weight = keep
    results = tagger.tag([e.text for e in dev], evidence=False)
    positives = [(e, r) for e, r in zip(dev, results) if e.is_finding]
    gold_dev = np.array([e.is_finding for e in dev])
    flagged = np.array([r.is_finding for r in results])
    precision = (flagged & gold_dev).sum() / max(flagged.sum(), 1)
    recall = (flagged & gold_dev).sum() / gold_dev.sum()
    top1 = np.mean([r.checklist[0].id in e.items for e, r in positives])
    top3 = np.mean([bool({i.id for i in r.checklist[:3]} & set(e.items)) for e, r in positives])
    checklist = tagger.checklist
    focus = np.mean([(e.focus or checklist.get(e.items[0]).focus) == r.focus for e, r in positives])
    discipline = np.mean([(e.discipline or checklist.get(e.items[0]).discipline) == r.discipline
                          for e, r in positives])
    print(f"    dev: finding P {precision:.3f} R {recall:.3f}  top1 {top1:.3f} top3 {top3:.3f}  "
          f"focus {focus:.3f} disc {discipline:.3f}", flush=True)


def main() -> None:
    import joblib

    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tagger-levers.joblib"))
    parser.add_argument("--only", nargs="*", help="names of VARIANTS to run")
    parser.add_argument("--save", type=Path, help="keep each variant here as <name>.joblib (for error analysis)")
    args = parser.parse_args()
    settings = get_settings()
    checklist = load_checklist()
    choose = load_realdev(args.data, "choose", getattr(checklist, "resolve", lambda i: i))
    train, dev = train_dev(load_examples())
    embed = artefacts.embedder_for(settings).embed_queries
    texts = [e.text for e in train]
    labels = [list(e.items) for e in train]
    focus, discipline = [e.focus for e in train], [e.discipline for e in train]
    print(f"train {len(train)}, dev {len(dev)}, choose half {len(choose)}", flush=True)

    installed = Settings(models_dir=ROOT / "models", embedding_backend=settings.embedding_backend,
                         embedding_model=settings.embedding_model)
    if (installed.models_dir / artefacts.TAGGER_FILE).exists():
        current = artefacts.load_tagger(installed)
        current.embed = embed  # same e5 model, the private cache
        report("installed model", current, choose, dev)

    started = time.perf_counter()
    if args.cache.exists():
        base = joblib.load(args.cache)  # with the checklist it was fitted with
    else:
        base = CachingTagger(checklist=checklist, embed=embed, random_state=SEED, **CHOSEN)
        base.fit(texts, labels, focus=focus, discipline=discipline)
        embed_fn, base.embed = base.embed, None
        joblib.dump(base, args.cache)
        base.embed = embed_fn
    base.embed = embed
    print(f"shared parts ready in {time.perf_counter() - started:.0f}s", flush=True)
    resolved = [list(dict.fromkeys(checklist.resolve(i) for i in ids)) for ids in labels]
    views = base._views(texts)
    for name, params in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        tagger = refit_levers(base, params, texts, resolved, focus, discipline, views, base.held_cache)
        print(f"== {name} {params} refitted in {time.perf_counter() - started:.0f}s", flush=True)
        report(name, tagger, choose, dev)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            tagger.embed = None
            joblib.dump(tagger, args.save / f"{name.replace(' ', '_')}.joblib")


if __name__ == "__main__":
    main()
