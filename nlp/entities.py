"""Entities named in a text: people (with positions and roles), organisations, money and dates.

People. jieba's POS tag ``nr`` proposes names, but in inspection prose it also tags words such as
张贴, 高悬, 牛鼻子 or 纪检监察. A candidate is kept only when it looks like a Chinese name (a surname
from the list, 复姓 included, and one or two given characters, or a mask such as 李某某 / 王××) and
is not a common word: words that jieba's dictionary knows as frequent, a given name that is itself
a frequent common word (管 + 设备), and a small stop list of false positives seen in this domain
are dropped unless the context vouches for a name (a position title next to it, 同志, a relation
word such as 妻弟, a speaker label, or a name the document's header already gives). Two full names
written together (李明陈静) are split at the surname boundary.

Roles. Every person mention gets ``extra["role"]``:
``record`` (谈话人, 记录人, 主持人, 出席/列席 in the header, signature lines: the people who make
the record), ``subject`` (被反映人, the actor of the act), ``related`` (relatives and counterparties,
with ``extra["relation"]``, e.g. 其妻弟李强 → 妻弟) or ``mentioned`` (a source or an addressee:
据李明介绍, 向李明汇报). Relatives named without a name (他表弟开的公司) become ``relation`` entities.
``persons_involved`` returns the subject and related people of a finding.

Organisations. Longest match over place and unit words, never starting inside a place name
(青山镇党委, not 山镇党委; 城南街道办事处; 县农业农村局).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, is_dataclass
from functools import lru_cache
from typing import Iterable

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
_CJK = "\u4e00-\u9fff"
# A given name never ends with these (function words, unit words), nor contains the first group.
_NOT_NAME_CHAR = set("的了是和与及等对为把被从于说讲称将已也都就又还要会所给让们这那其该我你他她它吗呢吧啊着过以有佰仟元巡")
_NOT_NAME_TAIL = _NOT_NAME_CHAR | set("在作做到时后前中里上下委局办处科股室部院厅所站队村镇乡县市省区组")
# Words jieba tags as names in inspection prose (seen in real use) and other frequent non-names
# (corpora/dict/not_names.txt).
NAME_STOPWORDS = lexicon.not_names()
_RELATIVES = (
    "妻子", "老婆", "爱人", "丈夫", "老公", "前妻", "妻弟", "妻兄", "妻妹", "妻姐", "小舅子", "大舅子", "舅子",
    "连襟", "姐夫", "妹夫", "嫂子", "弟媳", "弟弟", "哥哥", "姐姐", "妹妹", "兄弟", "表弟", "表哥", "表兄",
    "表姐", "表妹", "堂弟", "堂哥", "堂兄", "堂姐", "堂妹", "儿子", "女儿", "儿媳", "女婿", "侄子", "侄女",
    "外甥女", "外甥", "孙子", "父亲", "母亲", "岳父", "岳母", "公公", "婆婆", "舅舅", "叔叔", "伯父", "姑父",
    "姨父", "姑姑", "小姨子", "亲戚", "亲属", "同学", "战友", "老乡", "朋友", "情人", "情妇", "特定关系人",
)
_COUNTERPARTIES = (
    "老板", "老总", "包工头", "承包人", "承包商", "开发商", "供应商", "中标人", "法定代表人", "法人代表",
    "实际控制人", "经销商", "商人", "中间人", "合伙人", "施工方", "租户",
)
RELATIONS = tuple(sorted(_RELATIVES + _COUNTERPARTIES, key=len, reverse=True))
_REL = "|".join(RELATIONS)
_POSSESSOR = r"(?:其|他|她|他的|她的|其的|自己的?|本人的?)"

RECORD, SUBJECT, RELATED, MENTIONED = "record", "subject", "related", "mentioned"
INVOLVED_ROLES = (SUBJECT, RELATED)

# Header and signature words: a name right after them is a role of the record.
_RECORD_BEFORE = re.compile(
    r"(?:谈话人|记录人|主持人|记录员|会议主持|签字|签名|审核人|经办人|填表人|承办人|出席人员?|列席人员?|参会人员|"
    r"记录|主持|出席|列席|巡察组(?:组长|副组长|成员)?|谈话对象签字|被谈话人签字)\s*[：:]?\s*"
    r"(?:[" + _CJK + r"×某]{2,4}[、，,\s]+){0,12}$")
_RECORD_AFTER = re.compile(r"^(?:同志)?(?:等同志|等人|等)?\s*(?:[（(]签[字名]?[）)]|主持|记录|出席|列席|参加会议|参会|签字|签名|作记录)")
_SIGNATURE_LINE = re.compile(r"签[字名]|[（(]签章[）)]|^\s*(?:谈话人|记录人|主持人|记录员)\s*[：:]")
_MENTION_BEFORE = re.compile(r"(?:据|向|经|听取|陪同|委托|请示|报告给|告诉|问|询问)(?:了)?$")
_MENTION_AFTER = re.compile(r"^(?:同志)?(?:说|表示|称|介绍|反映|讲|告诉|指出|提出|认为|汇报|证实|回忆|发言|讲话|补充|"
                            r"强调|谈到|提到|举报|来信|来电|来访|问|询问|提问)")
_ACT_AFTER = re.compile(r"^(?:同志)?(?:[" + _CJK + r"]{0,4}?)?(?:违规|擅自|私自|收受|索要|接受|拍板|一人|一个人|个人决定|"
                        r"决定|指定|安排|授意|指使|要求|插手|打招呼|侵占|挪用|套取|虚报|截留|贪污|报销|借用|占用|利用|"
                        r"未经|没有经过|把|将|给了|让|明知|默许|包庇|隐瞒|弄虚作假|冒领|私分|克扣|吃拿卡要)")
_ORG_TAGS = {"ns", "nt", "nz", "n", "j", "nrt", "ng"}
ADMIN_LEVELS = ("自治区", "自治州", "自治县", "街道", "社区", "省", "市", "州", "县", "区", "旗", "镇", "乡", "村")
ORG_SUFFIXES = ("局", "委", "办", "公司", "集团", "医院", "卫生院", "中学", "小学", "学校", "幼儿园", "中心",
                "所", "站", "村委会", "居委会", "社区", "街道", "党委", "党组", "党工委", "支部", "总支", "镇", "乡",
                "村", "政府", "部", "院", "厅", "馆", "队", "处", "科", "股", "室", "办事处", "委员会", "合作社", "银行",
                "巡察组", "巡视组", "工作组", "领导小组", "巡察办")
_ADMIN = set("省市县区镇乡村")
_PLACE_STOP = set("在和与及对向把被从于由为是将到据按经该其本我你他她们这那各全每原新老各个上下里中内外的了着过等")


@lru_cache(maxsize=1)
def _position_pattern() -> re.Pattern:
    return re.compile("|".join(map(re.escape, lexicon.positions())))


def _freq(word: str) -> int:
    return lexicon.tokenizer().FREQ.get(word, 0) or 0


def _dict_tag(word: str) -> str | None:
    return lexicon.pos_tokenizer().word_tag_tab.get(word)


_NAME_TAGS = {"nr", "nrfg", "nrt", "nz", "ns"}
# Surnames that are far more often a function word or a verb: 和, 向, 于, 管 (管设备), 查 (查一查).
_FUNCTION_SURNAMES = set("和向于时成查党全应连管")
_COMMON_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙胡朱林郭何罗郑梁谢宋唐许韩冯邓曹彭曾肖")
# Titles so general that the word after them is often no name (干部管理, 工作人员培训).
_GENERIC_TITLES = ("干部", "工作人员", "委员", "科员", "教师", "老师", "医生", "司机", "驾驶员", "会计", "出纳", "组长")


def is_common_word(name: str) -> bool:
    """A frequent dictionary word or a surname glued to a frequent common word (管 + 设备)."""
    if name in NAME_STOPWORDS:
        return True
    freq = _freq(name)
    if len(name) == 2 and freq >= 100 or len(name) == 3 and freq >= 30:
        return True
    if len(name) == 3:
        given, head = name[1:], name[:2]
        if (name[0] in _FUNCTION_SURNAMES or name[0] not in _COMMON_SURNAMES) and _freq(given) >= 300 \
                and _dict_tag(given) not in _NAME_TAGS:
            return True  # 管 + 设备, 高 + 素质 (but 王 + 海军 stays a name)
        if freq == 0 and _freq(head) >= 1000 and _dict_tag(head) not in _NAME_TAGS:
            return True  # 施工 + 图
    return False


def is_plausible_name(name: str) -> bool:
    """Name shape only: a mask, or surname + one or two given characters (复姓 + one or two)."""
    if ANON_NAME.fullmatch(name):
        return True
    if name in NAME_STOPWORDS or not re.fullmatch(rf"[{_CJK}]+", name):
        return False
    compound = name[:2] in COMPOUND_SURNAMES
    if not (compound and 3 <= len(name) <= 4 or not compound and 2 <= len(name) <= 3 and name[0] in SURNAMES):
        return False
    given = name[2:] if compound else name[1:]
    if any(c in _NOT_NAME_CHAR for c in given) or name[-1] in _NOT_NAME_TAIL:
        return False
    if len(name) == 3 and name[2] == name[0]:
        return False  # 查一查, 师德师
    if re.fullmatch(r"[高初][一二三]", name):
        return False  # school grades
    return not _position_pattern().search(name)


# Bare 块 is also the measure word of land, boards and areas of work ("这一块不是大事", "一块地",
# "一块牌子"): it names money only when no demonstrative comes before the number and no noun follows.
_DEMONSTRATIVE_BEFORE = frozenset("这那哪每某同")
_NOUN_AFTER_KUAI = frozenset("儿地田牌匾碑石砖板布表屏肉糖玉金银钢铁木玻区")


def _is_measure_word(text: str, match) -> bool:
    if not match.group(0).endswith("块"):
        return False
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end()] if match.end() < len(text) else ""
    return before in _DEMONSTRATIVE_BEFORE or after in _NOUN_AFTER_KUAI


def _is_vague(text: str, match) -> bool:
    """几千块钱, 数十万元, 几百元: an order of magnitude, not an amount (the pattern would read 千块钱 as 1000)."""
    return match.start() > 0 and text[match.start() - 1] in "几数" and match.group(0)[0] in "十百千万"


def money(text: str) -> list[Entity]:
    out = []
    for match in MONEY_PATTERN.finditer(text):
        value = money_value(match)
        if value is not None and value > 0 and not _is_measure_word(text, match) and not _is_vague(text, match):
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


def _glued_left(text: str, start: int) -> bool:
    """The surname character belongs to the word before it (担任某公司, 主任王…: 任 of 担任)."""
    if start == 0:
        return False
    pair = text[start - 1:start + 1]
    return _freq(pair) >= 50 and _dict_tag(pair) not in _NAME_TAGS


def split_names(name: str, known: Iterable[str] = ()) -> list[tuple[int, int]]:
    """``[(start, end)]`` of the names in ``name``: one span, or two when two full names are written
    together (李明陈静 → 李明, 陈静). Empty when it is no name at all."""
    known = set(known)
    if name in known or ANON_NAME.fullmatch(name):
        return [(0, len(name))]
    if is_plausible_name(name) and len(name) <= 3 or name[:2] in COMPOUND_SURNAMES and is_plausible_name(name):
        return [(0, len(name))]
    best: list[tuple[int, int]] = []
    best_score = -1.0
    for cut in (2, 3, 4):
        left, right = name[:cut], name[cut:]
        if not right:
            continue
        if not (split_names(left, known) == [(0, len(left))] and is_plausible_name(right) and len(right) <= 3
                or right in known or ANON_NAME.fullmatch(right)):
            continue
        if not is_plausible_name(left) and left not in known:
            continue
        score = (left in known) + (right in known) + 0.5 * (not is_common_word(left)) + 0.5 * (not is_common_word(right))
        score += 0.1 * (len(left) == 3)  # most Chinese names have three characters
        if score > best_score:
            best, best_score = [(0, cut), (cut, len(name))], score
    return best


def _name_spans(text: str, known: set[str]) -> list[tuple[int, int, int]]:
    """``(start, end, strength)`` of the names in ``text``: 3 a known name, 2 a name the context
    vouches for (position title, 同志, relation word, speaker label, mask), 1 jieba's word alone."""
    candidates: list[tuple[int, int, int]] = []

    def propose(start: int, end: int, strength: int) -> None:
        mask = ANON_NAME.match(text, start)
        if mask and mask.end() <= end:
            end = mask.end()  # 妻子张某收的: the name ends with its mask
        for a, b in split_names(text[start:end], known):
            candidates.append((start + a, start + b, strength))

    firm_masks = set()
    for match in ANON_NAME.finditer(text):
        if not _glued_left(text, match.start()):
            candidates.append((match.start(), match.end(), 2))
            if text[match.start()] != "和":
                firm_masks.add((match.start(), match.end()))
    position_re = _position_pattern().pattern
    name2 = rf"{_SURNAME}[{_CJK}]{{1,2}}"
    titled: set[tuple[int, int]] = set()  # a title right before: 院长管志强 (but 局长和鑫源 is 和)
    for match in re.finditer(rf"(?:{position_re})(?:同志)?({name2})", text):
        start = match.start(1)
        end = _trim_name(text, start, match.end(1))
        head = text[start:start + 2]
        if end - start == 3 and _freq(head) >= 500 and _dict_tag(head) not in _NAME_TAGS:
            following = lexicon.words(text[start + 2:start + 6])
            if following and len(following[0]) >= 2:
                continue  # 干部管理教育, 党员干部纪律红线: words after the title, not a name
        weak = match.group(0).startswith(_GENERIC_TITLES)
        propose(start, end, 1 if weak else 2)
        if not weak:
            titled.add((start, end))
    for match in re.finditer(rf"({name2}?)(?=(?:同志)?[（(]\s*(?:{position_re})|同志|(?:{position_re}))", text):
        start = match.start(1)
        title_only = match.end(1) - start == 2 and text[start + 1] in SURNAMES and text[start] in _FUNCTION_SURNAMES
        unit_title = text[match.end(1):match.end(1) + 1] in _ADMIN or text[match.end(1):match.end(1) + 2] in ("社区", "党支", "党委", "党总")
        if not _glued_left(text, start) and not title_only and not unit_title:  # 向周局长: 周局长; 柳湾村支书: a place
            propose(start, match.end(1), 2)
    firm: set[tuple[int, int]] = set()  # relation word or speaker label: good even for 向, 于, 和
    for match in re.finditer(rf"(?:{_REL})(?:叫|名叫|是)?({name2})", text):
        start = match.start(1)
        end = _trim_name(text, start, match.end(1))
        propose(start, end, 2)
        firm.add((start, end))
    for match in re.finditer(rf"(?m)^\s*({_SURNAME}[{_CJK}]{{1,3}})\s*[：:]", text):
        propose(match.start(1), match.end(1), 2)
        firm.add((match.start(1), match.end(1)))
    for name in known:
        for match in re.finditer(re.escape(name), text):
            candidates.append((match.start(), match.end(), 3))
    for word, flag, start in lexicon.tagged_words(text):
        if flag in ("nr", "nrfg") and len(word) >= 2 and re.fullmatch(rf"[{_CJK}]+", word):
            propose(start, start + len(word), 1)

    firm |= firm_masks
    units = [(e.start, e.end) for e in organisations(text)]
    chosen: list[tuple[int, int, int]] = []
    for start, end, strength in sorted(set(candidates), key=lambda c: (-c[2], -(c[1] - c[0]), c[0])):
        name = text[start:end]
        if any(start < e and s < end for s, e, _ in chosen):
            continue
        if strength < 3:
            if not is_plausible_name(name):
                continue
            if name[0] in _FUNCTION_SURNAMES and (start, end) not in firm and not (
                    (start, end) in titled and name[0] not in "和向于"):
                continue  # 我和海峰同志, 局长和鑫源, 向周局长: a conjunction or preposition
            if not ANON_NAME.fullmatch(name) and (name in NAME_STOPWORDS or _freq(name) >= 2000):
                continue
            if strength == 1 and (is_common_word(name) or _glued_left(text, start) or name[0] in _FUNCTION_SURNAMES
                                  or any(s <= start and end <= e for s, e in units)):
                continue
        chosen.append((start, end, strength))
    return sorted(chosen)


