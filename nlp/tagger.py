"""The finding tagger: checklist items, 三个聚焦 and discipline for each candidate finding.

A scikit-learn estimator combining three kinds of evidence:

* lexical — TF-IDF over jieba words and character 1–3 grams, plus hits of each checklist item's
  keywords and synonyms;
* supervised — a logistic-regression model over those features for "is this a finding" and for
  the checklist item (multinomial, one class per item);
* semantic — cosine similarity of the text to every item's prototype (mean embedding of its
  title, manifestations and synonyms) and to the nearest labelled training example of each item
  (leave-one-out while fitting), from an injected embedder, z-scored per text.

Probabilities are calibrated: the finding model by cross-validated sigmoid calibration, the item
model by a temperature fitted on out-of-fold predictions. 三个聚焦 and discipline scores are the
item distribution summed by each item's focus and discipline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion

from nlp import lexicon
from nlp.checklist import Checklist

EmbedFn = Callable[[Sequence[str]], np.ndarray]
SECONDARY_WEIGHT = 0.6
MULTI_LABEL_MIN = 0.25


def jieba_words(text: str) -> list[str]:
    return [w for w in lexicon.words(text) if not re.fullmatch(r"[\W\d_]+", w)]


def _zscore_rows(matrix: np.ndarray) -> np.ndarray:
    mean = matrix.mean(axis=1, keepdims=True)
    std = matrix.std(axis=1, keepdims=True)
    return (matrix - mean) / np.maximum(std, 1e-6)


@dataclass
class Evidence:
    kind: str  # "keyword" | "word" | "similar"
    text: str
    start: int | None = None
    end: int | None = None
    weight: float = 0.0


@dataclass
class ItemScore:
    id: str
    title: str
    score: float
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class TagResult:
    is_finding: bool
    finding_score: float
    checklist: list[ItemScore]
    focus: int | None
    focus_score: float
    focus_scores: dict[int, float]
    discipline: str | None
    discipline_score: float
    discipline_scores: dict[str, float]

    def as_json(self, identifier=None) -> dict:
        evidence = [
            {"item": item.id, "kind": e.kind, "text": e.text, "start": e.start, "end": e.end,
             "weight": round(e.weight, 4)}
            for item in self.checklist[:1] for e in item.evidence
        ]
        return {
            "id": identifier, "is_finding": self.is_finding, "finding_score": round(self.finding_score, 4),
            "checklist": [{"id": i.id, "title": i.title, "score": round(i.score, 4)} for i in self.checklist],
            "focus": self.focus, "focus_score": round(self.focus_score, 4),
            "discipline": self.discipline, "discipline_score": round(self.discipline_score, 4),
            "evidence": evidence,
        }


class FindingTagger(BaseEstimator, ClassifierMixin):
    """Tags texts against the checklist. ``fit(texts, labels)`` takes, per text, its item ids
    (primary first; empty for a text that is not a finding)."""

    def __init__(self, checklist: Checklist | None = None, embed: EmbedFn | None = None, top_k: int = 3,
                 c_items: float = 20.0, c_finding: float = 4.0, semantic_weight: float = 0.1,
                 keyword_weight: float = 1.0, neighbours: bool = False, threshold: float = 0.5,
                 calibrate_items: bool = True,
                 random_state: int = 0) -> None:
        self.checklist = checklist
        self.embed = embed
        self.top_k = top_k
        self.c_items = c_items
        self.c_finding = c_finding
        self.semantic_weight = semantic_weight
        self.keyword_weight = keyword_weight
        self.neighbours = neighbours
        self.threshold = threshold
        self.calibrate_items = calibrate_items
        self.random_state = random_state

    # ----- features
    def _lexical_features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        hits = np.zeros((len(texts), len(self.item_ids_)), dtype=np.float32)
        for column, terms in enumerate(self.item_terms_):
            for row, text in enumerate(texts):
                hits[row, column] = sum(1.0 for term in terms if term in text)
        return sparse.csr_matrix(np.log1p(hits) * self.keyword_weight)

    def _embed(self, texts: Sequence[str]) -> np.ndarray | None:
        if self.embed is None or self.prototypes_ is None:
            return None
        return np.asarray(self.embed(list(texts)), dtype=np.float32)

    def _neighbour_similarity(self, similarity_to_examples: np.ndarray) -> np.ndarray:
        """Per item, the highest similarity to a training example labelled with that item."""
        out = np.full((similarity_to_examples.shape[0], len(self.item_ids_)), -1.0, dtype=np.float32)
        for column, members in enumerate(self.example_members_):
            if len(members):
                out[:, column] = similarity_to_examples[:, members].max(axis=1)
        return out

    def _semantic_features(self, texts: Sequence[str], vectors: np.ndarray | None = None,
                           leave_one_out: bool = False) -> np.ndarray | None:
        """``[prototype similarity | nearest labelled example similarity]`` per item, or None."""
        vectors = self._embed(texts) if vectors is None else vectors
        if vectors is None:
            return None
        prototype = vectors @ self.prototypes_.T
        if self.example_vectors_ is None:
            return prototype
        to_examples = vectors @ self.example_vectors_.T
        if leave_one_out:
            np.fill_diagonal(to_examples, -1.0)
        return np.hstack([prototype, self._neighbour_similarity(to_examples)])

    def _features(self, texts: Sequence[str], semantic: np.ndarray | None = None) -> sparse.csr_matrix:
        semantic = self._semantic_features(texts) if semantic is None else semantic
        parts = [self.vectorizer_.transform(texts), self._lexical_features(texts)]
        if semantic is not None:
            blocks = np.hsplit(semantic, semantic.shape[1] // len(self.item_ids_))
            parts.append(sparse.csr_matrix(np.hstack(
                [_zscore_rows(b) * self.semantic_weight for b in blocks]
                + [b.max(axis=1, keepdims=True) for b in blocks])))
        return sparse.hstack(parts).tocsr()

    # ----- estimator API
    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]]) -> FindingTagger:
        if self.checklist is None:
            raise ValueError("FindingTagger needs a checklist")
        texts = list(texts)
        items = self.checklist.items
        self.item_ids_ = [item.id for item in items]
        self.item_index_ = {item_id: i for i, item_id in enumerate(self.item_ids_)}
        self.item_terms_ = [sorted({t for t in [*item.keywords, *item.synonyms] if len(t) >= 2}) for item in items]
        self.item_focus_ = np.array([item.focus for item in items])
        self.item_discipline_ = np.array([item.discipline for item in items])
        try:  # ids merged into another item (aliases) train that item
            labels = [self.checklist.resolve_all(ids) for ids in labels]
        except KeyError as error:
            raise ValueError(error.args[0]) from None

        descriptions = [[item.title, *item.manifestations, *item.synonyms] for item in items]
        self.vectorizer_ = FeatureUnion([
            ("words", TfidfVectorizer(analyzer=jieba_words, ngram_range=(1, 1), min_df=1, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                      max_features=60000)),
        ])
        self.vectorizer_.fit(texts + [d for group in descriptions for d in group])
        self.prototypes_ = None
        self.phrases_, self.phrase_vectors_, self.phrase_owner_ = [], None, np.zeros(0, dtype=int)
        if self.embed is not None:
            phrases = [d for group in descriptions for d in group]
            owners = [i for i, group in enumerate(descriptions) for _ in group]
            vectors = np.asarray(self.embed(phrases), dtype=np.float32)
            self.phrases_, self.phrase_vectors_, self.phrase_owner_ = phrases, vectors, np.array(owners)
            prototypes = np.vstack([vectors[self.phrase_owner_ == i].mean(axis=0) for i in range(len(items))])
            self.prototypes_ = prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)

        self.example_vectors_, self.example_members_ = None, []
        semantic = None
        if self.prototypes_ is not None:
            vectors = self._embed(texts)
            if self.neighbours:
                self.example_vectors_ = vectors
                self.example_members_ = [np.flatnonzero([item_id in ids for ids in labels])
                                         for item_id in self.item_ids_]
            semantic = self._semantic_features(texts, vectors, leave_one_out=True)
        features = self._features(texts, semantic)
        is_finding = np.array([bool(ids) for ids in labels], dtype=int)
        base = LogisticRegression(C=self.c_finding, max_iter=3000, class_weight="balanced")
        self.finding_model_ = CalibratedClassifierCV(base, method="sigmoid", cv=3).fit(features, is_finding)

        # Item model: one row per (text, item); descriptions act as extra, lightly weighted rows.
        rows, targets, weights = [], [], []
        for row, ids in enumerate(labels):
            for rank, item_id in enumerate(ids):
                rows.append(row)
                targets.append(self.item_index_[item_id])
                weights.append(1.0 if rank == 0 else SECONDARY_WEIGHT)
        description_texts = [d for group in descriptions for d in group]
        description_targets = [i for i, group in enumerate(descriptions) for _ in group]
        item_features = sparse.vstack([features[rows], self._features(description_texts)]).tocsr()
        item_targets = np.array(targets + description_targets)
        item_weights = np.array(weights + [0.5] * len(description_targets))
        self.item_model_ = LogisticRegression(C=self.c_items, max_iter=3000)
        self.item_model_.fit(item_features, item_targets, sample_weight=item_weights)
        self.item_model_.coef_ = self.item_model_.coef_.astype(np.float32)  # halves the artefact
        self.temperature_ = (self._fit_temperature(item_features, item_targets, item_weights)
                             if self.calibrate_items else 1.0)
        self.classes_ = np.array([False, True])
        return self

    def _fit_temperature(self, features, targets, weights) -> float:
        """Temperature minimising out-of-fold log-loss of the item model (3 folds)."""
        counts = np.bincount(targets, minlength=len(self.item_ids_))
        keep = counts[targets] >= 3
        if keep.sum() < 30:
            return 1.0
        features, targets, weights = features[keep], targets[keep], weights[keep]
        logits = np.zeros((len(targets), len(self.item_ids_)))
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(features, targets):
            model = LogisticRegression(C=self.c_items, max_iter=2000)
            model.fit(features[train], targets[train], sample_weight=weights[train])
            fold_logits = np.full((len(test), len(self.item_ids_)), -30.0)
            fold_logits[:, model.classes_] = model.decision_function(features[test])
            logits[test] = fold_logits

        def loss(temperature: float) -> float:
            scaled = logits / temperature
            scaled -= scaled.max(axis=1, keepdims=True)
            log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
            return float(-(log_probs[np.arange(len(targets)), targets] * weights).sum() / weights.sum())

        return float(minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded").x)

    def _item_probabilities(self, features) -> np.ndarray:
        logits = np.full((features.shape[0], len(self.item_ids_)), -30.0)
        logits[:, self.item_model_.classes_] = self.item_model_.decision_function(features)
        logits /= self.temperature_
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probability that each text is a finding, as ``[[p_not, p_finding], ...]``."""
        return self.finding_model_.predict_proba(self._features(list(texts)))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts)[:, 1] >= self.threshold

    def predict_items(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each checklist item given that the text is a finding, ``(n, n_items)``."""
        return self._item_probabilities(self._features(list(texts)))

    # ----- the product
    def tag(self, texts: Sequence[str], evidence: bool = True) -> list[TagResult]:
        texts = list(texts)
        if not texts:
            return []
        vectors = self._embed(texts)
        features = self._features(texts, self._semantic_features(texts, vectors))
        finding = self.finding_model_.predict_proba(features)[:, 1]
        items = self._item_probabilities(features)
        results = []
        for row, text in enumerate(texts):
            order = np.argsort(-items[row])[: self.top_k]
            # a model trained before items were merged names their aliases: report the current item
            ranked = [ItemScore(self.checklist.resolve(self.item_ids_[i]), self.checklist.get(self.item_ids_[i]).title,
                                float(items[row, i])) for i in order]
            if evidence:
                for item in ranked[:1]:
                    item.evidence = self.explain(text, item.id, features[row],
                                                 None if vectors is None else vectors[row])
            focus_scores = {int(f): float(items[row, self.item_focus_ == f].sum()) for f in np.unique(self.item_focus_)}
            discipline_scores = {str(d): float(items[row, self.item_discipline_ == d].sum())
                                 for d in np.unique(self.item_discipline_)}
            focus = max(focus_scores, key=focus_scores.get)
            discipline = max(discipline_scores, key=discipline_scores.get)
            results.append(TagResult(
                is_finding=bool(finding[row] >= self.threshold), finding_score=float(finding[row]),
                checklist=ranked, focus=focus, focus_score=focus_scores[focus], focus_scores=focus_scores,
                discipline=discipline, discipline_score=discipline_scores[discipline],
                discipline_scores=discipline_scores,
            ))
        return results

    def labels_of(self, result: TagResult) -> list[str]:
        """Item ids a finding is tagged with: the best one, plus any other above ``MULTI_LABEL_MIN``."""
        if not result.is_finding:
            return []
        return [item.id for rank, item in enumerate(result.checklist) if rank == 0 or item.score >= MULTI_LABEL_MIN]

    def explain(self, text: str, item_id: str, feature_row, vector: np.ndarray | None) -> list[Evidence]:
        """Words and phrases that drove ``item_id`` for ``text``: checklist terms found in the text,
        the words with the largest positive contribution, and the most similar item phrase."""
        column = self.item_index_[item_id]
        out: list[Evidence] = []
        for term in self.item_terms_[column]:
            start = text.find(term)
            if start >= 0:
                out.append(Evidence("keyword", term, start, start + len(term), 1.0))
        class_row = np.searchsorted(self.item_model_.classes_, column)
        if class_row < len(self.item_model_.classes_) and self.item_model_.classes_[class_row] == column:
            words = self.vectorizer_.transformer_list[0][1]
            n_words = len(words.vocabulary_)
            row = feature_row.tocsr()[:, :n_words]
            contributions = row.multiply(self.item_model_.coef_[class_row, :n_words]).tocoo()
            vocabulary = getattr(self, "_word_names", None)
            if vocabulary is None:  # derived from the fitted vectorizer, computed once per process
                vocabulary = self._word_names = words.get_feature_names_out()
            seen = {e.text for e in out}
            for index in np.argsort(-contributions.data)[:4]:
                weight = float(contributions.data[index])
                word = str(vocabulary[contributions.col[index]])
                if weight <= 0 or word in seen:
                    continue
                start = text.find(word)
                out.append(Evidence("word", word, start if start >= 0 else None,
                                    start + len(word) if start >= 0 else None, weight))
        if self.phrase_vectors_ is not None and vector is not None:
            owned = np.flatnonzero(self.phrase_owner_ == column)
            scores = self.phrase_vectors_[owned] @ vector
            best = owned[int(np.argmax(scores))]
            out.append(Evidence("similar", self.phrases_[best], None, None, float(scores.max())))
        return out
