from nlp.pipeline import analyse_text
from nlp.types import DocumentKind


def test_petition_items_become_numbered_allegations_with_exact_spans():
    text = ("举报信\n我实名举报青石镇党委书记李某某的问题：\n"
            "一是2023年5月6日收受老板送的购物卡2万元；二是违规把低保给亲戚，真正困难的户没有。\n"
            "举报人：张大山")
    analysis = analyse_text(text)
    assert analysis.kind.kind is DocumentKind.PETITION
    allegations = [f for f in analysis.findings if f.role == "allegation"]
    assert [f.allegation for f in allegations] == [1, 2]
    assert allegations[0].text.startswith("2023年5月6日收受")
    for finding in analysis.findings:
        assert analysis.normalized.text[finding.start:finding.end] == finding.text
    money = [e for e in allegations[0].entities if e.label == "money"]
    assert money and money[0].value == 20000
    assert text[money[0].start:money[0].end] == "2万元"


def test_minutes_speakers_are_attached_and_header_lines_skipped():
    text = ("县财政局党组会议记录\n主持人：王建华\n记录人：陈晨\n"
            "王建华：这个项目就按我说的办，下周就签合同。\n李明：我同意王书记的意见，抓紧推进。")
    analysis = analyse_text(text)
    speakers = [(f.speaker, f.text) for f in analysis.findings]
    assert speakers == [("王建华", "这个项目就按我说的办，下周就签合同。"), ("李明", "我同意王书记的意见，抓紧推进。")]


def test_interview_answers_belong_to_the_interviewee_and_questions_are_marked():
    text = "个别谈话记录\n谈话对象：周立新（副镇长）\n问：你对班子成员有什么看法？\n答：书记经常一个人拍板，大家意见很大。"
    analysis = analyse_text(text)
    roles = [(f.role, f.speaker) for f in analysis.findings]
    assert roles == [("question", "问"), ("answer", "周立新")]


def test_long_paragraph_is_split_into_sentences():
    text = "巡察发现，该局2023年违规发放津补贴12万元。" * 3
    analysis = analyse_text(text)
    assert len(analysis.findings) == 3
