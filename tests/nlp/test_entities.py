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
