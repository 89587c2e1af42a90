from nlp import structure
from nlp.structure import extract_fields
from nlp.types import DocumentKind

MINUTES = """清河县自然资源局党组会议记录
时间：2024年3月5日上午9:00  地点：三楼会议室
主持人：王建华（党组书记、局长）
出席：李明、张立新、赵某某
缺席：刘强（出差）
记录人：陈晨
议题：
一、研究办公楼维修项目
二、研究年终补贴发放
王建华：这个项目就交给老周的公司做。
会议决定：
1. 维修项目由宏达公司承建，金额38万元；
2. 年底每人发放补贴3000元。"""


def test_minutes_header_fields():
    fields = extract_fields(MINUTES, DocumentKind.MINUTES).as_dict(DocumentKind.MINUTES)
    assert fields["meeting_name"] == "清河县自然资源局党组会议"
    assert fields["date"] == "2024-03-05"
    assert fields["place"] == "三楼会议室"
    assert fields["chair"] == "王建华"
    assert fields["recorder"] == "陈晨"
    assert fields["attendees"] == ["李明", "张立新", "赵某某"]
    assert fields["absentees"] == ["刘强"]
    assert fields["agenda"] == ["研究办公楼维修项目", "研究年终补贴发放"]
    assert fields["decisions"] == ["维修项目由宏达公司承建，金额38万元", "年底每人发放补贴3000元"]
    assert fields["amounts"] == [380000.0, 3000.0]


def test_chair_from_prose():
    fields = extract_fields("某局班子会\n会议由副局长孙涛同志主持，研究了两项议题。", DocumentKind.MINUTES)
    assert fields.chair == "孙涛"


PETITION = """举报信
尊敬的巡察组：
我实名举报青石镇党委书记李某某的问题：
一是2023年5月6日收受老板送的购物卡2万元；二是违规把低保给亲戚。
三是用公车接送孩子。
举报人：张大山
2024年4月1日"""


def test_petition_fields():
    fields = extract_fields(PETITION, DocumentKind.PETITION)
    assert fields.complainant == "张大山"
    assert [(p.name, p.position, p.unit) for p in fields.reported] == [("李某某", "党委书记", "青石镇")]
    assert len(fields.allegations) == 3
    assert fields.amounts == [20000.0]
    assert "2023-05-06" in fields.dates


def test_anonymous_petition_with_labelled_reported_person():
    text = "反映人：匿名\n被反映人：王某某，男，清河县住建局局长\n反映问题：王某某长期在工程中吃拿卡要。"
    fields = extract_fields(text, DocumentKind.PETITION)
    assert fields.complainant == "匿名"
    assert [(p.name, p.position, p.unit) for p in fields.reported] == [("王某某", "局长", "清河县住建局")]


def test_interview_fields():
    text = """个别谈话记录
谈话对象：周立新（青石镇副镇长）
谈话人：钱进、孙丽
谈话时间：2024年4月2日
谈话地点：青石镇会议室
问：你对班子怎么看？
答：还可以。"""
    fields = extract_fields(text, DocumentKind.INTERVIEW)
    assert fields.interviewee == "周立新"
    assert fields.interviewee_position == "青石镇副镇长"
    assert fields.interviewers == ["钱进", "孙丽"]
    assert fields.date == "2024-04-02"
    assert fields.place == "青石镇会议室"


def test_minutes_header_written_as_prose():
    text = ("某局班子会议记录\n2024年5月6日上午，局班子会议在三楼会议室召开，会议由局长王建华同志主持。"
            "出席会议的有李明、张立新和赵某某。\n会议决定：同意。")
    fields = extract_fields(text, DocumentKind.MINUTES)
    assert (fields.date, fields.place, fields.chair) == ("2024-05-06", "三楼会议室", "王建华")
    assert fields.attendees == ["李明", "张立新", "赵某某"]


def test_interview_written_as_narrative():
    text = "谈话记录\n2024年4月2日，巡察组在镇会议室与周立新（青石镇副镇长）进行个别谈话。"
    fields = extract_fields(text, DocumentKind.INTERVIEW)
    assert (fields.interviewee, fields.interviewee_position, fields.date) == ("周立新", "青石镇副镇长", "2024-04-02")


def test_attendance_kept_as_a_table():
    text = ("某公司班子会议记录\n序号\t姓名\t职务\t出席\t签到时间\n1\t孙国栋\t董事长\t是\t14:25\n"
            "2\t陈静\t财务部经理\t列席\t14:20\n3\t王丽\t纪检委员\t否\t病假\n议题：\n第三项，员工食堂外包")
    fields = extract_fields(text, DocumentKind.MINUTES)
    assert (fields.attendees, fields.nonvoting, fields.absentees) == (["孙国栋"], ["陈静"], ["王丽"])
    assert fields.agenda == ["员工食堂外包"]


