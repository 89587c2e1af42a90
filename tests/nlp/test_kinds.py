import pytest

from nlp.kinds import detect_kind
from nlp.types import DocumentKind

MINUTES = """县水利局党组会议纪要
时间：2024年6月3日 地点：二楼会议室
主持人：高志远 记录人：罗敏
会议研究了防汛物资采购事项。会议决定：同意采购。"""
PETITION = """尊敬的县委巡察组领导：
我们是柳湾村的村民，实名反映村支书侵占集体土地补偿款的问题，恳请调查处理。
此致
敬礼"""
INTERVIEW = """谈话对象：孙晓（县医院财务科科长）
谈话人：钱进
问：科室的药品回扣你了解吗？
答：听说过一些，但没有证据。"""
OTHER = "关于开展2024年度安全生产大检查的通知。各单位要高度重视，认真组织自查，于月底前报送总结。"


@pytest.mark.parametrize(
    "text,kind",
    [(MINUTES, DocumentKind.MINUTES), (PETITION, DocumentKind.PETITION),
     (INTERVIEW, DocumentKind.INTERVIEW), (OTHER, DocumentKind.OTHER)],
)
def test_kind_is_detected(text, kind):
    prediction = detect_kind(text)
    assert prediction.kind is kind
    assert 0.5 < prediction.score <= 1.0
    assert abs(sum(prediction.scores.values()) - 1.0) < 1e-3


def test_cues_explain_the_decision():
    assert "谈话对象：" in detect_kind(INTERVIEW).cues


@pytest.mark.parametrize("title", ["关于2023年度全县巡察干部业务培训班的情况报告", "县委第一巡察组2023年第二轮巡察工作总结",
                                   "关于移交县人民医院有关问题线索的函"])
def test_a_titled_report_is_other_even_when_its_body_talks_about_meetings_and_interviews(title):
    body = ("培训围绕个别谈话、调阅党组会会议记录和受理来信展开。学员分组模拟个别谈话，"
            "谈话对象由组长扮演，主持人点评每组的谈话提纲，会议记录由学员轮流整理。")
    prediction = detect_kind(title + "\n" + body)
    assert prediction.kind is DocumentKind.OTHER and prediction.cues[0] == "标题"
    assert detect_kind("党组会议记录\n" + body).kind is DocumentKind.MINUTES  # a record's title names its genre


def test_a_letter_titled_as_a_report_of_a_problem_stays_a_petition():
    letter = "关于村支书侵占补偿款问题的情况反映\n尊敬的巡察组领导：\n我实名反映村支书侵占集体土地补偿款，恳请调查。"
    assert detect_kind(letter).kind is DocumentKind.PETITION