def persons(text: str, known: Iterable[str] = ()) -> list[Entity]:
    """Person names in ``text``. ``known`` are names the document vouches for elsewhere (its header,
    or a sentence where a title or 同志 stands next to the name)."""
    spans = _name_spans(text, {k for k in known if k})
    return [Entity("person", text[s:e], s, e, text[s:e]) for s, e, _ in spans]


def confident_names(text: str) -> set[str]:
    """Names that the context vouches for somewhere in ``text`` (not jieba's word alone)."""
    return {text[s:e] for s, e, strength in _name_spans(text, set()) if strength >= 2}


def _trim_name(text: str, start: int, end: int) -> int:
    """Shorten a greedy three-character name match when its last char starts the next word."""
    if end - start == 3:
        tokens = lexicon.words(text[start:min(len(text), end + 4)])
        if text[start + 2] in _NOT_NAME_CHAR:
            return start + 2  # 局长高明也在场
        if (tokens and len(tokens[0]) == 2 and tokens[0][0] == text[start] and not is_common_word(tokens[0])
                and (len(tokens) < 2 or len(tokens[1]) == 1
                     or _freq(tokens[1]) > 0 and tokens[1][1] not in "和与及等")):  # 孔庆祥和…: not 祥和
            return start + 2  # 王红收受; not 黎国华借办, where jieba's 黎国 leaves the non-word 华借
        if tokens and len(tokens[0]) == 1 and len(tokens) > 1 and len(tokens[1]) >= 2:
            return start + 1 + (2 if len(tokens[1]) == 2 else 1)
    if end - start == 4 and text[start:start + 2] in COMPOUND_SURNAMES:  # 副镇长欧阳红收受: 欧阳红
        if text[start + 3] in _NOT_NAME_CHAR:
            return start + 3
        tokens = lexicon.words(text[start + 2:min(len(text), end + 4)])
        if len(tokens) > 1 and len(tokens[0]) == 1 and len(tokens[1]) >= 2:
            return start + 3
    return end


