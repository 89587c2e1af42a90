"""The finding tagger: checklist items, 三个聚焦 and discipline for each candidate finding.

A scikit-learn estimator combining four kinds of evidence:

* lexical — TF-IDF over jieba words and character 1–3 grams, sentence-form cues
  (``nlp.registers``: exhortation, quote, question, heading… against stated problems), and hits
  of each checklist item's keywords and synonyms;
* supervised — logistic regression for "is this a finding" (over everything) and for the
  checklist item (multinomial over the text features);
* semantic — cosine similarity of the text to every item's prototype (mean embedding of its
  title, manifestations and synonyms) from an injected embedder, z-scored per text; the text's
  e5 vector itself (``vector_weight``) as features of the finding model and the heads;
* neighbours — a vote of the ``knn_k`` most similar training texts (softmax of cosine): the share
  of findings among them and, among their findings, the share of each item, focus and
  discipline (left out of its own vote while fitting);
* a lexical view — the finding model, item mix and heads refitted on the lexical evidence alone
  (no vector, similarity or vote), blended in with weight ``lexical_weight``: it errs on other
  texts than the full model, and the blend is right more often than either.

An item's logit is the text model's logit plus one weight times its keyword hits, one weight
times its prototype similarity and one times its kNN vote; the weights and a temperature are
fitted for log-loss on a held-out fifth of the labelled texts, so item probabilities are
calibrated. Models saved before the vectors and votes existed load and tag as they did. The finding model is
calibrated by cross-validated sigmoid. 三个聚焦 and discipline each have a model of their own,
trained on the focus and discipline the data states (an item implies its focus only most of the
time), blended with the item distribution summed by each item's focus and discipline.

A gate in front (``gate_threshold`` > 0): a text-only model of "is this a finding"; texts it all but
rules out (procedure, form lines, headings) are tagged from their text alone and never embedded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from nlp import lexicon, registers
from nlp.threads import thread_pools
from nlp.checklist import Checklist

EmbedFn = Callable[[Sequence[str]], np.ndarray]
# Independent scikit-learn fits while training (calibration folds, the two heads) run on up to this
# many processes; the fitted models are the same as when run one after another.
FIT_JOBS = max(1, min(3, os.cpu_count() or 1))
SECONDARY_WEIGHT = 0.6
MULTI_LABEL_MIN = 0.25
# Frequent words that carry no meaning as evidence even when the item model weights them.
EVIDENCE_STOPWORDS = frozenset("没有 我们 他们 你们 一个 这个 那个 就是 还是 但是 因为 所以 自己 什么 这些 那些 "
                               "可以 进行 有关 相关 以及 对于 其中 已经 这样 怎么 如果".split())


def jieba_words(text: str) -> list[str]:
    return [w for w in lexicon.words(text) if not re.fullmatch(r"[\W\d_]+", w)]


_LEADING_ENUMERATOR = re.compile(r"^\s*(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十]|[（(][一二三四五六七八九十\d]+[）)]"
                                 r"|[一二三四五六七八九十]+、|\d{1,2}[.、．](?!\d))[，,：:、]?")


def lexical_form(text: str) -> str:
    """What the lexical features read: list markers (一是、（二）) and the particular digits of
    dates and amounts say nothing about whether a sentence states a problem, and training data
    from one register would otherwise teach them as cues."""
    return re.sub(r"\d", "0", _LEADING_ENUMERATOR.sub("", text))


def _same_threads():
    """Worker processes use as many BLAS threads as this one: joblib would limit them to one, and
    a different thread count sums in another order (finding scores then differ by ~1e-12)."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_info

    threads = max([pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"] or [1])
    return parallel_config(backend="loky", inner_max_num_threads=threads)


def _fit_head(features, targets: list, c: float) -> LogisticRegression | None:
    """A focus or discipline head; None when the data states a single value: the item distribution
    then decides alone."""
    if len(set(targets)) < 2:
        return None
    return LogisticRegression(C=c, max_iter=1000, tol=1e-3).fit(features, np.array(targets))


def _is_finding(labels) -> np.ndarray:
    return np.array([bool(ids) for ids in labels], dtype=int)


def _fit_finding_model(features, is_finding: np.ndarray, c: float, n_jobs: int) -> CalibratedClassifierCV:
    """Is-finding: logistic regression calibrated by cross-validated sigmoid (three independent
    folds, on ``n_jobs`` processes: the same model whatever ``n_jobs``)."""
    base = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    return CalibratedClassifierCV(base, method="sigmoid", cv=3, n_jobs=n_jobs).fit(features, is_finding)


def _fit_weighted(model, features, targets: np.ndarray, weights: np.ndarray):
    return model.fit(features, targets, sample_weight=weights)


@dataclass
class HeldOut:
    """The item model's fit on four fifths of the labelled texts (split by text, fixed seed), for
    the logits of the fifth held out: ``mask`` over the label rows, ``fit_args`` for
    :func:`_fit_weighted`."""
    mask: np.ndarray
    fit_args: tuple


@dataclass
class LexicalView:
    """A second opinion from the text alone (``lexical_weight``): its own finding model, heads and
    item mix over the words, character n-grams, cues and keyword hits, with no vector, prototype
    similarity or neighbour vote. It shares the item model, so it costs three small fits. On
    realdev's choose half, blending it in lifts item top-1 and discipline by 2–3 points: the two
    views err on different texts."""
    mix: tuple
    finding_model: CalibratedClassifierCV
    focus_model: LogisticRegression | None
    discipline_model: LogisticRegression | None


def _zscore_rows(matrix: np.ndarray) -> np.ndarray:
    mean = matrix.mean(axis=1, keepdims=True)
    std = matrix.std(axis=1, keepdims=True)
    return (matrix - mean) / np.maximum(std, 1e-6)


def linear_scores(model, features) -> np.ndarray:
    """``model.decision_function(features)`` for a fitted linear model over sparse rows, reading
    only the coefficient columns the rows use: scikit-learn multiplies by the whole float32
    ``coef_`` (items × features), which makes scipy copy it to float64 on every call (~50 ms for a
    single text). Same values up to summation order."""
    coef = getattr(model, "coef_", None)
    if not isinstance(coef, np.ndarray) or coef.ndim != 2 or not sparse.issparse(features):
        return model.decision_function(features)
    rows = sparse.csr_matrix(features)
    columns = np.unique(rows.indices)
    scores = (rows[:, columns].astype(np.float64) @ coef[:, columns].astype(np.float64).T
              + np.asarray(model.intercept_, dtype=np.float64))
    scores = np.asarray(scores)
    return scores.ravel() if coef.shape[0] == 1 else scores


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
    form: str = "statement"

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
            "form": self.form, "evidence": evidence,
        }


@dataclass
class Votes:
    """kNN votes of the nearest training texts for a batch of texts."""
    finding: np.ndarray  # (n,) share of findings among the neighbours
    items: np.ndarray  # (n, items) share of each primary item among the neighbouring findings
    focus: np.ndarray  # (n, focus values) likewise for 三个聚焦
    discipline: np.ndarray  # (n, discipline values) likewise for discipline ("无" included)

    def dense(self) -> np.ndarray:
        """The votes the finding model and the heads read (items enter the item logits instead)."""
        return np.hstack([self.finding[:, None], self.focus, self.discipline])


def _one_blas_thread():
    """BLAS on one thread while tagging. Its products here are small, but after each one OpenBLAS's
    idle threads spin on the cores that e5's own OpenMP threads need next: on 2 cores one text's
    e5 call took 92 ms instead of 34 (bench/tag.py single p50 124 -> 57 ms)."""
    return thread_pools().limit(limits=1, user_api="blas")


@dataclass
class Inference:
    """Per text: finding probability, item distribution, ``{value: probability}`` for focus and
    discipline, the text features, and the e5 vector of each text that was embedded (by row)."""
    finding: np.ndarray
    items: np.ndarray
    focus: list[dict]
    discipline: list[dict]
    text_features: sparse.csr_matrix
    vectors: dict[int, np.ndarray]
    deep: np.ndarray  # passed the gate (a text it rejects is never a finding)


class FindingTagger(BaseEstimator, ClassifierMixin):
    """Tags texts against the checklist. ``fit(texts, labels)`` takes, per text, its item ids
    (primary first; empty for a text that is not a finding)."""

    def __init__(self, checklist: Checklist | None = None, embed: EmbedFn | None = None, top_k: int = 3,
                 c_items: float = 20.0, c_finding: float = 4.0, c_heads: float = 4.0,
                 semantic_weight: float = 0.1, threshold: float = 0.5, calibrate_items: bool = True,
                 cue_weight: float = 1.0, head_weight: float = 0.5, kind_thresholds: dict | None = None,
                 vector_weight: float = 1.0, knn_k: int = 10, knn_temperature: float = 0.05,
                 knn_heads: bool = True, gate_threshold: float = 0.0, c_gate: float = 4.0,
                 lexical_weight: float = 0.0, random_state: int = 0) -> None:
        self.checklist = checklist
        self.embed = embed
        self.top_k = top_k
        self.c_items = c_items
        self.c_finding = c_finding
        self.c_heads = c_heads
        self.semantic_weight = semantic_weight
        self.threshold = threshold
        self.calibrate_items = calibrate_items
        self.cue_weight = cue_weight
        self.head_weight = head_weight
        self.kind_thresholds = kind_thresholds
        self.vector_weight = vector_weight
        self.knn_k = knn_k
        self.knn_temperature = knn_temperature
        self.knn_heads = knn_heads
        self.gate_threshold = gate_threshold
        self.c_gate = c_gate
        self.lexical_weight = lexical_weight
        self.random_state = random_state

    # ----- features
    def _text_features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Words, character n-grams and sentence-form cues: what the item model reads."""
        return sparse.hstack([self.vectorizer_.transform([lexical_form(t) for t in texts]),
                              sparse.csr_matrix(registers.cue_matrix(texts, self._cue_names()) * self.cue_weight)
                              ]).tocsr()

    def _cue_names(self) -> tuple[str, ...]:
        return getattr(self, "cue_names_", registers.FIRST_CUES)

    def _keyword_hits(self, texts: Sequence[str]) -> np.ndarray:
        """Per item, log(1 + number of its keywords and synonyms in the text)."""
        hits = np.zeros((len(texts), len(self.item_ids_)), dtype=np.float32)
        for column, terms in enumerate(self.item_terms_):
            for row, text in enumerate(texts):
                hits[row, column] = sum(1.0 for term in terms if term in text)
        return np.log1p(hits)

    def _embed(self, texts: Sequence[str]) -> np.ndarray | None:
        if self.embed is None or self.prototypes_ is None:
            return None
        return np.asarray(self.embed(list(texts)), dtype=np.float32)

    def _similarity(self, vectors: np.ndarray | None, n: int) -> np.ndarray:
        """Per item, the text's cosine to the item prototype, z-scored per text (zeros without an embedder)."""
        if vectors is None:
            return np.zeros((n, len(self.item_ids_)), dtype=np.float32)
        return _zscore_rows(vectors @ self.prototypes_.T)

    def _views(self, texts: Sequence[str], vectors: np.ndarray | None = None):
        texts = list(texts)
        vectors = self._embed(texts) if vectors is None else vectors
        return (self._text_features(texts), self._keyword_hits(texts), self._similarity(vectors, len(texts)),
                vectors)

    def _finding_features(self, text_features, hits: np.ndarray, similarity: np.ndarray,
                          vectors: np.ndarray | None = None, votes: Votes | None = None) -> sparse.csr_matrix:
        """What the finding model and the focus/discipline heads read: the text features, keyword
        hits and prototype similarities, then (models fitted with them) the e5 vector itself and the
        kNN votes of the nearest training texts."""
        blocks = [text_features, sparse.csr_matrix(hits),
                  sparse.csr_matrix(np.hstack([similarity * self.semantic_weight, similarity.max(axis=1, keepdims=True),
                                               hits.max(axis=1, keepdims=True)]))]
        weight = getattr(self, "vectors_in_features_", 0.0)  # 0 in artefacts saved before it existed
        if weight and vectors is not None:
            blocks.append(sparse.csr_matrix(vectors * weight))
        if votes is not None:
            blocks.append(sparse.csr_matrix(votes.dense()))
        return sparse.hstack(blocks).tocsr()

    # ----- nearest training texts
    def _fit_memory(self, vectors: np.ndarray | None, labels: list[list[str]], focus_targets: list,
                    discipline_targets: list) -> None:
        """Keeps the training texts' e5 vectors with their primary item, focus and discipline for
        the kNN vote (nothing without an embedder or with ``knn_k`` 0)."""
        self.memory_vectors_ = None
        if vectors is None or not getattr(self, "knn_k", 0):
            return
        self.memory_vectors_ = np.asarray(vectors, dtype=np.float32)
        self.memory_item_ = np.array([self.item_index_[ids[0]] if ids else -1 for ids in labels])
        self.memory_focus_values_ = sorted({v for v in focus_targets if v is not None})
        self.memory_discipline_values_ = sorted({v for v in discipline_targets if v is not None})
        self.memory_focus_ = np.array([self.memory_focus_values_.index(v) if v is not None else -1
                                       for v in focus_targets])
        self.memory_discipline_ = np.array([self.memory_discipline_values_.index(v) if v is not None else -1
                                            for v in discipline_targets])

    def _votes(self, vectors: np.ndarray | None, exclude_self: bool = False) -> Votes | None:
        """Similarity-weighted votes of the ``knn_k`` nearest training texts (softmax of cosine over
        ``knn_temperature``): the share of findings among them and, among their findings, the share
        of each item, focus and discipline. ``exclude_self`` when ``vectors`` are the memory itself."""
        memory = getattr(self, "memory_vectors_", None)
        if memory is None or vectors is None:
            return None
        k = min(self.knn_k, memory.shape[0] - int(exclude_self))
        n = vectors.shape[0]
        out = Votes(np.zeros(n), np.zeros((n, len(self.item_ids_))),
                    np.zeros((n, len(self.memory_focus_values_))), np.zeros((n, len(self.memory_discipline_values_))))
        for start in range(0, n, 1024):
            block = np.asarray(vectors[start:start + 1024], dtype=np.float32) @ memory.T
            if exclude_self:
                block[np.arange(block.shape[0]), np.arange(start, start + block.shape[0])] = -np.inf
            nearest = np.argpartition(-block, k - 1, axis=1)[:, :k]
            cosine = np.take_along_axis(block, nearest, axis=1).astype(np.float64)
            weight = np.exp((cosine - cosine.max(axis=1, keepdims=True)) / self.knn_temperature)
            weight /= weight.sum(axis=1, keepdims=True)
            rows = np.arange(start, start + block.shape[0])[:, None].repeat(k, axis=1)
            item = self.memory_item_[nearest]
            finding = item >= 0
            out.finding[rows[:, 0]] = (weight * finding).sum(axis=1)
            np.add.at(out.items, (rows[finding], item[finding]), weight[finding])
            for target, memory_values in ((out.focus, self.memory_focus_), (out.discipline, self.memory_discipline_)):
                value = memory_values[nearest]
                known = value >= 0
                np.add.at(target, (rows[known], value[known]), weight[known])
        among = np.maximum(out.finding, 1e-9)[:, None]
        out.items /= among
        out.focus /= np.maximum(out.focus.sum(axis=1, keepdims=True), 1e-9)
        out.discipline /= np.maximum(out.discipline.sum(axis=1, keepdims=True), 1e-9)
        return out

    # ----- estimator API
    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]],
            focus: Sequence[int | None] | None = None,
            discipline: Sequence[str | None] | None = None) -> FindingTagger:
        """``focus``/``discipline``: per text, the value its labeller stated, or None to take the
        primary item's."""
        if self.checklist is None:
            raise ValueError("FindingTagger needs a checklist")
        texts = list(texts)
        items = self.checklist.items
        self.item_ids_ = [item.id for item in items]
        self.item_index_ = {item_id: i for i, item_id in enumerate(self.item_ids_)}
        self.item_terms_ = [sorted({t for t in [*item.keywords, *item.synonyms] if len(t) >= 2}) for item in items]
        self.item_focus_ = np.array([item.focus for item in items])
        self.item_discipline_ = np.array([item.discipline for item in items])
        resolve = getattr(self.checklist, "resolve", lambda item_id: item_id)
        try:
            labels = [list(dict.fromkeys(resolve(i) for i in ids)) for ids in labels]
        except KeyError as error:
            raise ValueError(f"labels name items missing from the checklist: {error}") from None
        unknown = {i for ids in labels for i in ids} - set(self.item_index_)
        if unknown:
            raise ValueError(f"labels name items missing from the checklist: {sorted(unknown)[:5]}")

        descriptions = [item.phrases for item in items]
        description_texts = [d for group in descriptions for d in group]
        description_targets = [i for i, group in enumerate(descriptions) for _ in group]
        self.vectorizer_ = FeatureUnion([
            ("words", TfidfVectorizer(analyzer=jieba_words, ngram_range=(1, 1), min_df=1, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                      max_features=60000)),
        ])
        self.vectorizer_.fit([lexical_form(t) for t in texts + description_texts])
        self.cue_names_ = registers.CUE_NAMES
        self.prototypes_ = None
        self.phrases_, self.phrase_vectors_, self.phrase_owner_ = [], None, np.zeros(0, dtype=int)
        if self.embed is not None:
            vectors = np.asarray(self.embed(description_texts), dtype=np.float32)
            self.phrases_, self.phrase_vectors_ = description_texts, vectors
            self.phrase_owner_ = np.array(description_targets)
            prototypes = np.vstack([vectors[self.phrase_owner_ == i].mean(axis=0) for i in range(len(items))])
            self.prototypes_ = prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)

        text_features, hits, similarity, vectors = self._views(texts)
        self._fit_gate(text_features, hits, labels)
        focus_targets, discipline_targets = self._head_targets(labels, focus, discipline)
        self.vectors_in_features_ = self.vector_weight if vectors is not None else 0.0
        self._fit_memory(vectors, labels, focus_targets, discipline_targets)
        votes = self._votes(vectors, exclude_self=True)
        features = self._finding_features(text_features, hits, similarity, vectors, votes)

        # Item model over the text alone; keyword hits, prototype similarity and the kNN item vote
        # enter each item's logit with one weight each (fitted on held-out rows), not as 2×|items|
        # shared columns.
        rows, targets, weights = [], [], []
        for row, ids in enumerate(labels):
            for rank, item_id in enumerate(ids):
                rows.append(row)
                targets.append(self.item_index_[item_id])
                weights.append(1.0 if rank == 0 else SECONDARY_WEIGHT)
        rows, targets, weights = np.array(rows), np.array(targets), np.array(weights)
        descriptions_x = self._text_features(description_texts)
        self.item_model_ = LogisticRegression(C=self.c_items, max_iter=500, tol=1e-3, warm_start=True)
        self.mix_ = (1.0, 1.0, 1.0)  # keyword weight, similarity weight, temperature[, kNN weight]
        held = (self._held_out(text_features, rows, targets, weights, descriptions_x, np.array(description_targets))
                if self.calibrate_items else None)
        # The held-out item fit (the longest, one core) runs beside the finding model and the two
        # heads, which do not depend on it: independent fits on FIT_JOBS processes, the same
        # models as one after another.
        head_features = self._head_features(features, text_features, hits, similarity, vectors, votes)
        jobs = [delayed(_fit_weighted)(self.item_model_, *held.fit_args)] if held is not None else []
        views = [(head_features, features)]
        lexical = self.lexical_weight > 0 and vectors is not None  # without vectors it is the model itself
        if lexical:
            no_similarity = self._similarity(None, len(texts))
            lexical_features = self._finding_features(text_features, hits, no_similarity)
            views.append((lexical_features, lexical_features))
        for view_heads, view_features in views:
            jobs += [*self._head_jobs(view_heads, labels, focus_targets, discipline_targets),
                     delayed(_fit_finding_model)(view_features, _is_finding(labels), self.c_finding, 1)]
        with _same_threads():
            fitted = Parallel(n_jobs=FIT_JOBS)(jobs)
        if held is not None:
            self.item_model_ = fitted.pop(0)  # the final fit starts from it (warm_start)
        self.focus_model_, self.discipline_model_, self.finding_model_ = fitted[:3]
        held_scores = None if held is None else self._held_out_scores(self.item_model_, text_features, rows, held)
        if held_scores is not None:
            self.mix_ = self._optimise_mix(held_scores, hits, similarity, None if votes is None else votes.items,
                                           rows, targets, weights)
        self.lexical_ = None
        if lexical:
            mix = ((1.0, 1.0, 1.0) if held_scores is None
                   else self._optimise_mix(held_scores, hits, no_similarity, None, rows, targets, weights))
            focus_model, discipline_model, finding_model = fitted[3:6]
            self.lexical_ = LexicalView(mix, finding_model, focus_model, discipline_model)
        self._fit_item_model(text_features, rows, targets, weights, descriptions_x, np.array(description_targets))
        self.classes_ = np.array([False, True])
        return self

    def _fit_gate(self, text_features, hits, labels) -> None:
        """The gate: "is this a finding" from the text features and keyword hits alone. Texts it
        gives less than ``gate_threshold`` skip the embedder and everything that reads a vector;
        in documents most segments are procedure, and e5 is nearly all of the tagging time."""
        self.gate_model_ = LogisticRegression(C=self.c_gate, solver="liblinear", class_weight="balanced").fit(
            self._gate_features(text_features, hits), _is_finding(labels))

    @staticmethod
    def _gate_features(text_features, hits) -> sparse.csr_matrix:
        return sparse.hstack([text_features, sparse.csr_matrix(hits)]).tocsr()

    def _fit_finding(self, features, labels) -> None:
        with _same_threads():
            self.finding_model_ = _fit_finding_model(features, _is_finding(labels), self.c_finding, FIT_JOBS)

    @staticmethod
    def _item_fit_args(text_features, rows, targets, weights, descriptions_x, description_targets) -> tuple:
        """``(features, targets, sample weights)`` of the item model: the labelled ``rows`` and every
        item's description phrases (weight 0.5)."""
        return (sparse.vstack([text_features[rows], descriptions_x]).tocsr(),
                np.concatenate([targets, description_targets]),
                np.concatenate([weights, np.full(len(description_targets), 0.5)]))

    def _fit_item_model(self, text_features, rows, targets, weights, descriptions_x, description_targets) -> None:
        # Every item has description rows, so the classes match and the fit continues from the held-out one.
        self.item_model_ = _fit_weighted(self.item_model_, *self._item_fit_args(
            text_features, rows, targets, weights, descriptions_x, description_targets))
        self.item_model_.coef_ = self.item_model_.coef_.astype(np.float32)  # halves the artefact

    def _text_logits(self, model, text_features) -> np.ndarray:
        logits = np.full((text_features.shape[0], len(self.item_ids_)), -30.0)
        logits[:, model.classes_] = linear_scores(model, text_features)
        return logits

    @staticmethod
    def _mixed_logits(logits, hits, similarity, mix, item_votes=None) -> np.ndarray:
        keyword_weight, similarity_weight, temperature = mix[:3]
        logits = logits + keyword_weight * hits + similarity_weight * similarity
        if len(mix) > 3 and item_votes is not None:
            logits = logits + mix[3] * item_votes
        return logits / temperature

    def _held_out(self, text_features, rows, targets, weights, descriptions_x, description_targets
                  ) -> HeldOut | None:
        """What the held-out item fit needs; None when too few texts would be held out."""
        generator = np.random.default_rng(self.random_state)
        held_texts = generator.random(text_features.shape[0]) < 0.2
        held = held_texts[rows]
        if held.sum() < 30:
            return None
        return HeldOut(held, self._item_fit_args(text_features, rows[~held], targets[~held], weights[~held],
                                                 descriptions_x, description_targets))

    def _held_out_scores(self, model, text_features, rows, held: HeldOut):
        """``(logits, mask)``: the held-out fit's logits on the rows it did not see."""
        base = np.full((held.mask.sum(), len(self.item_ids_)), -30.0)
        base[:, model.classes_] = model.decision_function(text_features[rows[held.mask]])
        return base, held.mask

    def _optimise_mix(self, held_out, hits, similarity, item_votes, rows, targets, weights) -> tuple[float, ...]:
        """Keyword weight, similarity weight, temperature (and kNN vote weight when there are votes)
        minimising log-loss on the held-out rows."""
        base, held = held_out
        terms = [hits[rows[held]], similarity[rows[held]]]
        if item_votes is not None:
            terms.append(item_votes[rows[held]])
        held_targets, held_weights = targets[held], weights[held]

        def loss(x: np.ndarray) -> float:
            scaled = base + sum(w * term for w, term in zip(np.delete(x, 2), terms))
            scaled = scaled / np.exp(x[2])
            scaled -= scaled.max(axis=1, keepdims=True)
            log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
            return float(-(log_probs[np.arange(len(held_targets)), held_targets] * held_weights).sum()
                         / held_weights.sum())

        start = [1.0, 1.0, 0.0] + [1.0] * (len(terms) - 2)
        bounds = [(0.0, 20.0), (0.0, 20.0), (np.log(0.05), np.log(20.0))] + [(0.0, 50.0)] * (len(terms) - 2)
        result = minimize(loss, np.array(start), method="L-BFGS-B", bounds=bounds)
        x = result.x
        return (float(x[0]), float(x[1]), float(np.exp(x[2])), *map(float, x[3:]))

    def _head_targets(self, labels, focus, discipline) -> tuple[list, list]:
        """Per text, the focus and discipline it is labelled with (stated, else its primary
        item's); None for texts that are not findings."""
        focus_targets, discipline_targets = [], []
        for row, ids in enumerate(labels):
            item = self.checklist.get(ids[0]) if ids else None
            focus_targets.append(None if item is None else
                                 (focus[row] if focus is not None and focus[row] else item.focus))
            discipline_targets.append(None if item is None else
                                      (discipline[row] if discipline is not None and discipline[row]
                                       else item.discipline))
        return focus_targets, discipline_targets

    def _head_features(self, features, text_features, hits, similarity, vectors, votes):
        """What the focus and discipline heads read: the finding model's features, without the kNN
        votes unless ``knn_heads``."""
        if votes is None or getattr(self, "knn_heads", True):
            return features
        return self._finding_features(text_features, hits, similarity, vectors)

    def _fit_heads(self, features, labels, focus_targets, discipline_targets) -> None:
        """Focus and discipline models over the findings' features."""
        # two independent fits, side by side on FIT_JOBS processes (the same models as one by one)
        with _same_threads():
            self.focus_model_, self.discipline_model_ = Parallel(n_jobs=min(2, FIT_JOBS))(
                self._head_jobs(features, labels, focus_targets, discipline_targets))

    def _head_jobs(self, features, labels, focus_targets, discipline_targets) -> list:
        positives = [row for row, ids in enumerate(labels) if ids]
        rows = features[positives]
        return [delayed(_fit_head)(rows, [targets[row] for row in positives], self.c_heads)
                for targets in (focus_targets, discipline_targets)]

    def _blend(self, model, features, items: np.ndarray, item_values: np.ndarray) -> list[dict]:
        """Per text, ``{value: probability}``: the head's distribution blended with the item
        distribution summed by each item's value."""
        classes = [] if model is None else model.classes_.tolist()
        values = list(dict.fromkeys([*classes, *np.unique(item_values).tolist()]))
        summed = np.stack([items[:, item_values == v].sum(axis=1) for v in values], axis=1)
        if model is None:
            return [dict(zip(values, map(float, row))) for row in summed]
        head = np.zeros((features.shape[0], len(values)))
        head[:, [values.index(v) for v in classes]] = model.predict_proba(features)
        blended = self.head_weight * head + (1.0 - self.head_weight) * summed
        return [dict(zip(values, map(float, row))) for row in blended]

    def _item_probabilities(self, text_features, hits, similarity, votes: Votes | None = None,
                            mix: tuple | None = None, text_logits: np.ndarray | None = None) -> np.ndarray:
        if text_logits is None:
            text_logits = self._text_logits(self.item_model_, text_features)
        logits = self._mixed_logits(text_logits, hits, similarity, mix or self.mix_,
                                    None if votes is None else votes.items)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def _infer(self, texts: list[str], heads: bool = True) -> Inference:
        """Everything the models say of ``texts``. Texts the gate rejects are scored from their text
        alone: the gate's probability as their finding score, the item model without similarity or
        votes, focus and discipline summed over those items."""
        with _one_blas_thread():
            return self._infer_all(texts, heads)

    def _infer_all(self, texts: list[str], heads: bool) -> Inference:
        n = len(texts)
        text_features, hits = self._text_features(texts), self._keyword_hits(texts)
        out = Inference(np.zeros(n), np.zeros((n, len(self.item_ids_))), [{}] * n, [{}] * n, text_features, {},
                        np.ones(n, dtype=bool))
        gate = getattr(self, "gate_model_", None)  # None in artefacts saved before it existed
        threshold = getattr(self, "gate_threshold", 0.0)
        if gate is not None and threshold > 0:
            out.finding = gate.predict_proba(self._gate_features(text_features, hits))[:, 1]
            out.deep = out.finding >= threshold
        rows, rest = np.flatnonzero(out.deep), np.flatnonzero(~out.deep)
        if rows.size:
            row_features, row_hits = text_features[rows], hits[rows]
            vectors = self._embed([texts[r] for r in rows])
            similarity = self._similarity(vectors, rows.size)
            votes = self._votes(vectors)
            features = self._finding_features(row_features, row_hits, similarity, vectors, votes)
            out.finding[rows] = self.finding_model_.predict_proba(features)[:, 1]
            text_logits = self._text_logits(self.item_model_, row_features)
            out.items[rows] = self._item_probabilities(row_features, row_hits, similarity, votes,
                                                       text_logits=text_logits)
            if vectors is not None:
                out.vectors = dict(zip(rows.tolist(), vectors))
            if heads:
                head_features = self._head_features(features, row_features, row_hits, similarity, vectors, votes)
                self._put_heads(out, rows, self.focus_model_, self.discipline_model_, head_features)
            if getattr(self, "lexical_", None) is not None:  # None in artefacts saved before it existed
                self._blend_lexical(out, rows, row_features, row_hits, text_logits, heads)
        if rest.size:
            out.items[rest] = self._item_probabilities(text_features[rest], hits[rest],
                                                       self._similarity(None, rest.size))
            if heads:
                self._put_heads(out, rest, None, None, None)
        return out

    def _blend_lexical(self, out: Inference, rows: np.ndarray, row_features, row_hits, text_logits,
                       heads: bool) -> None:
        """Blends the lexical view's finding probability, item distribution and heads into ``out``
        (rows that passed the gate), with weight ``lexical_weight``."""
        view, weight = self.lexical_, self.lexical_weight
        no_similarity = self._similarity(None, rows.size)
        features = self._finding_features(row_features, row_hits, no_similarity)
        out.finding[rows] = (1 - weight) * out.finding[rows] + weight * view.finding_model.predict_proba(features)[:, 1]
        items = self._item_probabilities(row_features, row_hits, no_similarity, mix=view.mix, text_logits=text_logits)
        if heads:
            for values, own, model in ((self.item_focus_, out.focus, view.focus_model),
                                       (self.item_discipline_, out.discipline, view.discipline_model)):
                for row, lexical in zip(rows.tolist(), self._blend(model, features, items, values)):
                    own[row] = {v: (1 - weight) * own[row].get(v, 0.0) + weight * lexical.get(v, 0.0)
                                for v in dict.fromkeys([*own[row], *lexical])}
        out.items[rows] = (1 - weight) * out.items[rows] + weight * items

    def _put_heads(self, out: Inference, rows: np.ndarray, focus_model, discipline_model, features) -> None:
        focus = self._blend(focus_model, features, out.items[rows], self.item_focus_)
        discipline = self._blend(discipline_model, features, out.items[rows], self.item_discipline_)
        for row, f, d in zip(rows.tolist(), focus, discipline):
            out.focus[row], out.discipline[row] = f, d

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probability that each text is a finding, as ``[[p_not, p_finding], ...]``."""
        finding = self._infer(list(texts), heads=False).finding
        return np.column_stack([1.0 - finding, finding])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        inferred = self._infer(list(texts), heads=False)
        return inferred.deep & (inferred.finding >= self.threshold)

    def predict_items(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each checklist item given that the text is a finding, ``(n, n_items)``."""
        return self._infer(list(texts), heads=False).items

    # ----- the product
    def threshold_for(self, kind: str | None) -> float:
        """The finding threshold for a document kind: long reports and notices (kind "other") mostly
        restate measures and exhortations in the vocabulary of problems, so they may ask for more."""
        thresholds = getattr(self, "kind_thresholds", None) or {}  # None in artefacts saved before it existed
        return thresholds.get(kind, self.threshold)

    def tag(self, texts: Sequence[str], evidence: bool = True, kind: str | None = None) -> list[TagResult]:
        texts = list(texts)
        threshold = self.threshold_for(kind)
        if not texts:
            return []
        inferred = self._infer(texts)
        finding, items, text_features = inferred.finding, inferred.items, inferred.text_features
        results = []
        for row, text in enumerate(texts):
            order = np.argsort(-items[row])[: self.top_k]
            ranked = [ItemScore(self.item_ids_[i], self.checklist.by_id[self.item_ids_[i]].title,
                                float(items[row, i])) for i in order]
            if evidence:
                for item in ranked[:1]:
                    item.evidence = self.explain(text, item.id, text_features[row], inferred.vectors.get(row))
            focus_scores = {int(f): p for f, p in inferred.focus[row].items()}
            discipline_scores = {str(d): p for d, p in inferred.discipline[row].items()}
            focus = max(focus_scores, key=focus_scores.get)
            discipline = max(discipline_scores, key=discipline_scores.get)
            results.append(TagResult(
                is_finding=bool(inferred.deep[row] and finding[row] >= threshold), finding_score=float(finding[row]),
                checklist=ranked, focus=focus, focus_score=focus_scores[focus], focus_scores=focus_scores,
                discipline=discipline, discipline_score=discipline_scores[discipline],
                discipline_scores=discipline_scores, form=registers.sentence_form(text),
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
                if weight <= 0 or word in seen or len(word) < 2 or word in EVIDENCE_STOPWORDS:
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
