"""Sentence form: cues that tell a stated problem from the rest of a document.

Real documents surround their problems with text that shares the problem's vocabulary:
exhortations (要…必须…), leaders' quotes, headings, questions put by the interviewer, thanks,
plans, signature and form lines. The cues below are features of the finding model (which learns
their weights) and give each sentence a form that later stages can use, e.g. a report draft
that must not pre-tick an exhortation.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

FORMS = ("heading", "question", "exhortation", "quote", "thanks", "plan", "form_line", "measure", "statement")

_NUMERAL = "[一二三四五六七八九十]+"
_ORDINAL = rf"（{_NUMERAL}）|[0-9]{{1,2}}[.、．](?!\d)"
"""A list marker that opens headings, list items and numbered measures: （三） or 3. / 3、"""

_CUES: dict[str, re.Pattern] = {
    "heading": re.compile(rf"^\s*(?:{_NUMERAL}、|第{_NUMERAL}[章节部分条]|{_ORDINAL})\S{{0,24}}$"),
    "enumerator": re.compile(rf"^\s*(?:{_NUMERAL}是|{_NUMERAL}、|{_ORDINAL}|首先|其次|再次|最后)"),
    "question": re.compile(r"[？?]\s*$|^(?:请你|请您|你|您)(?:谈谈|说说|介绍|讲讲|是否|对|知道|了解|认为)"
                           r"|(?:吗|呢|么)[？?。]?\s*$|有没有|是否了解|怎么看"),
    "exhortation": re.compile(r"^(?:要|必须|务必|切实|进一步|坚决|全面|持续|始终|着力|扎实|各[级单位部门支部乡镇]+要|我们要|大家要)"
                              r"|(?:要|必须|务必)(?:高度重视|切实|坚持|认真|加强|强化|落实|做到|把)"),
    "quote": re.compile(r"总书记|指出[：:“]|强调[：:“]|讲话(?:中|精神)|重要论述|重要指示|“[^”]{12,}”"),
    "thanks": re.compile(r"感谢|谢谢|致谢|辛苦了|表示感谢"),
    "plan": re.compile(r"^(?:下一步|今后|下步|接下来|我们将|将继续|拟于|计划于)|下一步"),
    "form_line": re.compile(r"(?:签字|签名|盖章|手印|记录人|谈话人|被谈话人|联系电话|身份证号)[：:]?\s*\S{0,12}$"
                            r"|^\S{1,8}[：:]\s*\S{0,16}$"),
    "achievement": re.compile(r"(?:共|累计|已|先后)(?:开展|完成|发现|移交|督办|整改|召开|培训|处理|办结)"
                              r"|(?:完成率|覆盖率|办结率)|全覆盖"),
    "problem": re.compile(r"存在|不到位|不严格|不规范|不及时|不够|不力|不足|违规|违反|违纪|擅自|私自|虚报|冒领|侵占|挪用|"
                          r"截留|克扣|套取|收受|索要|吃拿卡要|优亲厚友|未按|未经|未能|没有|流于形式|走过场|打折扣|"
                          r"弱化|缺失|缺位|滞后|薄弱|问题"),
    "money": re.compile(r"\d[\d,.]*\s*(?:万?元|万)"),
    "first_person": re.compile(r"我们?|俺|咱们?|本人"),
    "rule": re.compile(r"不得|严禁|禁止|应当|须|一律|原则上"),
    "request": re.compile(r"建议|希望|能不能|能否|请求|恳请|麻烦|帮忙|怎么办|怎么处理|咨询|请问|求助"),
}
_OFFICIAL = re.compile(r"书记|主任|局长|镇长|乡长|县长|区长|村长|组长|科长|所长|站长|院长|校长|部长|干部|领导|村委|"
                       r"两委|政府|党委|党组|支部|机关|单位|公职|党员|纪委|巡察|公款|公车|财政|低保|补偿款|集体|"
                       r"镇里|乡里|县里|街道|社区|执法|审批|经办")
_PRIVATE = re.compile(r"邻居|邻里|村民|朋友|亲戚|兄弟|商场|健身房|物业|开发商|商家|店家|老板|公司|网购|快递|房东|租客")
# A measure or requirement written as a subject-less clause ("压实…责任", "严把…关", "二是健全…机制"):
# the bulk of a work report, in the vocabulary of the problems it answers; a shortfall word after
# the verb ("落实…不到位", "压得不实") makes it a stated problem again.
_MEASURE = re.compile(rf"^(?:{_NUMERAL}是|{_ORDINAL}|[①-⑩])?\s*"
                      r"(?:压实|压紧|严把|把好|盯紧|紧盯|盯住|抓实|抓好|抓住|抓牢|织密|筑牢|做实|做细|做好|用好|"
                      r"打通|打好|健全|推行|实行|建立|完善|坚持|突出|强化|深化|聚焦|注重|守好|拧紧|扛起|扛牢|"
                      r"夯实|优化|创新|拓展|探索|畅通|延伸|提升|提高|推动|推进|加大|加快|实现|确保|保持)")
_SHORTFALL = re.compile(r"不到位|不严|不实|不力|不足|不够|不强|不高|不深|不细|不准|不规范|不及时|不明显|不平衡|"
                        r"不落实|有差距|差距|落差|存在|停留在|变通|选择性|滞后|薄弱|弱化|缺失|缺位|走过场|流于形式|打折扣|"
                        r"偏差|偏弱|偏少|难以|未能|没有")
_CUE_PREDICATES = {
    **{name: pattern.search for name, pattern in _CUES.items()},
    # A complaint that names only private parties is a dispute, not a finding (labels.md).
    "private_only": lambda text: bool(_PRIVATE.search(text)) and not _OFFICIAL.search(text),
    "official": _OFFICIAL.search,
    "measure": lambda text: bool(_MEASURE.search(text)) and not _SHORTFALL.search(text),
}
CUE_NAMES = tuple(name for name in _CUE_PREDICATES if name != "enumerator")
"""Cues of new models. A list marker (一是…) opens achievements as often as problems: no cue."""
FIRST_CUES = tuple(_CUE_PREDICATES)[:12]
"""The cues of the first models that used them, for artefacts saved before the later ones."""


def cue_matrix(texts: Sequence[str], names: Sequence[str] = CUE_NAMES) -> np.ndarray:
    """One row per text: 0/1 per cue of ``names``, then log length."""
    out = np.zeros((len(texts), len(names) + 1), dtype=np.float32)
    for row, text in enumerate(texts):
        stripped = text.strip()
        for column, name in enumerate(names):
            out[row, column] = 1.0 if _CUE_PREDICATES[name](stripped) else 0.0
        out[row, -1] = np.log1p(len(stripped)) / 5.0
    return out


def sentence_form(text: str) -> str:
    """The form of one sentence (see ``FORMS``); "statement" when no other form fits."""
    stripped = text.strip()
    problem = bool(_CUES["problem"].search(stripped))
    for form in ("form_line", "heading", "question", "thanks", "quote", "exhortation", "plan"):
        if _CUES[form].search(stripped):
            if form in ("exhortation", "plan", "quote") and problem and len(stripped) > 40:
                continue  # "要…" leading into a stated problem is still a statement of it
            return form
    if _CUE_PREDICATES["measure"](stripped):
        return "measure"
    return "statement"


RECORD_ROLES = frozenset({"question", "row"})
"""Segment roles that belong to the record itself: the interviewer's questions, form rows."""
ALLEGATION_FLOOR = 0.3
"""An item of a petition's numbered list of allegations (一是…二是… under 反映…的问题) is a problem
by the letter's own structure; the tagger need only not doubt it. 0.3 is where the finding model
keeps 0.97 of the petition problems of realdev's choose half."""


def gate_by_role(tags: list[dict], roles: Sequence[str]) -> list[dict]:
    """Tags adjusted by what the document's structure says of each segment: questions and form rows
    are kept (for review) but never findings; listed allegations are findings unless the model
    doubts them. The callers' dicts are not changed."""
    out = []
    for tag, role in zip(tags, roles):
        if role in RECORD_ROLES and tag.get("is_finding"):
            tag = dict(tag, is_finding=False, labels=[], form="question" if role == "question" else "form_line")
        elif role == "allegation" and not tag.get("is_finding") and (tag.get("finding_score") or 0) >= ALLEGATION_FLOOR:
            tag = dict(tag, is_finding=True, labels=[item["id"] for item in tag.get("checklist", [])[:1]])
        out.append(tag)
    return out