# --- roles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleContext:
    """What the document says about its people, to tell roles apart in a sentence.

    ``record``: always roles of the record (谈话人, 记录人, and a petition's signed complainant). ``header``: named in the header as 主持人 or
    出席/列席/缺席 (a role of the record unless a sentence makes them the actor). ``subjects``: 被反映人
    and 谈话对象. ``vouched``: names found elsewhere in the document with a title or 同志 next to them,
    so that the same name is recognised in a sentence where jieba alone would miss it."""

    record: frozenset[str] = frozenset()
    header: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()
    vouched: frozenset[str] = frozenset()  # names the document vouches for elsewhere (局长周长河 …)

    @property
    def known(self) -> frozenset[str]:
        return self.record | self.header | self.subjects | self.vouched

    def with_names(self, subjects: Iterable[str] = (), vouched: Iterable[str] = ()) -> "RoleContext":
        return RoleContext(self.record, self.header, self.subjects | frozenset(subjects) - self.record,
                           self.vouched | frozenset(vouched))

    @classmethod
    def from_fields(cls, fields) -> "RoleContext":
        """From a ``DocumentFields`` or its ``as_dict`` form (as stored with a document)."""
        if fields is None:
            return cls()
        if is_dataclass(fields):
            fields = asdict(fields)

        def names(*keys: str) -> frozenset[str]:
            out: set[str] = set()
            for key in keys:
                value = fields.get(key)
                for item in value if isinstance(value, list) else [value]:
                    name = item.get("name") if isinstance(item, dict) else item
                    if name and name != "匿名" and is_plausible_name(name):
                        out.add(name)
            return frozenset(out)

        record = names("interviewers", "recorder", "complainant")  # the complainant is the source, not the subject
        return cls(record=record,
                   header=names("chair", "attendees", "nonvoting", "absentees") - record,
                   subjects=names("reported", "interviewee") - record)


