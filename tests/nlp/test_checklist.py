from collections import Counter

import pytest
import yaml

from nlp.checklist import CHECKLIST_DIR, ChecklistItem, load_checklist
from nlp.dataset import load_examples, split_of, train_dev


@pytest.fixture(scope="module")
def checklist():
    return load_checklist()


def test_checklist_has_300_plus_valid_items_in_every_group(checklist):
    assert len(checklist.items) >= 300
    per_group = Counter(item.group for item in checklist.items)
    assert set(per_group) == set(checklist.groups)
    assert min(per_group.values()) >= 5
    assert len({item.id for item in checklist.items}) == len(checklist.items)
    for item in checklist.items:
        assert 2 <= len(item.wordings) <= 3 and item.basis and item.rectification
        assert item.focus in checklist.focus


def test_schema_rejects_an_item_without_wordings_or_with_an_unknown_slot(checklist):
    data = checklist.items[0].model_dump()
    with pytest.raises(ValueError):
        ChecklistItem(**{**data, "wordings": []})
    with pytest.raises(ValueError):
        ChecklistItem(**{**data, "wordings": ["{单位}存在问题", "{不存在}的槽位"]})
    with pytest.raises(ValueError):
        ChecklistItem(**{**data, "group": "C9"})


def test_duplicate_ids_are_rejected(tmp_path):
    meta = (CHECKLIST_DIR / "meta.yaml").read_text(encoding="utf-8")
    (tmp_path / "meta.yaml").write_text(meta, encoding="utf-8")
    item = yaml.safe_load((CHECKLIST_DIR / "items_A.yaml").read_text(encoding="utf-8"))[0]
    (tmp_path / "items_x.yaml").write_text(yaml.safe_dump([item, item], allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        load_checklist(tmp_path)


def test_wording_slots_are_filled(checklist):
    item = next(i for i in checklist.items if "{单位}" in i.wordings[0])
    filled = item.fill_wording(0, 单位="青石镇")
    assert "青石镇" in filled and "{单位}" not in filled


def test_search_finds_items_by_everyday_words(checklist):
    assert any(i.group == "C2" for i in checklist.search("公务接待超标准", 3))


def test_every_item_has_labelled_examples_and_the_split_is_fixed(checklist):
    examples = load_examples()
    assert len(examples) >= 3000
    counts = Counter(item for e in examples for item in e.items)
    assert {item.id for item in checklist.items} <= set(counts)
    assert min(counts[item.id] for item in checklist.items) >= 9
    assert sum(not e.is_finding for e in examples) >= 300
    train, dev = train_dev(examples)
    assert not {e.text for e in train} & {e.text for e in dev}
    assert 0.15 < len(dev) / len(examples) < 0.25
    assert all(split_of(e.text) == "dev" for e in dev)