def test_form_style_table_rows_fill_fields_and_are_not_findings():
    from nlp.pipeline import analyse_text

    text = ("来电记录\n来电人\t匿名\t联系电话\t158****3167\n被反映人\t赵德胜\t职务\t柳湾村党支部书记\n"
            "所在单位\t青石镇柳湾村\t是否匿名\t否（要求保密）\n"
            "来电人反映，赵德胜把村里鱼塘以每年4500元低价包给自己弟弟，没有开村民代表会议。")
    analysis = analyse_text(text)
    assert analysis.fields["complainant"] == "匿名"
    assert analysis.fields["reported"][0]["name"] == "赵德胜"
    assert [f.text[:5] for f in analysis.findings] == ["来电人反映"]


def test_a_form_typed_with_spaces_keeps_its_cells_apart():
    from nlp.pipeline import analyse_text

    petition = analyse_text("信访来访登记表\n来访人姓名：陈秋菊    性别：女\n"
                            "被反映人：欧建设    单位：城关镇人民政府    职务：城建办主任\n反映事项：\n"
                            "来访人称，城建办主任欧建设向她索要协调费2万元。", DocumentKind.PETITION)
    assert petition.fields["reported"] == [{"name": "欧建设", "position": "城建办主任", "unit": "城关镇人民政府"}]
    visitor = analyse_text("信访来访登记表\n来访人姓名：陈秋菊    工作单位：县第一中学\n"
                           "被反映人：欧建设    职务：城建办主任\n反映事项：\n来访人称，欧建设向她索要协调费2万元。",
                           DocumentKind.PETITION)
    assert visitor.fields["reported"][0]["unit"] != "县第一中学"  # the visitor's own unit is not his
    web = extract_fields("被举报人姓名：钱卫东\n被举报人单位：桐山县城市建设投资集团有限公司\n"
                         "被举报人职务：党委书记、董事长\n举报内容：钱卫东违规插手工程。", DocumentKind.PETITION)
    assert [(p.name, p.position, p.unit) for p in web.reported] == [
        ("钱卫东", "党委书记、董事长", "桐山县城市建设投资集团有限公司")]  # the post written out stays whole
    interview = analyse_text("个别谈话记录\n谈话对象：李四    职务：村会计\n谈话人：王五\n"
                             "答：村支书让我把补偿款转到他亲戚账户上。", DocumentKind.INTERVIEW)
    assert interview.fields["interviewee"] == "李四" and interview.fields["interviewee_position"] == "村会计"
    assert [f.speaker for f in interview.findings] == ["李四"]


def test_the_reported_persons_unit_is_the_institution_and_the_post_keeps_its_department():
    letter = ("县纪委：\n我们实名反映县中医院药剂科主任孔庆祥和青山镇青石村党支部书记兼村委会主任王大海的问题。\n"
              "一是孔庆祥收受医药公司好处费。")
    fields = extract_fields(letter, DocumentKind.PETITION)
    assert [(p.name, p.position, p.unit) for p in fields.reported] == [
        ("孔庆祥", "药剂科主任", "县中医院"), ("王大海", "党支部书记兼村委会主任", "青山镇青石村")]
    # a letter that never says 举报/反映 is about the titled people of its first sentences
    plain = extract_fields("巡察组的同志：\n石门乡党委副书记孔某某工作作风很成问题。\n他经常在工作日打牌。",
                           DocumentKind.PETITION)
    assert [(p.name, p.position, p.unit) for p in plain.reported] == [("孔某某", "党委副书记", "石门乡")]


def test_names_written_together_are_split():
    assert structure.names_in("邵文军苏敏") == ["邵文军", "苏敏"]
    assert structure.names_in("李明陈静、王建华") == ["李明", "陈静", "王建华"]
    assert structure.names_in("全体班子成员") == []


def test_interviewee_glued_to_unit_and_title():
    text = "个别谈话记录\n谈话对象：冯斌青石镇党委委员、纪委书记\n谈话人：邵文军苏敏\n记录人：田甜\n问：你分管哪些工作？\n答：纪检监察工作。"
    fields = structure.interview_fields(text)
    assert fields.interviewee == "冯斌"
    assert fields.interviewee_position == "青石镇党委委员、纪委书记"
    assert fields.interviewers == ["邵文军", "苏敏"] and fields.recorder == "田甜"
