import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import PETITION_LINES
from nlp.checklist import load_checklist
from service import context
from service.artefacts import TAGGER_FILE
from service.cases import CaseImportError, import_file
from service.cli import app
from index.replica import load_replica
from service.search import SearchFilters, build_search_service
from service.settings import get_settings
from service.storage.cases import SqlCaseRepository

runner = CliRunner()

INTERVIEW_LINES = [
    "个别谈话记录",
    "谈话对象：钱永军（青石镇副镇长）",
    "谈话人：周敏、吴刚",
    "谈话时间：2024年4月25日",
    "问：镇里年底发补助的事情你了解吗？",
    "答：2023年12月28日党委会上陈立国书记提出给干部发年终补助，一共发了46.8万元，县里没有批。",
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("search-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("XUNCHA_HOME", str(path))
    get_settings.cache_clear()
    yield path
    patch.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def service(home):
    return context.search_service()


def test_shipped_cases_are_searchable_with_reasons(service):
    hits = service.search("村干部把低保名额给了亲戚", 5, collection="cases")
    assert hits and any(i.startswith("C6") for h in hits[:3] for i in h.meta["items"])
    top = hits[0]
    assert top.vector_score is not None and top.meta["external_id"].startswith("case-")
    for term, start, end in top.matched:
        assert top.text[start:end] == term
    filtered = service.search("工程", 10, SearchFilters(item="C6-01"), collection="cases")
    assert filtered and all("C6-01" in h.meta["items"] for h in filtered)
    assert service.search("工程", 10, SearchFilters(year=1990), collection="cases") == []


def test_cli_shows_levels_and_reasons_and_says_when_nothing_is_relevant(service):
    result = runner.invoke(app, ["search", "村干部把低保名额给了亲戚", "--in", "cases", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert "相关程度" in result.output and "原因" in result.output
    assert any(f"{level}相关" in result.output for level in "高中低")
    assert "语义分" not in result.output and "关键词分" not in result.output  # raw numbers only in --json
    raw = runner.invoke(app, ["search", "村干部把低保名额给了亲戚", "--in", "cases", "-k", "3", "--json"])
    hits = json.loads(raw.stdout)
    assert len(hits) == 3 and all(h["level"] in ("高", "中", "低") and h["reasons"] for h in hits)
    assert all(isinstance(h["score"], float) and h["vector_score"] is not None for h in hits)
    for query in ("asdfgh qwerty", "今天天气怎么样", "篮球比赛规则"):
        nothing = runner.invoke(app, ["search", query])
        assert nothing.exit_code == 0 and nothing.output.strip() == "没有相关结果", (query, nothing.output)
        assert json.loads(runner.invoke(app, ["search", query, "--json"]).stdout) == []


def test_the_item_side_compares_checklist_profiles_weighted_by_the_query_finding_probability(service):
    from service.search import WITH_ITEMS

    assert service.configuration is WITH_ITEMS and service.items is not None
    profile = service.items.inner
    n_items = len(profile.item_ids)
    texts = ["村干部把低保名额给了自己的亲戚", "过节收了老板的购物卡"]
    rows = service.items.embed_queries(texts)  # through the on-disk cache, as the index gets them
    assert rows.shape == (2, profile.dim) and profile.dim == n_items + 7  # items, then the 7 disciplines
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    raw = profile._tagger.predict_items(texts)
    assert [int(np.argmax(r[:n_items])) for r in rows] == [int(np.argmax(r)) for r in raw]
    assert np.allclose(np.linalg.norm(rows[:, n_items:], axis=1) ** 2, WITH_ITEMS.discipline_share, atol=1e-5)
    cal = WITH_ITEMS.calibration
    for query in texts:
        gate = float(profile.finding_probability([query])[0])
        assert 0.0 <= gate <= 1.0
        hits = service.search(query, 5, collection="cases")
        assert hits
        for hit in hits:  # every hit's score: the evidence plus the gated item term
            bm25 = hit.keyword_score or 0.0
            evidence = (cal.vector * (hit.vector_score - cal.vector_center) / cal.vector_scale
                        + cal.keyword * bm25 / (bm25 + cal.keyword_k) + cal.chars * hit.chars_score / cal.chars_scale)
            assert hit.score == pytest.approx(evidence + cal.items * gate * hit.items_score, abs=1e-4)


def test_case_import_validates_every_line(service, tmp_path):
    store = SqlCaseRepository(service.repository)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "x-1", "text": "某局长收受购物卡", "checklist": ["C2-01"]}, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    assert import_file(good, store, load_checklist()) == (1, 0)
    assert import_file(good, store, load_checklist()) == (0, 0)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x-2", "text": "某事"}\n{"id": "x-3"}\n{"id": "x-4", "text": "t", "checklist": ["Z9-99"]}\nnot json\n',
                   encoding="utf-8")
    before = len(store.list_cases())
    with pytest.raises(CaseImportError, match="第 2 行.*第 3 行.*Z9-99.*第 4 行"):
        import_file(bad, store, load_checklist())
    assert len(store.list_cases()) == before
    service.refresh()
    assert service.search("购物卡", 3, collection="cases", mode="keyword")[0].meta["external_id"] == "x-1"


def test_index_is_resynced_with_the_database(service, home):
    (path,) = (home / "index").glob("cases-*.replica")
    path.write_bytes(b"garbage")
    restarted = build_search_service(get_settings())  # a new process: the damaged file is rebuilt
    restarted.refresh()
    ids = {case.id for case in restarted.cases.list_cases()}
    assert set(restarted.indexes["cases"].vectors.ids().tolist()) == ids
    assert set(load_replica(path).hashes) == ids


def test_findings_are_scoped_to_their_team(service, home, make_docx):
    ingestor = context.ingestor(tag=False)
    team_a = ingestor.repository.ensure_inspection("第二轮", "一组").id
    ingestor.ingest_path(make_docx(PETITION_LINES, "a.docx"), team_a)
    service.refresh()
    visible = service.search("年终补助", 5, teams={"一组"}, collection="findings")
    assert visible and all(h.meta["team"] == "一组" for h in visible)
    assert service.search("年终补助", 5, teams={"二组"}, collection="findings") == []
    shared = service.search("年终补助", 5, teams={"二组"}, collection="all")
    assert shared and all(h.meta["collection"] == "cases" for h in shared)


def test_batch_search_writes_one_line_per_query(service):
    stdin = '{"id": "q1", "text": "公车私用"}\n{"id": "q2", "text": "低保优亲厚友"}\n'
    result = runner.invoke(app, ["search", "--batch", "--in", "cases", "-k", "3"], input=stdin)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]
    assert all(len(r["hits"]) == 3 and {"id", "score", "text"} <= set(r["hits"][0]) for r in rows)
    assert rows[0]["hits"][0]["id"].startswith("case-")


@pytest.mark.skipif(not (Path(get_settings().models_dir) / TAGGER_FILE).exists(),
                    reason="needs the trained tagger (xuncha train, run by scripts/setup.sh)")
def test_leads_group_sources_about_the_same_person_and_act(service, make_docx):
    ingestor = context.ingestor()
    inspection = ingestor.repository.ensure_inspection("青石镇巡察", "三组", "青石镇").id
    petition = ingestor.ingest_path(make_docx(PETITION_LINES, "petition.docx"), inspection)
    ingestor.ingest_path(make_docx(INTERVIEW_LINES, "interview.docx"), inspection)
    service.refresh()
    result = runner.invoke(app, ["leads", str(petition.document_id), "--json"])
    assert result.exit_code == 0, result.output
    leads = json.loads(result.stdout)
    assert leads
    for lead in leads:
        assert lead["grade"] in ("进一步了解关注类", "了解关注类", "参考类")
        assert lead["disposal"] in ("谈话函询", "初步核实", "暂存待查", "予以了结")
        assert lead["similar_cases"] and lead["reasons"] and lead["wording"]
    bonus = [lead for lead in leads if len({s["document_id"] for s in lead["sources"]}) >= 2]
    assert bonus, "the interview repeating the petition should corroborate it"
    assert leads[0]["grade"] != "参考类"
    shown = runner.invoke(app, ["leads", str(petition.document_id)])
    assert shown.exit_code == 0, shown.output
    # a DOCX has no page numbers: the source names the file alone, never "第-页"
    assert "[petition.docx]" in shown.stdout and "第-页" not in shown.stdout


def test_near_duplicate_petitions_are_flagged(service, make_docx):
    ingestor = context.ingestor(tag=False)
    inspection = ingestor.repository.ensure_inspection("判重轮次", "四组").id
    again = ["来信", "县委巡察组：", "反映青石镇党委书记陈立国2023年12月28日开会决定给全镇干部突击发放年终补助，",
             "总共发了46.8万元，县里没有批准这笔钱。", "一名镇干部"]
    other = ["举报信", "县委巡察组：", "柳湾村会计孙某某把村集体鱼塘以每年2000元的低价租给自己的小舅子，",
             "比市场价低了一大半，村民代表会议没有讨论过。", "柳湾村村民"]
    for lines, name in ((PETITION_LINES, "first.docx"), (again, "again.docx"), (other, "other.docx")):
        ingestor.ingest_path(make_docx(lines, name), inspection)
    result = runner.invoke(app, ["dedupe", "-i", "判重轮次", "--json"])
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    assert [{p["first_file"], p["second_file"]} for p in pairs] == [{"first.docx", "again.docx"}]


def test_structured_filters_give_the_hits_of_the_predicate_path(service, make_docx):
    """Filters resolved from the index's metadata columns find what the per-entry predicate found,
    after findings are added and reviewed (metadata changes); team scope holds."""
    from service.search import COLLECTIONS, _visible

    ingestor = context.ingestor(tag=False)
    for team, name in (("一组", "第三轮"), ("二组", "第三轮二组")):
        inspection = ingestor.repository.ensure_inspection(name, team).id
        ingestor.ingest_path(make_docx(PETITION_LINES, f"{team}-scope.docx"), inspection)
        ingestor.ingest_path(make_docx(INTERVIEW_LINES, f"{team}-talk.docx"), inspection)
    service.refresh()

    def walked(query, filters, teams):
        hits = []
        for name in COLLECTIONS:
            hits += service.indexes[name].search(query, 8, where=lambda m: _visible(m, teams) and filters.accepts(m))
        return [(h.id, h.meta["collection"], round(h.score, 6)) for h in sorted(hits, key=lambda h: -h.score)[:8]]

    cases = [(SearchFilters(), {"一组"}), (SearchFilters(), {"二组"}), (SearchFilters(), None),
             (SearchFilters(inspection="第三轮二组"), {"一组", "二组"}), (SearchFilters(team="一组"), {"二组"}),
             (SearchFilters(unit="青石", year=2024), {"一组"}), (SearchFilters(kind="petition"), None),
             (SearchFilters(include_demo=False), {"二组"}), (SearchFilters(item="C2-12"), None),
             (SearchFilters(focus=2), {"一组"})]
    findings = 0
    for filters, teams in cases:
        for query in ("年终补助", "公车私用", "副镇长"):
            hits = service.search(query, 8, filters=filters, teams=teams)
            assert [(h.id, h.meta["collection"], round(h.score, 6)) for h in hits] == walked(query, filters, teams)
            assert all(h.meta.get("shared") or teams is None or h.meta["team"] in teams for h in hits)
            findings += sum(h.meta["collection"] == "findings" for h in hits)
    assert findings  # the comparison saw findings, not only shared cases
    only_two = service.search("年终补助", 8, teams={"二组"}, collection="findings")
    assert only_two and {h.meta["team"] for h in only_two} == {"二组"}


def test_a_query_is_embedded_once_and_profiled_as_the_tagger_would(service, home):
    """The search's e5 vector of a new query is the one the tagger's profile of it reads (one e5 call),
    nothing about the query is written to the on-disk caches, and the profile (with the item
    model's column gather) equals the one the unpatched tagger computes."""
    import copy
    import sqlite3
    import time

    from service.search import ItemDistributions, _uncached

    service.refresh()
    profile = service.items.inner
    engine = _uncached(profile._tagger.embed.__self__)._model
    calls = []
    original = engine.query

    def counted(texts):
        calls.append(list(texts) if not isinstance(texts, str) else [texts])
        return original(texts)

    def cached_rows():
        with sqlite3.connect(home / "vectors.sqlite") as db:
            return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    query = f"村干部优亲厚友把低保名额给亲戚{time.time_ns()}"
    rows_before = cached_rows()
    engine.query = counted
    try:
        assert service.search(query, 5)
        assert service.search(query, 5)  # asked again: from memory
    finally:
        del engine.query
    assert calls == [[query]]
    assert cached_rows() == rows_before

    plain = ItemDistributions(profile._tagger, "plain", profile.discipline_share)
    plain._all = copy.copy(profile._tagger)  # the tagger's own e5 call and decision function
    plain._all.top_k = len(plain.item_ids)
    texts = [query, "过节收了老板的购物卡", "感谢社区帮我们修好了路灯"]
    assert np.allclose(profile.embed_queries(texts), plain.embed_queries(texts), atol=1e-6)
    assert np.allclose(profile.finding_probability(texts), plain.finding_probability(texts), atol=1e-9)
