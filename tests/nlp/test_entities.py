import pytest

from nlp import entities


@pytest.mark.parametrize(
    "text,value",
    [("收受3.5万元", 35000), ("12万余元", 120000), ("二十万元", 200000), ("8000多元", 8000),
     ("1,280元", 1280), ("¥15,600", 15600), ("两万块钱", 20000), ("1.2亿元", 120000000)],
)
def test_money_is_normalised_to_yuan(text, value):
    (found,) = entities.money(text)
    assert found.value == value


@pytest.mark.parametrize("text", ["大家感觉这一块不是大事", "村里那一块地租给了老板", "门口挂了一块牌子", "每块砖都要验收"])
def test_kuai_as_a_measure_word_is_no_money(text):
    assert entities.money(text) == []


@pytest.mark.parametrize("text,value", [("去年中秋收了三千块的卡", 3000), ("一人给了五十块", 50), ("塞给我两百块，", 200)])
def test_kuai_as_colloquial_yuan_is_money(text, value):
    assert [e.value for e in entities.money(text)] == [value]


@pytest.mark.parametrize("text", ["找他办事得塞几千块钱", "涉案金额数十万元", "每次吃饭几百元", "工程款有数百万元"])
def test_an_order_of_magnitude_is_no_amount(text):
    assert entities.money(text) == []  # 千块钱 is not 1000 yuan, 十万元 of 数十万元 is not 100000


@pytest.mark.parametrize("text,value", [("总数3000元", 3000), ("收了一两千元", 2000), ("近十万元", 100000)])
def test_amounts_beside_those_words_still_count(text, value):
    assert [e.value for e in entities.money(text)] == [value]


@pytest.mark.parametrize(
    "text,iso",
    [("2023年5月6日", "2023-05-06"), ("二〇二三年五月六日", "2023-05-06"), ("2023.5.6", "2023-05-06"),
     ("2023-05-06", "2023-05-06"), ("2024年12月", "2024-12"), ("二〇二四年十二月三十一日", "2024-12-31")],
)
def test_dates_are_normalised_to_iso(text, iso):
    (found,) = entities.dates(text)
    assert found.value == iso


def test_month_day_takes_the_year_from_context():
    assert [e.value for e in entities.dates("5月6日晚上", default_year=2022)] == ["2022-05-06"]
    assert entities.dates("5月6日晚上") == []


def test_impossible_dates_are_dropped():
    assert entities.dates("2023年13月40日") == []


def test_people_found_by_rules_that_jieba_misses():
    text = "被反映人王某某收受财物，张××知情，局长周立新主持。"
    found = [e.text for e in entities.persons(text)]
    assert "王某某" in found and "张××" in found and "周立新" in found
    baseline = [e.text for e in entities.persons_jieba(text)]
    assert "王某某" not in baseline


def test_person_spans_point_at_the_name():
    text = "会议由副局长李明主持"
    (person,) = entities.persons(text)
    assert text[person.start:person.end] == "李明"


def test_organisation_with_place_prefix():
    orgs = [e.text for e in entities.organisations("清河县住建局局长王建华")]
    assert orgs == ["清河县住建局"]


# --- person precision, roles and relations (issue 10) -------------------------------------------


def test_words_jieba_reads_as_names_are_not_persons():
    text = ("通知张贴在村务公开栏，纪检监察机关的牌子高悬在门口；抓住资金监管这个牛鼻子，"
            "他在站里负责管设备，但账目一直没有公开。")
    assert {e.text for e in entities.persons_jieba(text)} & {"张贴", "纪检监察", "高悬", "牛鼻子"}
    assert entities.persons(text) == []


def test_two_adjacent_names_are_split_at_the_surname():
    text = "当晚李明陈静两人陪同老板吃饭。"
    assert [(e.text, text[e.start:e.end]) for e in entities.persons(text)] == [("李明", "李明"), ("陈静", "陈静")]
    assert entities.split_names("王建华李明") == [(0, 3), (3, 5)]


@pytest.mark.parametrize("text,name", [("副镇长欧阳红收受购物卡", "欧阳红"), ("主任欧阳丽也在场", "欧阳丽"),
                                       ("村支书欧阳建国把低保给了亲戚", "欧阳建国"), ("局长欧阳明华违规吃喝", "欧阳明华"),
                                       ("院长王红收受购物卡", "王红"), ("所长黎国华借办农房审批收钱", "黎国华")])
