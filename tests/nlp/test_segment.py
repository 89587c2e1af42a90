from nlp import entities
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


def test_interviewer_in_every_question_is_not_a_person_involved():
    text = ("个别谈话记录\n谈话对象：赵德胜（柳湾村党支部书记）\n谈话人：陈静、李明\n记录人：王芳\n"
            "陈静：请你说说村里鱼塘承包的情况，陈静这边需要你如实回答。\n"
            "答：鱼塘是按两委会定的价格承包给堂弟赵二林的，一年八千元。\n"
            "陈静问：赵二林交的承包款进了哪个账户？\n"
            "答：钱是我妻子张某收的，还没有交到村集体账户。\n"
            "李明：陈静同志刚才问的款项，你要在三天内说清楚。\n"
            "谈话人签字：陈静 李明\n记录人：王芳\n谈话对象（签字）：赵德胜")
    analysis = analyse_text(text)
    assert analysis.kind.kind is DocumentKind.INTERVIEW
    assert analysis.fields["interviewers"] == ["陈静", "李明"]
    assert [(f.role, f.speaker) for f in analysis.findings] == [
        ("question", "陈静"), ("answer", "赵德胜"), ("question", "陈静"), ("answer", "赵德胜"), ("question", "李明")]
    involved: set[str] = set()
    for finding in analysis.findings:
        for person in entities.persons_involved(finding.text, analysis.fields, entities=finding.entities,
                                                speaker=finding.speaker, kind="interview"):
            involved.add(person.display)
        roles = {e.text: e.extra["role"] for e in finding.entities if e.label == "person"}
        assert roles.get("陈静", "record") == "record" and roles.get("李明", "record") == "record"
    assert involved == {"赵二林（堂弟）", "赵二林", "张某（妻子）"}


def test_signature_lines_are_not_findings():
    text = ("个别谈话记录\n谈话对象：周立新（副镇长）\n问：你对班子成员有什么看法？\n"
            "答：书记经常一个人拍板，大家意见很大。\n被谈话人签名：周立新　2024年5月6日\n谈话人（签字）：陈静、李明")
    analysis = analyse_text(text)
    assert [f.text for f in analysis.findings] == ["你对班子成员有什么看法？", "书记经常一个人拍板，大家意见很大。"]


def test_minutes_header_people_are_record_unless_they_act():
    text = ("县财政局党组会议记录\n主持人：王建华\n出席人员：王建华、李明、孙丽\n记录人：陈晨\n"
            "李明：同意王建华同志的意见，由办公室按程序办理。\n"
            "孙丽：去年王建华擅自决定把200万元项目交给他表弟的公司，程序上有问题。")
    analysis = analyse_text(text)
    first, second = analysis.findings
    assert [(e.text, e.extra["role"]) for e in first.entities if e.label == "person"] == [("王建华", "record")]
    assert [(e.text, e.extra["role"]) for e in second.entities if e.label == "person"] == [("王建华", "subject")]
    assert [p.display for p in entities.persons_involved(second.text, analysis.fields, entities=second.entities)] == [
        "王建华", "表弟（未具名）"]


def test_petition_complainant_is_a_role_of_the_record():
    text = ("举报信\n我叫刘长贵，是青山镇青石村村民，实名举报青石村党支部书记王大海的问题：\n"
            "一是王大海把村里鱼塘低价包给他侄子王春生；二是刘长贵我家的低保被取消了。\n举报人：刘长贵")
    analysis = analyse_text(text)
    assert analysis.kind.kind is DocumentKind.PETITION and analysis.fields["complainant"] == "刘长贵"
    involved = {p.display for f in analysis.findings
                for p in entities.persons_involved(f.text, analysis.fields, entities=f.entities)}
    assert involved == {"王大海", "王春生（侄子）"}
    orgs = {e.text for f in analysis.findings for e in f.entities if e.label == "org"}
    assert "青山镇青石村" in orgs and not any(o.startswith("山镇") for o in orgs)


def test_words_that_start_with_an_ordinal_keep_it():
    text = ("县委第二巡察组：\n第一书记王某某把扶贫羊分给自己亲戚，群众意见很大。\n第三方机构出具的验收报告是假的。\n"
            "第一次村民代表大会根本没开。\n第二，公款吃喝问题严重。\n第三项，村务长期不公开，账目谁也看不到。\n反映人：张三")
    texts = [f.text for f in analyse_text(text).findings]
    for sentence in ("第一书记王某某把扶贫羊分给自己亲戚", "第三方机构出具的验收报告是假的", "第一次村民代表大会根本没开"):
        assert any(t.startswith(sentence) for t in texts), texts  # 第一书记, 第三方, 第一次 are words
    assert "公款吃喝问题严重。" in texts and "村务长期不公开，账目谁也看不到。" in texts  # 第二，/第三项， number items