def _relation_before(text: str, start: int) -> tuple[str, str | None] | None:
    """``(relation, possessor)`` when ``text[start:]`` is named right after a relation word."""
    match = re.search(rf"(?:({_POSSESSOR})|([{_CJK}×某]{{2,4}})的)?({_REL})(?:叫|名叫|是)?$", text[max(0, start - 14):start])
    if not match:
        return None
    possessor = match.group(1) or (match.group(2) if match.group(2) and is_plausible_name(match.group(2)) else None)
    return match.group(3), possessor


def _relation_after(text: str, end: int) -> tuple[str, str | None] | None:
    match = re.match(rf"(?:[（(](?:系|是|为)?|(?:系|是))({_POSSESSOR}|[{_CJK}×某]{{2,4}}?)?的?({_REL})", text[end:end + 16])
    return (match.group(2), match.group(1)) if match else None


def assign_roles(text: str, people: list[Entity], context: RoleContext | None = None) -> list[Entity]:
    """Set ``extra["role"]`` (and ``relation``/``of``) on each person entity of ``text``."""
    context = context or RoleContext()
    signature = bool(_SIGNATURE_LINE.search(text)) and len(text) <= 40
    for person in people:
        name, before, after = person.text, text[:person.start], text[person.end:]
        relation = _relation_before(text, person.start) or _relation_after(text, person.end)
        if name in context.record or signature or _RECORD_BEFORE.search(before[-40:]) or _RECORD_AFTER.match(after):
            role = RECORD
        elif relation:
            role = RELATED
        elif name in context.subjects:
            role = SUBJECT
        elif name in context.header:
            role = SUBJECT if _ACT_AFTER.match(after) else RECORD
        elif _MENTION_BEFORE.search(before[-6:]) or _MENTION_AFTER.match(after):
            role = MENTIONED
        else:
            role = SUBJECT
        person.extra = {**person.extra, "role": role}
        if role == RELATED and relation:
            person.extra["relation"] = relation[0]
            if relation[1]:
                person.extra["of"] = relation[1]
        position = [p for p in positions(before[-12:]) if p.end == len(before[-12:])]
        if position:
            person.extra["position"] = position[-1].text
    return people


