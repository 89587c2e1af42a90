"""Build the tagger from the repository's data (and reviewer feedback), reproducibly."""

from __future__ import annotations

from nlp.checklist import Checklist
from nlp.dataset import Example
from nlp.tagger import EmbedFn, FindingTagger

SEED = 20241
# Chosen on the choose half of ../shared/realdev with bench/tune_realdev.py (never the report half):
# at 0.6 finding recall 0.967 with 0.125 of non-problems flagged (0.982 / 0.219 at 0.5); the focus
# and discipline models weigh as much as the item sums (focus 0.849 vs 0.801 from the items alone).
# The e5 vector as features and the kNN vote of the 10 nearest training texts (FindingTagger
# defaults) were chosen the same way with bench/tagger_levers.py: on the choose half, non-problems
# flagged 0.125 -> 0.062 at recall 0.970, discipline 0.740 -> 0.775, item top-1 0.541 -> 0.569,
# 三个聚焦 0.867 -> 0.841 (the heads follow the item more), dev split up on every figure.
# The gate (texts a text-only model gives < 0.02 skip e5) was chosen the same way: at 0.02 no finding
# of the choose half or the dev split is lost and every seed-report sentence flagged without it is
# still flagged, while 29% of the seed reports' segments and 8% of the dev split skip e5 (at 0.05:
# 43% of segments, but 2 of 46 flags on the seed reports lost).
# The lexical view (a text-only second opinion, FindingTagger.lexical_weight) at 0.25, chosen on the
# choose half with 0, 0.2, 0.25, 0.3, 0.4, 0.5: the highest weight that keeps finding recall
# (0.982, non-problems flagged 0.062 unchanged); 三个聚焦 0.863 -> 0.871, discipline 0.781 -> 0.799,
# item top-1 0.604 -> 0.631, top-3 0.835 -> 0.839; the dev split's pre-R5 subset up on every figure.
CHOSEN = {"threshold": 0.6, "head_weight": 0.5, "gate_threshold": 0.02, "lexical_weight": 0.25}


def fit_tagger(checklist: Checklist, examples: list[Example], embed: EmbedFn | None) -> FindingTagger:
    tagger = FindingTagger(checklist=checklist, embed=embed, random_state=SEED, **CHOSEN)
    return tagger.fit([e.text for e in examples], [list(e.items) for e in examples],
                      focus=[e.focus for e in examples], discipline=[e.discipline for e in examples])
