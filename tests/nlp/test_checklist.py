import json
from collections import Counter

import pytest
import yaml

from nlp.checklist import CHECKLIST_DIR, Checklist, ChecklistItem, load_checklist
from nlp.dataset import load_examples, split_of, train_dev
from nlp.tagger import FindingTagger
from service.cli import app as cli
from typer.testing import CliRunner


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
    assert checklist.search("公务接待超标准", 3)[0].id == "C2-12"
    assert {i.id for i in checklist.search("过节收了老板的购物卡", 2)} & {"C2-01", "C2-15"}


def test_search_ranks_embezzlement_items_first_for_tanwu(checklist):
    embezzlement = {"C4-14", "C5-15", "C6-14", "C6-28", "C6-02"}  # 侵占、侵吞、私分、截留
    found = checklist.search("贪污", 10)
    assert len(found) >= 3 and {i.id for i in found[:3]} <= embezzlement


def test_search_returns_only_related_items_for_a_rare_term(checklist):
    found = checklist.search("一言堂", 50)
    assert 1 <= len(found) <= 10
    assert found[0].group == "A3" and "一言堂" in found[0].title
    assert checklist.search("的", 50) == [] and checklist.search("  ", 50) == []
    assert checklist.search("C4-24")[0].id == "C1-11"  # an id, or a merged item's old id


def test_group_filter_applies_to_the_ranking_and_the_cli_counts_hidden_matches(checklist):
    everywhere = checklist.search("超标准", 50)
    in_c2 = checklist.search("超标准", 50, group="c2")
    assert in_c2 == [i for i in everywhere if i.group == "C2"] and len(in_c2) < len(everywhere)
    runner = CliRunner()
    result = runner.invoke(cli, ["checklist", "search", "超标准", "--group", "C5"])
    assert result.exit_code == 0
    assert "分组 C5 中没有找到相关条目" in result.output
    assert f"另有 {len(everywhere)} 条匹配在其他分组" in result.output
    result = runner.invoke(cli, ["checklist", "search", "超标准", "-g", "C2", "--json"])
    payload = json.loads(result.output)
    assert [i["id"] for i in payload["items"]] == [i.id for i in in_c2][:10]
    assert payload["outside_group"] == len(everywhere) - len(in_c2)
    shown = runner.invoke(cli, ["checklist", "show", "c4-24"])
    assert shown.exit_code == 0 and "编号 C4-24 已合并到 C1-11" in shown.output


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


def test_merged_ids_resolve_to_the_surviving_item(checklist):
    assert checklist.resolve("C4-24") == "C1-11" and checklist.get("C4-24").id == "C1-11"
    assert checklist.resolve(" c6-26 ") == "B4-12" and checklist.get("A2-11") is checklist.get("B4-12")
    assert "C4-24" in checklist and "C4-24" not in checklist.by_id
    assert checklist.resolve_all(["C6-26", "B4-12", "A2-11", "C2-01"]) == ["B4-12", "C2-01"]
    merged = {"C4-24", "C4-23", "C5-10", "A1-17", "C5-19", "C6-17", "A1-25", "A2-11", "C6-26", "C5-14"}
    assert merged == set(checklist.alias_of) and not merged & set(checklist.by_id)
    with pytest.raises(KeyError, match="负面清单中没有编号为 C9-99 的条目"):
        checklist.get("C9-99")
    assert checklist.resolve_all(["C9-99", "C5-10"], strict=False) == ["C2-30"]
    assert checklist.resolve("C5-14") == "A1-15"  # the same 违规举债 item twice


def test_an_alias_that_is_also_an_item_id_is_rejected(checklist):
    items = [i.model_dump() for i in checklist.items[:2]]
    items[0]["aliases"] = [items[1]["id"]]
    with pytest.raises(ValueError, match="alias"):
        Checklist(version="t", focus=checklist.focus, disciplines=checklist.disciplines,
                  groups=checklist.groups, items=items)


def test_training_examples_labelled_with_an_alias_train_the_surviving_item(tmp_path, checklist):
    rows = [{"text": "廉政风险点排查表三年没更新", "items": ["C4-24", "C1-11"], "voice": "headline"},
            {"text": "关键岗位会计干了十五年没换", "items": ["C4-23"], "voice": "headline"},
            {"text": "今天天气不错", "items": [], "is_finding": False}]
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    examples = load_examples(tmp_path)
    assert [e.items for e in examples] == [("C1-11",), ("B3-16",), ()]

    subset = Checklist(version="t", focus=checklist.focus, disciplines=checklist.disciplines, groups=checklist.groups,
                       items=[i for i in checklist.items if i.group in ("C1", "C2")])  # two focuses
    train, _ = train_dev(load_examples())
    c1 = [e for e in train if e.items and all(i.startswith("C1-") for i in e.items)]
    c2 = [e for e in train if e.items and all(i.startswith("C2-") for i in e.items)]
    data = c1 + c2[:80] + [e for e in train if not e.items][:80]
    labels = [["C4-24" if i == "C1-11" else i for i in e.items] for e in data]  # the old id only
    assert "C1-11" not in {i for ids in labels for i in ids}
    tagger = FindingTagger(checklist=subset, calibrate_items=False).fit([e.text for e in data], labels)
    assert tagger.item_index_["C1-11"] in set(tagger.item_model_.classes_)
    top = tagger.tag(["单位的廉政风险点排查多年没有更新，防控措施都是空话"], evidence=False)[0].checklist[0]
    assert top.id == "C1-11"
    with pytest.raises(ValueError, match="负面清单中没有编号为 C9-99 的条目"):
        FindingTagger(checklist=subset).fit(["某文本"], [["C9-99"]])