def relations(text: str, people: list[Entity]) -> list[Entity]:
    """Relatives and counterparties the text names without a name: 他表弟开的公司, 王某的妻子."""
    out = []
    starts = {p.start for p in people}
    by_end = {p.end: p for p in people}
    for match in re.finditer(rf"(?:({_POSSESSOR})|的)({_REL})", text):
        rel_end = match.end(2)
        if rel_end in starts or re.match(rf"(?:叫|名叫|是)?{_SURNAME}", text[rel_end:rel_end + 3]) and any(
                s > rel_end and s <= rel_end + 2 for s in starts):
            continue  # the relation is followed by the relative's name
        owner = match.group(1)
        if owner is None:
            person = by_end.get(match.start())
            if person is None:
                continue  # "的亲戚" after anything but a name says too little
            owner = person.text
        start = match.start(1) if match.group(1) else match.start(2)
        out.append(Entity("relation", text[start:rel_end], start, rel_end, match.group(2),
                          {"role": RELATED, "relation": match.group(2), "of": owner}))
    return out


@dataclass(frozen=True)
class Person:
    """A person a finding is about: ``name`` is None for an unnamed relative (他表弟)."""

    name: str | None
    role: str
    relation: str | None = None
    of: str | None = None
    position: str | None = None

    @property
    def display(self) -> str:
        if self.name is None:
            return f"{self.relation}（未具名）"
        return f"{self.name}（{self.relation}）" if self.relation else self.name


