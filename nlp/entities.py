"""Entities named in a text: people (with positions), organisations, money and dates.

jieba's POS tags (``nr`` person, ``ns``/``nt`` place and organisation) are the base; rules add
what jieba misses in inspection material: anonymised names (李某某, 王××), names next to a
position title (局长王建华, 王建华（副局长）) and speaker labels.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nlp import lexicon
from nlp.numerals import DATE_PATTERN, MONEY_PATTERN, date_value, money_value
from nlp.types import Entity

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯")
_ANON = r"(?:某某|某|××|XX|xx|ＸＸ|\*\*|＊＊|○○|ΧΧ)"
_SURNAME = rf"(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])"
ANON_NAME = re.compile(rf"{_SURNAME}{_ANON}")
_NOT_NAME_TAIL = set("的了在是和与及等对为向把被从于说讲称将已也都就又还要会所作做到给让时后前中里上下")
NAME_STOPWORDS = {"王某某的", "高度", "周边", "周期", "方面", "方案", "程序", "严格", "任务", "任何", "万元",
                  "金额", "常委", "关于", "时间", "江山", "向上", "文件", "明确", "于是", "安全", "华为",
                  "石头", "黄金", "白条", "党委", "党组", "包括", "成本", "全面", "邹平", "全体", "连续",
                  "和谐", "尚未", "简单", "易于", "管理", "曾经", "宁可", "单位", "项目", "车辆", "付款"}
ORG_SUFFIXES = ("局", "委", "办", "公司", "集团", "医院", "卫生院", "中学", "小学", "学校", "幼儿园", "中心",
                "所", "站", "村委会", "居委会", "社区", "街道", "党委", "党组", "支部", "总支", "镇", "乡",
                "村", "政府", "部", "院", "厅", "馆", "队", "处", "科", "股", "室")
_ADMIN = set("省市县区镇乡村")
_ORG_TAGS = {"ns", "nt", "nz", "n", "j", "nrt", "ng"}


@lru_cache(maxsize=1)
def _position_pattern() -> re.Pattern:
    return re.compile("|".join(map(re.escape, lexicon.positions())))


def is_plausible_name(name: str) -> bool:
    if ANON_NAME.fullmatch(name):
        return True
    if not 2 <= len(name) <= 4 or name in NAME_STOPWORDS:
        return False
    if not re.fullmatch(r"[\u4e00-\u9fff]+", name):
        return False
    surname_ok = name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES
    return surname_ok and name[-1] not in _NOT_NAME_TAIL and not _position_pattern().search(name)


def money(text: str) -> list[Entity]:
    out = []
    for match in MONEY_PATTERN.finditer(text):
        value = money_value(match)
        if value is not None and value > 0:
            out.append(Entity("money", match.group(0), match.start(), match.end(), value))
    return out


def dates(text: str, default_year: int | None = None) -> list[Entity]:
    out = []
    for match in DATE_PATTERN.finditer(text):
        value = date_value(match, default_year)
        if value:
            out.append(Entity("date", match.group(0), match.start(), match.end(), value))
    return out


def positions(text: str) -> list[Entity]:
    return [Entity("position", m.group(0), m.start(), m.end(), m.group(0))
            for m in _position_pattern().finditer(text)]


def persons_jieba(text: str) -> list[Entity]:
    """Person names as jieba's POS tagger finds them (``nr`` tokens), the baseline."""
    out = []
    for word, flag, start in lexicon.tagged_words(text):
        if flag == "nr" and len(word) >= 2:
            out.append(Entity("person", word, start, start + len(word), word))
    return out


def persons(text: str) -> list[Entity]:
    """Person names: jieba's ``nr`` tokens checked against surnames, plus inspection rules."""
    found: dict[tuple[int, int], Entity] = {}

    def add(start: int, end: int) -> None:
        name = text[start:end]
        if is_plausible_name(name) and not any(s <= start and end <= e for s, e in found):
            for key in [k for k in found if start <= k[0] and k[1] <= end]:
                del found[key]
            found[(start, end)] = Entity("person", name, start, end, name)

    for match in ANON_NAME.finditer(text):
        add(match.start(), match.end())
    position_re = _position_pattern()
    for match in re.finditer(rf"(?:{position_re.pattern})(?:同志)?({_SURNAME}[\u4e00-\u9fff]{{1,2}})", text):
        start = match.start(1)
        add(start, _trim_name(text, start, match.end(1)))
    for match in re.finditer(rf"({_SURNAME}[\u4e00-\u9fff]{{1,2}})(?=[（(]\s*(?:{position_re.pattern})|同志)", text):
        add(match.start(1), match.end(1))
    for match in re.finditer(rf"(?m)^\s*({_SURNAME}[\u4e00-\u9fff]{{1,2}})\s*[：:]", text):
        add(match.start(1), match.end(1))
    for word, flag, start in lexicon.tagged_words(text):
        if flag == "nr" and len(word) >= 2:
            add(start, start + len(word))
    return sorted(found.values(), key=lambda e: e.start)


def _trim_name(text: str, start: int, end: int) -> int:
    """Shorten a greedy three-character name match when its last char starts the next word."""
    if end - start == 3:
        tokens = lexicon.words(text[start:min(len(text), end + 4)])
        if tokens and len(tokens[0]) == 2 and tokens[0][0] == text[start]:
            return start + 2
        if tokens and len(tokens[0]) == 1 and len(tokens) > 1 and len(tokens[1]) >= 2:
            return start + 1 + (2 if len(tokens[1]) == 2 else 1)
    return end


def organisations(text: str) -> list[Entity]:
    """Units named in the text: runs of place/organisation words ending in a unit suffix."""
    out: list[Entity] = []
    tagged = lexicon.tagged_words(text)
    run: list[tuple[str, str, int]] = []
    for token in tagged + [("", "x", len(text))]:
        word, flag, _ = token
        if word and (flag in _ORG_TAGS or word in _ADMIN or flag == "zg") and flag != lexicon.POSITION_TAG:
            run.append(token)
            continue
        while run and not run[-1][0].endswith(ORG_SUFFIXES):
            run.pop()
        while (run and run[0][1] not in ("ns", "nt", "nz", "j") and run[0][0] not in _ADMIN
               and not (len(run) > 1 and run[1][0][0] in _ADMIN)):
            run.pop(0)
        if run:
            start = run[0][2]
            end = run[-1][2] + len(run[-1][0])
            name = text[start:end]
            has_place = any(f in ("ns", "nt") or w[-1] in _ADMIN for w, f, _ in run)
            if 2 <= len(name) <= 24 and has_place:
                out.append(Entity("org", name, start, end, name))
        run = []
    return out


def extract(text: str, default_year: int | None = None) -> list[Entity]:
    """All entities of ``text``, in order of position."""
    found = money(text) + dates(text, default_year) + persons(text) + organisations(text)
    return sorted(found, key=lambda e: (e.start, -e.end))
