from nlp.normalize import normalize


def test_full_width_digits_and_punctuation_are_folded():
    result = normalize("２０２４年3月, 会议决定:同意")
    assert result.text == "2024年3月，会议决定：同意"


def test_spaces_between_chinese_characters_are_removed_but_not_between_words():
    assert normalize("王 建 华 主持 meeting notes").text == "王建华主持 meeting notes"


def test_traditional_text_is_converted_and_offsets_kept():
    source = "會議決定：由財務科負責辦理"
    result = normalize(source)
    assert result.traditional
    assert result.text == "会议决定：由财务科负责办理"
    start = result.text.index("财务科")
    a, b = result.source_span(start, start + 3)
    assert source[a:b] == "財務科"


def test_simplified_text_is_not_marked_traditional():
    assert not normalize("会议由王建华主持，研究了三个议题。").traditional


def test_offsets_map_back_through_removed_whitespace():
    source = "甲 乙\r\n\r\n\r\n\r\n丙丁　戊"
    result = normalize(source)
    assert result.text == "甲乙\n\n丙丁戊"
    for index, char in enumerate(result.text):
        if char != "\n":
            assert source[result.origin[index]] == char


def test_decimal_points_and_thousands_separators_survive():
    assert normalize("金额1,280.50元").text == "金额1,280.50元"