def _entity_of(item) -> Entity:
    if isinstance(item, Entity):
        return item
    return Entity(item["label"], item["text"], item["start"], item["end"], item.get("value"),
                  dict(item.get("extra") or {}))


def persons_involved(text: str, fields=None, *, entities: list | None = None, speaker: str | None = None,
                     kind: str | None = None) -> list[Person]:
    """The people a finding is about: subjects and related people, never roles of the record
    (谈话人, 记录人, 主持人, signature lines) nor people only mentioned as a source.

    ``text`` is the finding's text, ``fields`` its document's structured fields (``DocumentFields`` or
    the stored dict), ``entities`` the finding's stored entities (their roles are used when present,
    otherwise roles are worked out from the text), ``speaker`` the finding's speaker. In an interview,
    the interviewee speaking about others is not listed for their own answer."""
    context = RoleContext.from_fields(fields)
    found = [_entity_of(e) for e in entities or [] if (e.label if isinstance(e, Entity) else e["label"])
             in ("person", "relation")]
    if not found or any("role" not in e.extra for e in found):
        people = assign_roles(text, persons(text, context.known), context)
        found = people + relations(text, people)
    out: list[Person] = []
    for entity in found:
        role = entity.extra.get("role")
        name = entity.text if entity.label == "person" else None
        if role not in INVOLVED_ROLES or name and kind == "interview" and name == speaker:
            continue
        person = Person(name, role, entity.extra.get("relation"), entity.extra.get("of"), entity.extra.get("position"))
        if person.name and any(p.name == person.name for p in out):
            continue
        if person.name is None and any(p.name is None and p.relation == person.relation for p in out):
            continue
        out.append(person)
    return out


# --- organisations -----------------------------------------------------------------------------


