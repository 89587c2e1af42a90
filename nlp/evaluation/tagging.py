"""Evaluate the tagger on the dev split beside two baselines computed in the same run.

* keyword — an item scores the number of its keywords and synonyms found in the text; a text
  with no hit is not a finding;
* embedding — nearest item prototype by cosine; the finding threshold is the one that maximises
  F1 on the *train* split (never on dev).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp.checklist import Checklist
from nlp.dataset import Example
from nlp.evaluation.metrics import Counts, macro_f1
from nlp.tagger import FindingTagger


@dataclass
class SystemScores:
    name: str
    finding: Counts = field(default_factory=Counts)
    top1: float = 0.0
    top3: float = 0.0
    focus_accuracy: float = 0.0
    focus_macro_f1: float = 0.0
    discipline_macro_f1: float = 0.0


def _score(name: str, examples: list[Example], finding: np.ndarray, ranked: list[list[str]],
           checklist: Checklist) -> SystemScores:
    scores = SystemScores(name)
    gold_finding = np.array([e.is_finding for e in examples])
    scores.finding.add(float((finding & gold_finding).sum()), float(finding.sum()), float(gold_finding.sum()))
    positives = [i for i, e in enumerate(examples) if e.is_finding]
    if not positives:
        return scores
    scores.top1 = float(np.mean([bool(set(ranked[i][:1]) & set(examples[i].items)) for i in positives]))
    scores.top3 = float(np.mean([bool(set(ranked[i][:3]) & set(examples[i].items)) for i in positives]))
    gold_focus = [checklist.get(examples[i].items[0]).focus for i in positives]
    predicted_focus = [checklist.get(ranked[i][0]).focus for i in positives]
    scores.focus_accuracy = float(np.mean([g == p for g, p in zip(gold_focus, predicted_focus)]))
    scores.focus_macro_f1 = macro_f1(gold_focus, predicted_focus)
    gold_discipline = [checklist.get(examples[i].items[0]).discipline for i in positives]
    predicted_discipline = [checklist.get(ranked[i][0]).discipline for i in positives]
    scores.discipline_macro_f1 = macro_f1(gold_discipline, predicted_discipline)
    return scores


def keyword_baseline(checklist: Checklist, examples: list[Example]) -> SystemScores:
    ids = [item.id for item in checklist.items]
    terms = [[t for t in {*item.keywords, *item.synonyms} if len(t) >= 2] for item in checklist.items]
    hits = np.array([[sum(t in e.text for t in item_terms) for item_terms in terms] for e in examples], dtype=float)
    ranked = [[ids[j] for j in np.argsort(-row, kind="stable")[:3]] for row in hits]
    return _score("关键词匹配基线", examples, hits.max(axis=1) > 0, ranked, checklist)


def embedding_baseline(checklist: Checklist, train: list[Example], examples: list[Example], embed) -> SystemScores:
    ids = [item.id for item in checklist.items]
    phrases = [item.phrases for item in checklist.items]
    prototypes = np.vstack([np.asarray(embed(group)).mean(axis=0) for group in phrases])
    prototypes /= np.linalg.norm(prototypes, axis=1, keepdims=True)
    train_best = (np.asarray(embed([e.text for e in train])) @ prototypes.T).max(axis=1)
    train_gold = np.array([e.is_finding for e in train])
    threshold = max(np.unique(np.round(train_best, 3)), key=lambda t: _f1(train_best >= t, train_gold))
    similarity = np.asarray(embed([e.text for e in examples])) @ prototypes.T
    ranked = [[ids[j] for j in np.argsort(-row)[:3]] for row in similarity]
    return _score("向量最近原型基线", examples, similarity.max(axis=1) >= threshold, ranked, checklist)


def _f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    counts = Counts()
    counts.add(float((predicted & gold).sum()), float(predicted.sum()), float(gold.sum()))
    return counts.f1


def tagger_scores(tagger: FindingTagger, examples: list[Example]) -> SystemScores:
    results = tagger.tag([e.text for e in examples], evidence=False)
    finding = np.array([r.is_finding for r in results])
    ranked = [[item.id for item in r.checklist] for r in results]
    return _score("xuncha 标注模型", examples, finding, ranked, tagger.checklist)