def test_a_name_after_a_title_ends_where_the_next_word_starts(text, name):
    assert [e.text for e in entities.persons(text)] == [name]  # not 欧阳红收 (收受 is the verb)


def test_names_need_a_name_shape():
    assert entities.is_plausible_name("欧阳晓峰") and entities.is_plausible_name("王××")
    assert not entities.is_plausible_name("纪检监察")  # four characters without a compound surname
    assert not entities.is_plausible_name("查一查")
    assert entities.is_common_word("管设备") and entities.is_common_word("张贴")
    assert not entities.is_common_word("赵德胜")


def test_a_common_word_is_a_name_when_the_context_says_so():
    text = "村支书赵德胜把水渠工程给了其妻弟李强，验收时局长高明也在场。"
    found = {e.text for e in entities.persons(text)}
    assert {"赵德胜", "李强", "高明"} <= found


def test_relatives_and_counterparties_are_related_with_their_relation():
    text = "村支书赵德胜把水渠工程给了其妻弟李强，老板王某送来两万元，剩下的材料从他表弟开的公司进。"
    found = entities.extract(text)
    people = {e.text: e.extra for e in found if e.label == "person"}
    assert people["赵德胜"]["role"] == "subject" and people["赵德胜"]["position"] == "村支书"
    assert people["李强"] == {"role": "related", "relation": "妻弟", "of": "其"}
    assert people["王某"]["role"] == "related" and people["王某"]["relation"] == "老板"
    (cousin,) = [e for e in found if e.label == "relation"]
    assert cousin.value == "表弟" and text[cousin.start:cousin.end] == "他表弟"
    involved = entities.persons_involved(text)
    assert [p.display for p in involved] == ["赵德胜", "李强（妻弟）", "王某（老板）", "表弟（未具名）"]


def test_record_roles_are_never_persons_involved():
    fields = {"interviewee": "赵德胜", "interviewers": ["陈静", "李明"], "recorder": "王芳"}
    text = "陈静同志说明了谈话纪律，赵德胜承认把鱼塘低价包给了堂弟赵二林，记录人王芳。"
    roles = {e.text: e.extra["role"] for e in entities.extract(text, context=entities.RoleContext.from_fields(fields))
             if e.label == "person"}
    assert roles == {"陈静": "record", "赵德胜": "subject", "赵二林": "related", "王芳": "record"}
    names = [p.name for p in entities.persons_involved(text, fields)]
    assert names == ["赵德胜", "赵二林"]
    assert [p.name for p in entities.persons_involved("谈话人签字：陈静 李明", None)] == []


def test_people_only_mentioned_as_a_source_are_not_involved():
    text = "据会计孙丽介绍，镇长韦成龙擅自决定把补偿款转到村集体账户。"
    people = {e.text: e.extra["role"] for e in entities.extract(text) if e.label == "person"}
    assert people == {"孙丽": "mentioned", "韦成龙": "subject"}


def test_persons_involved_reads_stored_entities_with_roles():
    stored = [{"label": "person", "text": "王某", "start": 0, "end": 2, "value": "王某", "extra": {"role": "subject"}},
              {"label": "person", "text": "陈静", "start": 5, "end": 7, "value": "陈静", "extra": {"role": "record"}}]
    assert [p.name for p in entities.persons_involved("王某收钱，陈静记录", None, entities=stored)] == ["王某"]


@pytest.mark.parametrize(
    "text,expected",
    [("青山镇党委、城南街道办事处和县农业农村局都参加了。", ["青山镇党委", "城南街道办事处", "县农业农村局"]),
     ("巡察组到青山镇调研。", ["青山镇"]),
     ("对青山镇党委书记进行了谈话", ["青山镇党委"]),
     ("梅岭镇党委会研究了这件事", ["梅岭镇党委"]),
     ("第一条可以调镇财政所的账", ["镇财政所"]),
     ("县水利局和县财政局联合发文", ["县水利局", "县财政局"]),
     ("举报青石村党支部书记马德胜", ["青石村党支部"]),
     ("红石岭村党支部书记张某", ["红石岭村党支部"]),
     ("县委第三巡察组进驻后", ["县委第三巡察组"]),
     ("这事全镇都知道", [])],
)
def test_organisations_keep_the_whole_place_name(text, expected):
    assert [e.text for e in entities.organisations(text)] == expected