_STANDALONE_ADMIN = set("省市县区")
# A body named without its unit (党组书记, 纪委书记): part of a title, not an organisation mention.
_GENERIC_BODIES = {"党组", "党委", "纪委", "监委", "纪委监委", "支部", "支委", "总支", "党总支", "党支部", "党工委", "两委"}
_NOT_PLACES = {"家乡", "故乡", "老家", "城乡", "下乡", "回乡", "返乡", "乡下", "乡亲", "乡村", "乡镇", "城市", "农村",
               "村里", "镇里", "城镇", "村民", "全村", "全镇", "全县", "本村", "本镇", "爱家乡", "同乡", "老乡"}
_NOT_UNITS = {"全部", "干部", "内部", "外部", "局部", "村干部", "乡村", "乡镇", "城乡", "农村", "村民", "村组", "各部",
              "本部", "村部", "镇村", "村级", "县级", "市级", "乡级", "镇级"}  # 县农业农村局: the county itself, no place name needed
_ORG_TOKEN_TAGS = _ORG_TAGS | {"zg", "l", "nr", "nrfg", "s", "b"}
_COMPANY_SUFFIXES = ("有限公司", "公司", "集团", "合作社", "银行", "厂")


def _org_tokens(text: str) -> list[tuple[str, str, int]]:
    """jieba's tagged words, with a conjunction glued to a place split off (和县 in 水利局和县财政局)
    and a unit split from a position title that starts with it (村党支部书记 → 村党支部 + 书记)."""
    out = []
    titles = sorted(lexicon.positions(), key=len)  # the shortest title: 村党支部 + 书记
    for word, flag, start in lexicon.tagged_words(text):
        if len(word) == 2 and word[1] in _ADMIN and (word[0] in "和与及同跟任到在赴回去来驻出向对" or (
                _freq(word) < 50 and _dict_tag(word[0]) in ("v", "p", "c", "d", "r"))):  # 调镇财政所
            out += [(word[0], "c", start), (word[1], "zg", start + 1)]
        elif (word.endswith("会议") and word[:-2].endswith(ORG_SUFFIXES)
              or word.endswith(("党委会", "党组会", "支委会", "党总支会"))):  # 党组会议 → 党组 + 会议
            unit = word[:-2 if word.endswith("会议") else -1]
            out += [(unit, "nt", start), (word[len(unit):], "n", start + len(unit))]
        elif flag == lexicon.POSITION_TAG:
            tail = next((t for t in titles if word.endswith(t) and len(t) < len(word)
                         and word[:-len(t)].endswith(ORG_SUFFIXES + tuple(_ADMIN))), None)
            if tail:
                out += [(word[:-len(tail)], "nt", start), (tail, flag, start + len(word) - len(tail))]
            else:
                out.append((word, flag, start))
        else:
            out.append((word, flag, start))
    return out


def _is_org_token(tokens: list[tuple[str, str, int]], index: int) -> bool:
    word, flag, _ = tokens[index]
    if not word or flag == lexicon.POSITION_TAG or not re.fullmatch(rf"[{_CJK}]+", word) or word in _NOT_PLACES:
        return False
    if word.endswith(("里", "上", "内", "外", "中", "们")) and len(word) <= 2:
        return False  # 镇里, 村里: a place, not a unit
    if len(word) == 1 and word in "所站队局办委处科股室院馆厅部" and index > 0 and _is_org_token(tokens, index - 1):
        return True  # 镇财政所: jieba tags 所 as a conjunction
    if flag in ("nr", "nrfg") and len(word) >= 3 and (word[-1] in _ADMIN or word.endswith(("街道", "社区"))):
        return True  # 梅岭镇 read as a person
    if flag in ("nr", "nrfg"):  # 梅岭镇, 白石镇: jieba reads the place name as a person
        following, tag = tokens[index + 1][:2] if index + 1 < len(tokens) else ("", "x")
        return bool(following) and (following[0] in _ADMIN or following.startswith(ADMIN_LEVELS)
                                    or tag in ("n", "nz", "nt", "j") and following not in _NOT_UNITS)
    if flag == "m":
        return bool(re.fullmatch(r"第[一二三四五六七八九十\d]+", word))
    return flag in _ORG_TOKEN_TAGS or word in _ADMIN or word in ADMIN_LEVELS


