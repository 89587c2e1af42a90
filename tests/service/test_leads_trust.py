"""Leads and report drafts a writer can trust, on real DOCX/PDF documents through the real pipeline:
wording states only facts of its evidence, reviews reach every view, merges need a real anchor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlp import entities
from nlp.checklist import load_checklist
from service import context
from service.leads import round_leads
from service.reports import ReportStore, is_stale, rebuild
from service.reports.wording import markers, unsupported
from service.settings import get_settings

CHECKLIST = load_checklist()
DIVERT, FEAST, MEETINGS, BOOKS = "C6-14", "C2-07", "B1-03", "C5-01"
PETITION = [
    "信访举报信",
    "县委第二巡察组：",
    "我反映柳溪村党支部书记赵德顺的问题。",
    "一是2023年5月赵德顺把征地补偿款3.5万元转到他妻弟孙志强的个人账户，没有进村集体账户。",
    "二是赵德顺经常在村部请客吃饭，去年花了两三万元招待费，都在村里报销。",
    "反映人：刘玉兰",
    "2024年3月12日",
]
INTERVIEW = [
    "个别谈话记录",
    "谈话对象：周文华（柳溪村会计）",
    "谈话人：陈静、李明",
    "记录人：李明",
    "谈话时间：2024年4月8日",
    "问：村里征地补偿款是怎么发放的？",
    "答：2023年5月那笔征地补偿款3.5万元是赵德顺让我转到孙志强账户上的，没有进村集体账户。",
    "答：村两委班子每个月都按时开会学习。",
]
REPORT_A = ["青山镇党委工作总结", "一是要进一步加强党风廉政建设，落实主体责任。", "二是理论学习还有差距，学习不够深入。"]
REPORT_B = ["水务站工作汇报", "一是要进一步加强党风廉政建设，层层压实责任。", "二是财务管理还不够规范，有待加强。"]
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def ingest(paths: list[Path], round_name: str, target: str = "青山镇") -> tuple[int, list[int]]:
    ingestor = context.ingestor()
    inspection = ingestor.repository.ensure_inspection(round_name, "第二巡察组", target).id
    return inspection, [ingestor.ingest_path(path, inspection).document_id for path in paths]


def findings(document_id: int) -> dict[str, int]:
    return {f.text: f.id for f in context.repository().get_document(document_id).findings}


def find(document_id: int, part: str) -> int:
    return next(i for text, i in findings(document_id).items() if part in text)


def review(finding_id: int, action: str, items: list[str]) -> None:
    repository = context.repository()
    repository.add_feedback(finding_id, repository.get_finding(finding_id).text, action, items, "审核员")


@pytest.fixture
def village(xuncha_home, make_docx, make_pdf):
    """The petition and the interview note about one village secretary (the interview in DOCX and PDF),
    reviewed as an inspector would: the acts confirmed, a chit-chat sentence rejected."""
    inspection, (petition, interview, interview_pdf) = ingest(
        [make_docx(PETITION, "举报信.docx"), make_docx(INTERVIEW, "周文华谈话.docx"),
         make_pdf(INTERVIEW, "周文华谈话.pdf", lines_per_page=20)], "2024年第一轮")
    for document in (interview, interview_pdf):
        review(find(document, "3.5万元"), "confirm", [DIVERT])
        review(find(document, "按时开会"), "reject", [])
    review(find(petition, "3.5万元"), "confirm", [DIVERT, BOOKS])  # one act, two items
    review(find(petition, "招待费"), "confirm", [FEAST])
    return {"inspection": inspection, "petition": petition, "interview": interview, "pdf": interview_pdf}


def evidence_text(document_ids: list[int]) -> str:
    repository = context.repository()
    documents = [repository.get_document(d) for d in document_ids]
    return "\n".join(d.text + "\n" + str(d.fields) for d in documents)


def assert_only_evidence(wording: str, evidence: str) -> None:
    assert not re.search(r"\{[^{}]+\}", wording), wording
    for number in NUMBER.findall(wording):
        assert number in evidence, (number, wording)
    for name in entities.persons(markers(wording) and wording or wording):
        assert name.text in evidence, (name.text, wording)
    assert not unsupported(wording, evidence), wording


def test_report_wordings_state_only_facts_of_their_evidence(village):
    repository = context.repository()
    inspection = repository.get_inspection(village["inspection"])
    report = rebuild(repository, CHECKLIST, inspection, "撰稿人").report
    evidence = evidence_text([village["petition"], village["interview"], village["pdf"]])
    assert report.problems
    for problem in report.problems:
        for text in [problem.wording, *(a.text for a in problem.alternatives)]:
            assert_only_evidence(text, evidence)
            assert "青山镇" not in text  # the target unit is not this village's unit
    divert = next(p for p in report.problems if p.item_id == DIVERT)
    # The first wording is the act itself: who, what, how much, when — from its own sentence.
    assert "村党支部书记赵德顺" in divert.wording and "3.5万元" in divert.wording and "2023年5月" in divert.wording
    # One act tagged with two items is one problem (listing both items), not two.
    assert BOOKS not in {p.item_id for p in report.problems}
    assert {i for e in divert.evidence for i in e.items} == {DIVERT, BOOKS}
    feast = next(p for p in report.problems if p.item_id == FEAST)
    assert "两三万元" in feast.wording
    # A standard wording's claim the letter does not make (人均消费超出规定标准) is not offered.
    assert all("人均" not in text for text in [feast.wording, *(a.text for a in feast.alternatives)])


def test_rejected_and_corrected_findings_flow_into_the_stored_draft(village):
    repository = context.repository()
    inspection = repository.get_inspection(village["inspection"])
    store = ReportStore(repository.engine)
    rebuild(repository, CHECKLIST, inspection, None)
    feast = find(village["petition"], "招待费")
    assert not is_stale(repository, inspection.id, CHECKLIST)
    review(feast, "reject", [])
    # Read before any rebuild: the rejected finding is gone from the draft and its exports at once.
    draft = store.get(inspection.id)
    assert feast not in {e.finding_id for p in draft.problems for e in p.evidence}
    assert not next(p for p in draft.problems if p.item_id == FEAST).included
    assert is_stale(repository, inspection.id, CHECKLIST)  # and readers get a rebuilt draft
    review(feast, "correct", [MEETINGS])
    rebuilt = rebuild(repository, CHECKLIST, inspection, None).report
    assert {p.item_id for p in rebuilt.problems if p.evidence} >= {MEETINGS, DIVERT}
    assert FEAST not in {p.item_id for p in rebuilt.problems}


def test_generic_sentences_of_unrelated_reports_are_never_one_act(xuncha_home, make_docx):
    inspection, (a, b) = ingest([make_docx(REPORT_A, "总结.docx"), make_docx(REPORT_B, "汇报.docx")], "2024年第二轮")
    first, second = find(a, "党风廉政"), find(b, "党风廉政")
    review(first, "confirm", ["A1-01"])
    review(second, "confirm", ["A1-01"])
    repository = context.repository()
    report = rebuild(repository, CHECKLIST, repository.get_inspection(inspection), None).report
    problem = next(p for p in report.problems if p.item_id == "A1-01")
    assert {first, second} <= {e.finding_id for e in problem.evidence}  # both are evidence of the item…
    from service.reports.evidence import load_round

    acts = load_round(repository, inspection).acts(CHECKLIST)
    together = [act for act in acts if {first, second} <= {s.finding.id for s in act.sources}]
    assert not together  # …but never merged into one act


needs_models = pytest.mark.skipif(
    get_settings().search_embedding_backend == "static"
    and not (Path(get_settings().models_dir) / "static-e5" / "model.safetensors").exists(),
    reason="needs the search model (scripts/setup.sh)")


@needs_models
def test_leads_merge_on_anchors_count_formats_once_and_never_cite_their_own_round(village):
    service = context.search_service()
    from service import artefacts

    embed = artefacts.embedder_for(get_settings()).embed_queries
    leads = round_leads(village["inspection"], service, embed)
    evidence = evidence_text([village["petition"], village["interview"], village["pdf"]])
    divert = [lead for lead in leads if DIVERT in lead.items]
    assert len(divert) == 1, [lead.items for lead in leads]  # one act: one lead, with both items
    lead = divert[0]
    assert set(lead.items) == {DIVERT, BOOKS}
    assert {s.document_id for s in lead.sources} == {village["petition"], village["interview"], village["pdf"]}
    assert "2 份不同材料反映同一人或同一事" in lead.reasons  # the PDF and the DOCX are one source
    assert "陈静" not in lead.persons and "李明" not in lead.persons  # interviewers are roles of the record
    for each in leads:
        for text in [each.wording, *each.alternatives]:
            assert_only_evidence(text, evidence)
    own = {f"finding-{i}" for d in (village["petition"], village["interview"], village["pdf"])
           for i in findings(d).values()}
    cited = {c.id for each in leads for c in each.similar_cases}
    assert not cited & own  # confirmed findings became cases, but never prior cases of their own round
    assert all((c.similarity or 0) < 0.999 for each in leads for c in each.similar_cases)
    rejected = find(village["interview"], "按时开会")
    assert rejected not in {s.finding_id for each in leads for s in each.sources}

    # A correction moves the lead to the corrected item; a rejection removes it — on the next read.
    feast = find(village["petition"], "招待费")
    review(feast, "correct", [MEETINGS])
    corrected = [each for each in round_leads(village["inspection"], service, embed)
                 if feast in {s.finding_id for s in each.sources}]
    assert [each.items for each in corrected] == [[MEETINGS]] and "经人工审核确认" in corrected[0].reasons
    review(feast, "reject", [])
    after = round_leads(village["inspection"], service, embed)
    assert feast not in {s.finding_id for each in after for s in each.sources}
    assert len(after) == len(leads) - 1


SUMMARY = [
    "巡察工作经验总结",
    "有的单位主要领导搞“一言堂”，上会讨论时“一把手”先定调，班子成员只能表示同意。",
    "青石县水务局党组2023年有4项重大工程支出未经党组会集体研究，由局长一人签批。",
]


@needs_models
def test_a_lead_that_points_at_nobody_is_only_for_reference(xuncha_home, make_docx):
    inspection, (summary, petition) = ingest(
        [make_docx(SUMMARY, "经验总结.docx"), make_docx(PETITION, "举报信.docx")], "2024年第三轮")
    generic, unit = find(summary, "一言堂"), find(summary, "水务局")
    review(generic, "confirm", ["A3-02"])
    review(unit, "confirm", ["A3-01"])
    review(find(petition, "3.5万元"), "confirm", [DIVERT])
    from service import artefacts

    leads = round_leads(inspection, context.search_service(),
                        artefacts.embedder_for(get_settings()).embed_queries)
    by_finding = {s.finding_id: lead for lead in leads for s in lead.sources}
    nobody = "材料未指向具体人员、职务或单位"
    # confirmed and of a serious kind, but there is nobody to 函询 and nothing to 核实
    assert by_finding[generic].grade == "参考类" and by_finding[generic].disposal == "暂存待查"
    assert nobody in by_finding[generic].reasons
    assert nobody not in by_finding[unit].reasons  # a named unit is somebody to ask
    named = by_finding[find(petition, "3.5万元")]
    assert named.persons and nobody not in named.reasons and named.grade != "参考类"
