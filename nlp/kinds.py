"""Detect what kind of document a text is: minutes, petition, interview notes or other.

Each kind has weighted cues (labels and phrases typical of the genre); cues in the title and
header count double. Scores are turned into a distribution with a softmax; a document whose
best raw score stays under ``MIN_SCORE`` is "other".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from nlp.types import DocumentKind

HEAD_CHARS = 300
MIN_SCORE = 3.0
TEMPERATURE = 2.0

CUES: dict[DocumentKind, list[tuple[str, float]]] = {
    DocumentKind.MINUTES: [
        (r"会议记录|会议纪要|会\s*议\s*记\s*录|会议议定", 4.0),
        (r"(?m)^\s*主\s*持\s*人?\s*[：:]|由\S{2,8}主持|主持会议", 2.5),
        (r"(?m)^\s*记\s*录\s*人?\s*[：:]|记录员[：:]", 2.5),
        (r"出\s*席\s*(?:人员)?\s*[：:]|参会人员|参加人员|与会人员|到会人员|应到\S{1,4}实到", 2.0),
        (r"列\s*席\s*(?:人员)?\s*[：:]", 1.5),
        (r"缺\s*席\s*(?:人员)?\s*[：:]|请假", 1.0),
        (r"议\s*题\s*[一二三四五六七八九十\d]?\s*[：:]|会议议题|议程", 2.0),
        (r"会议决定|决定事项|会议研究|会议认为|会议同意|经会议研究|会议要求", 2.0),
        (r"党组会|党委会|班子会|两委会|支委会|办公会|常委会|董事会|校务会|党员大会|扩大会议", 1.5),
    ],
    DocumentKind.PETITION: [
        (r"举报信|举报材料|信访件|来信|来电记录|来访登记|网络举报|信访举报|控告|检举", 3.0),
        (r"被?反映人\s*[：:]|被举报人|举报人\s*[：:]|来信人|来电人|来访人|反映事项|举报事项", 3.0),
        (r"实名举报|匿名|我(?:们)?(?:要|实名)?(?:举报|反映)|特此举报|现举报", 3.0),
        (r"恳请|强烈要求|请求(?:上级|组织|领导)|请(?:巡察组|领导|组织)(?:调查|核实|查处)|严肃查处|还(?:我们|群众)一个公道", 2.0),
        (r"(?m)^\s*(?:尊敬的)?\S{0,10}巡察组\S{0,6}\s*[：:]\s*$", 3.0),
        (r"联名信|写(?:了)?这封信|反映如下|情况反映|请巡察组|希望巡察组|帮忙过问|看不下去|句句属实", 2.0),
        (r"不敢(?:留名|署名)|不留名|怕(?:被)?(?:打击)?报复|穿小鞋", 2.0),
        (r"反映(?:两个|几个|以下|一些)?问题|反映\S{1,16}的问题|我是\S{0,14}(?:职工|村民|干部|群众|家长|老师)", 1.5),
        (r"此致|敬礼", 1.0),
        (r"联系电话|身份证号", 0.5),
    ],
    DocumentKind.INTERVIEW: [
        (r"个别谈话|谈话记录|谈话笔录|谈\s*话\s*记\s*录", 4.0),
        (r"谈话对象\s*[：:]?|被谈话人|谈话人\s*[：:]", 3.5),
        (r"(?m)^\s*问\s*[：:]", 2.0),
        (r"(?m)^\s*答\s*[：:]", 2.0),
        (r"谈话时间|谈话地点", 2.0),
        (r"(?m)^\s*巡察组\s*[：:]", 1.5),
        (r"谈话对象(?:反映|认为|表示|谈到)|(?:他|她)反映", 1.5),
    ],
    DocumentKind.OTHER: [
        (r"整改(?:进展|落实)?情况(?:的)?报告|整改方案|整改台账|问题清单", 3.0),
        (r"民主测评|测评(?:情况|结果)|问卷调查", 3.0),
        (r"工作总结|工作报告|巡察报告|反馈意见|通知|公告|移交函|实施方案", 2.0),
        (r"凭证|记账|报销单|账目", 1.0),
    ],
}
_COMPILED = {kind: [(re.compile(p), w) for p, w in cues] for kind, cues in CUES.items()}

# A title that names its genre outweighs what the body mentions: a work report or a notice talks
# about 党组会 and 个别谈话 without being minutes or interview notes.
TITLE_WEIGHT = 8.0
TITLE_LINES = 3
_OTHER_TITLE = re.compile(r"(?:报告|方案|总结|通知|函|公告|台账|清单|结果|意见|决定|请示|简报|通报|汇报|办法|规定)"
                          r"(?:[（(][^）)]{0,8}[）)])?$")
_RECORD_TITLE = re.compile(r"记录|纪要|笔录|谈话|举报|来信|来电|来访|信访|反映|登记|控告|检举")


def _titled_other(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()][:TITLE_LINES]
    titles = [line for line in lines if len(line) <= 40 and not re.search(r"[。；;：:]", line)]
    return any(_OTHER_TITLE.search(t) for t in titles) and not any(_RECORD_TITLE.search(t) for t in titles)


@dataclass
class KindPrediction:
    kind: DocumentKind
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    cues: list[str] = field(default_factory=list)


def _raw_scores(text: str) -> tuple[dict[DocumentKind, float], dict[DocumentKind, list[str]]]:
    head = text[:HEAD_CHARS]
    raw: dict[DocumentKind, float] = {}
    hits: dict[DocumentKind, list[str]] = {}
    for kind, cues in _COMPILED.items():
        total, found = 0.0, []
        for pattern, weight in cues:
            match = pattern.search(text)
            if not match:
                continue
            boost = 2.0 if pattern.search(head) else 1.0
            repeats = min(len(pattern.findall(text)), 5)
            total += weight * boost * (1.0 + 0.15 * (repeats - 1))
            found.append(match.group(0).strip())
        raw[kind], hits[kind] = total, found
    return raw, hits


def detect_kind(text: str) -> KindPrediction:
    raw, hits = _raw_scores(text)
    if _titled_other(text):  # above whatever the body's mentions add up to
        raw[DocumentKind.OTHER] = max(raw.values()) + TITLE_WEIGHT
        hits[DocumentKind.OTHER].insert(0, "标题")
    genre_best = max(raw[k] for k in raw if k is not DocumentKind.OTHER)
    raw[DocumentKind.OTHER] = max(raw[DocumentKind.OTHER], MIN_SCORE * 1.5 if genre_best < MIN_SCORE else 0.0)
    logits = {k.value: v / TEMPERATURE for k, v in raw.items()}
    peak = max(logits.values())
    exp = {k: math.exp(v - peak) for k, v in logits.items()}
    norm = sum(exp.values())
    scores = {k: round(v / norm, 4) for k, v in exp.items()}
    kind = DocumentKind(max(scores, key=scores.get))
    return KindPrediction(kind, scores[kind.value], scores, hits.get(kind, []))