def _stem_start(text: str, tokens: list[tuple[str, str, int]], first: int) -> int:
    """The start of the place name that ``tokens[first]`` begins or ends: a town, township, village,
    street or community keeps a name of at least two characters (青 + 山镇, 梅岭 + 镇党委)."""
    word, _, start = tokens[first]
    admin = next((i for i, c in enumerate(word) if c in _ADMIN or word[i:].startswith(("街道", "社区"))), None)
    following = tokens[first + 1][0] if first + 1 < len(tokens) else ""
    if admin is None and len(word) == 2 and (following[:1] in _ADMIN or following.startswith(("街道", "社区"))):
        admin = len(word)  # 石岭 + 村党支部: the token is the place name itself
    if admin is None or admin > 2 or (admin == 0 and word[0] in _STANDALONE_ADMIN):
        return start
    if any(c in _PLACE_STOP for c in word[:admin]):
        return -1  # 全镇, 本村: no place name at all
    need, position, index = 2 - admin, start, first - 1
    while need > 0 and index >= 0:
        prev, flag, prev_start = tokens[index]
        if not re.fullmatch(rf"[{_CJK}]+", prev) or any(c in _PLACE_STOP for c in prev) or flag == lexicon.POSITION_TAG:
            break
        if flag not in ("ns", "nr", "nrfg", "n", "nz", "nt", "j", "s", "ng") or prev in _NOT_PLACES:
            break
        if len(prev) > 3 or (len(prev) >= 2 and _freq(prev) >= 3000):
            break  # a common word (城市, 农村) does not name a place
        position, need, index = prev_start, need - len(prev), index - 1
    if need > 0:
        return start
    if index >= 0 and admin + (start - position) == 2:  # 红 + 石岭 + 村: a one-character word starts the name
        prev, flag, prev_start = tokens[index]
        if len(prev) == 1 and flag in ("a", "b", "f", "n", "ns", "nr", "ng") and prev not in _PLACE_STOP \
                and prev not in _ADMIN and re.fullmatch(rf"[{_CJK}]", prev):
            position = prev_start
    return position


def organisations(text: str) -> list[Entity]:
    """Units named in the text, kept whole: the longest run of place and unit words that ends in a unit
    suffix (青山镇党委, 城南街道办事处, 县农业农村局); a place name is never cut (山镇 → 青山镇)."""
    tokens = _org_tokens(text)
    out: list[Entity] = []
    index = 0
    while index < len(tokens):
        end = index
        while end < len(tokens) and _is_org_token(tokens, end):
            end += 1
        if end == index:
            index += 1
            continue
        run = list(range(index, end))
        index = end
        while run and (not tokens[run[-1]][0].endswith(ORG_SUFFIXES) or tokens[run[-1]][0] in _NOT_UNITS):
            run.pop()
        anchor = next((k for k, i in enumerate(run) if tokens[i][1] in ("ns", "nt", "nz", "j")
                       or any(c in _ADMIN for c in tokens[i][0]) or tokens[i][0] in ADMIN_LEVELS), None)
        if anchor is None:
            continue
        run = run[anchor:]
        if not run:
            continue
        words = [tokens[i] for i in run]
        start = _stem_start(text, tokens, run[0])
        if start < 0:
            continue
        stop = words[-1][2] + len(words[-1][0])
        name = text[start:stop]
        if name in _NOT_UNITS or name in _GENERIC_BODIES or name[0] in "全本该各每这那其我你他此" \
                or all(c in _ADMIN for c in name):
            continue
        has_place = any(f in ("ns", "nt") or any(c in _ADMIN for c in w) or w in ADMIN_LEVELS for w, f, _ in words)
        company = words[0][1] in ("nz", "nt", "ns", "j") and name.endswith(_COMPANY_SUFFIXES) and len(words) > 1
        if 2 <= len(name) <= 24 and (has_place or company) and name not in ADMIN_LEVELS and len(name) > 1:
            out.append(Entity("org", name, start, stop, name))
    return out


def extract(text: str, default_year: int | None = None, context: RoleContext | None = None) -> list[Entity]:
    """All entities of ``text``, in order of position; people carry their role in ``extra``."""
    context = context or RoleContext()
    people = assign_roles(text, persons(text, context.known), context)
    found = money(text) + dates(text, default_year) + people + relations(text, people) + organisations(text)
    return sorted(found, key=lambda e: (e.start, -e.end))
