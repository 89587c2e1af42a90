"""A sentence of a recently tagged document is cut from the document's POS tags: the cut must be
exactly what tagging the sentence alone gives, and anything else is tagged afresh."""

from nlp import lexicon

PARAGRAPH = ("会上，局长王建国说明了项目情况。2023年3月，县交通局将道路养护工程拆分为三个标段，"
             "规避公开招标，由财务科科长李红梅经手支付工程款86万元；一是会议记录事后补写，二是"
             "议题未提前送达。")


def fresh(text: str) -> tuple:
    return lexicon._tagged_words.__wrapped__(text)


def test_sentences_of_a_long_document_are_cut_from_its_tags_and_equal_fresh_tagging():
    document = "\n".join(f"第{n}段。{PARAGRAPH}" for n in range(30))
    assert len(document) >= lexicon.LONG_TEXT
    lexicon.tagged_words(document)
    sentences = ["2023年3月，县交通局将道路养护工程拆分为三个标段，规避公开招标，由财务科科长李红梅经手支付工程款86万元；",
                 "会上，局长王建国说明了项目情况。"]
    for sentence in sentences:
        cut = lexicon._sliced(sentence)
        assert cut is not None
        assert cut == fresh(sentence)
        assert lexicon.tagged_words(sentence) == list(fresh(sentence))


def test_a_sentence_starting_inside_a_run_of_han_characters_is_tagged_afresh():
    document = "\n".join(f"第{n}段。{PARAGRAPH}" for n in range(30))
    lexicon.tagged_words(document)
    inside = "会议记录事后补写，"  # follows 一是 without a break: jieba might cut 一是会议 differently
    assert lexicon._sliced(inside) is None
    assert lexicon.tagged_words(inside) == list(fresh(inside))
