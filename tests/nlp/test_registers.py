"""Sentence forms and the record-role gate."""

import pytest

from nlp.registers import CUE_NAMES, cue_matrix, gate_by_role, sentence_form


@pytest.mark.parametrize("text, form", [
    ("二、压实管党治党政治责任", "heading"),
    ("请你谈谈班子成员之间的团结情况？", "question"),
    ("你是否了解工程款拨付的经过", "question"),
    ("各支部要高度重视，切实把整改责任扛在肩上。", "exhortation"),
    ("总书记强调，要把严的基调长期坚持下去。", "quote"),
    ("首先，衷心感谢组织给我这次谈话的机会。", "thanks"),
    ("下一步，我们将继续深化巡察成果运用。", "plan"),
    ("记录人签字：", "form_line"),
    ("压实行业主管部门的监管责任。", "measure"),
    ("落实上级决策部署有差距", "statement"),
    ("2023年该局使用公款在辖区酒店接待同城单位11次，花费2.6万元。", "statement"),
    ("要特别指出的是，部分村干部在低保评定中优亲厚友，将不符合条件的亲属纳入低保对象，群众反映强烈。", "statement"),
])
def test_sentence_forms(text, form):
    assert sentence_form(text) == form


def test_cue_matrix_shape_and_values():
    matrix = cue_matrix(["存在违规发放补贴问题", "你好"])
    assert matrix.shape == (2, len(CUE_NAMES) + 1)
    problem = CUE_NAMES.index("problem")
    assert matrix[0, problem] == 1.0 and matrix[1, problem] == 0.0


@pytest.mark.parametrize("text, measure", [
    ("压实行业主管部门的监管责任。", True),
    ("二是严把干部选调关；", True),
    ("（三）健全整改督办机制", True),
    ("落实上级决策部署有差距", False),            # a shortfall after the verb
    ("整改主体责任压得不实，3个问题逾期未改", False),
    ("推进基层治理部署存在落差", False),
    ("镇党委坚持每月召开一次形势分析会", False),   # a subject before the verb: not this form
])
def test_measure_cue(text, measure):
    assert cue_matrix([text])[0, CUE_NAMES.index("measure")] == float(measure)


def test_questions_and_form_rows_are_never_findings():
    tags = [{"is_finding": True, "labels": ["C2-01"]}, {"is_finding": True, "labels": ["C6-01"]},
            {"is_finding": True, "labels": ["C5-01"]}]
    gated = gate_by_role(tags, ["question", "answer", "row"])
    assert [t["is_finding"] for t in gated] == [False, True, False]
    assert gated[0]["labels"] == [] and gated[0]["form"] == "question"
    assert tags[0]["is_finding"] is True  # the caller's dicts are not changed


def test_listed_allegations_are_findings_unless_the_model_doubts_them():
    checklist = [{"id": "C5-03", "score": 0.4}, {"id": "C2-14", "score": 0.3}]
    tags = [{"is_finding": False, "finding_score": 0.45, "labels": [], "checklist": checklist},
            {"is_finding": False, "finding_score": 0.1, "labels": [], "checklist": checklist},
            {"is_finding": False, "finding_score": 0.45, "labels": [], "checklist": checklist}]
    gated = gate_by_role(tags, ["allegation", "allegation", "statement"])
    assert gated[0]["is_finding"] and gated[0]["labels"] == ["C5-03"]
    assert not gated[1]["is_finding"] and not gated[2]["is_finding"]
