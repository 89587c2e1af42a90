"""Build the tagger from the repository's data (and reviewer feedback), reproducibly."""

from __future__ import annotations

from nlp.checklist import Checklist
from nlp.dataset import Example
from nlp.tagger import EmbedFn, FindingTagger

SEED = 20241


def fit_tagger(checklist: Checklist, examples: list[Example], embed: EmbedFn | None) -> FindingTagger:
    tagger = FindingTagger(checklist=checklist, embed=embed, random_state=SEED)
    return tagger.fit([e.text for e in examples], [list(e.items) for e in examples],
                      focus=[e.focus for e in examples], discipline=[e.discipline for e in examples])
