"""Problem wordings (问题表述) that state only what the evidence says.

Slots ({单位}/{时间}/{金额}/{人员职务}/{项目}/{会议}) are filled from the finding's own document —
its entities and fields — never from a prior case, another unit or the inspection's target unit. A
slot the evidence cannot fill is dropped where the sentence reads without it (a leading unit,
person or time), else shown as a visible 【待补充：金额】 marker. Prior-case texts offered as
alternatives lose their own facts (people, units, amounts, dates, sanctions) the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

from nlp import entities
from service.storage.records import DocumentDetail, FindingRecord

SLOT_NAMES = ("单位", "时间", "金额", "人员职务", "项目", "会议")
MARKER = "【待补充：{}】"
_RAW_SLOT = re.compile(r"\{(?:%s)\}" % "|".join(SLOT_NAMES))
_UNFINISHED = re.compile(r"【待补充：[^】]*】|\{[^{}]{1,10}\}")
_PUNCT = "，。；：、！？,.;:!?）)”’」"
_DROPPABLE = {"单位", "时间", "人员职务"}  # subject/adverbial slots a sentence reads without
_YEAR = re.compile(r"\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日")
PROJECT = re.compile(r"[\u4e00-\u9fff\d]{2,14}?(?:项目|工程)")
_MEETING = re.compile(r"[\u4e00-\u9fff]{0,8}(?:党委会|党组会|常委会|支委会|办公会|村民代表大会|党员大会|会议)")
_MARKUP = re.compile(r"<[^>]{1,40}>|\*\*|__|`|^#+\s*|^\s*[-*•·]\s+", re.M)
_ENUMERATOR = re.compile(r"^(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]+[）)]|\d+[、.．]|[一二三四五六七八九十]+、)")
_SPEAKER = re.compile(r"^(?:问|答|[\u4e00-\u9fff]{2,4})[：:]")
_SANCTION = re.compile(r"处分|警告|撤职|开除|诫勉|问责|移送|追缴|退赔|立案|审查调查|免职|降级|留党察看|处理|通报")
_COLLOQUIAL = (("村支书", "村党支部书记"), ("老支书", "原党支部书记"), ("小舅子", "妻弟"), ("老婆", "妻子"),
               ("吃回扣", "收受回扣"), ("我们村", "该村"), ("我们镇", "该镇"), ("我们单位", "该单位"))
_PARTICLES = re.compile(r"[吧呢啊呀嘛啦哈]+(?=[，。！？]|$)")
_FRAMES = {"petition": "信访反映：", "interview": "谈话中反映：", "minutes": "会议记录载明："}
PROBLEM_KINDS = ("petition", "interview", "minutes")
CLAIMS = ("人均", "超出规定", "超过规定", "超标准", "明显", "多次", "长期", "反复", "屡次", "全部", "均未", "至今",
          "大量", "严重", "频繁")
ROLE_FIELDS = ("interviewers", "recorder", "complainant", "chair")


@dataclass
class Facts:
    """What the evidence says, as slot values; ``text`` is everything a wording may draw facts from."""

    slots: dict[str, str] = field(default_factory=dict)
    persons: list[str] = field(default_factory=list)
    text: str = ""


def strip_markup(text: str) -> str:
    """Source text without markdown/HTML markup, list enumerators and a speaker label."""
    text = _MARKUP.sub("", text).strip()
    text = _ENUMERATOR.sub("", text).strip()
    match = _SPEAKER.match(text)
    if match and len(text) > len(match.group(0)) + 4:
        text = text[len(match.group(0)):].strip()
    return text


def roles(document: DocumentDetail | None) -> set[str]:
    """People who are roles of the record (interviewer, recorder, complainant, chair), not persons involved."""
    if document is None:
        return set()
    names: set[str] = set()
    for key in ROLE_FIELDS:
        value = document.fields.get(key)
        names.update([value] if isinstance(value, str) else value or [])
    return names


def persons_of(finding: FindingRecord, document: DocumentDetail | None) -> list[str]:
    """Persons the finding is about: named in it, or the petition's reported persons when it names nobody."""
    involved = entities.persons_involved(finding.text, document.fields if document else None,
                                         entities=finding.entities, speaker=finding.speaker,
                                         kind=document.kind if document else None)
    skip = roles(document)  # header roles (谈话人、记录人、主持人) even where a sentence names them as actors
    names = [n for n in dict.fromkeys(p.name for p in involved if p.name) if n not in skip]
    if document is not None and document.kind == "petition":  # the reported person, named or implied
        reported = [p["name"] for p in document.fields.get("reported") or [] if p.get("name")]
        names = list(dict.fromkeys([r for r in reported if r in finding.text or not names] + names))
    return names


def _reported(document: DocumentDetail | None, name: str) -> dict:
    if document is None:
        return {}
    return next((p for p in document.fields.get("reported") or [] if p.get("name") == name), {})


def facts_of(findings: Iterable[FindingRecord], documents: dict[int, DocumentDetail]) -> Facts:
    """Slot values from the findings (strongest first) and their own documents only."""
    facts = Facts()
    texts = []
    for finding in findings:
        document = documents.get(finding.document_id)
        texts.append(finding.text)
        slots = facts.slots
        for e in finding.entities:
            if e["label"] == "money":
                slots.setdefault("金额", e["text"])
            elif e["label"] == "date":
                year = str(e["value"])[:4]
                slots.setdefault("时间", year + "年" if year + "年" in finding.text else e["text"])
            elif e["label"] == "org":
                slots.setdefault("单位", e["text"])
        if project := PROJECT.search(finding.text):
            slots.setdefault("项目", project.group(0))
        if meeting := _MEETING.search(finding.text):
            slots.setdefault("会议", meeting.group(0))
        for name in persons_of(finding, document):
            facts.persons.append(name)
            reported = _reported(document, name)
            position = reported.get("position") or _position_before(finding.text, name)
            if reported:
                texts.append("".join(v for v in (reported.get("unit"), reported.get("position"), name) if v))
                if reported.get("unit"):
                    slots.setdefault("单位", reported["unit"])
            slots.setdefault("人员职务", (position or "") + name)
    facts.persons = list(dict.fromkeys(facts.persons))
    facts.text = "\n".join(texts)
    return facts


def _position_before(text: str, name: str) -> str | None:
    at = text.find(name)
    if at <= 0:
        return None
    before = [p for p in entities.positions(text[max(0, at - 12):at]) if p.end == min(at, 12)]
    return before[-1].text if before else None


def fill(template: str, facts: Facts) -> str:
    """``template`` with its slots filled from ``facts``; unfillable slots dropped or marked."""
    out, last = [], 0
    for match in _RAW_SLOT.finditer(template):
        name, literal = match.group(0)[1:-1], template[last:match.start()]
        out.append(literal)
        last = match.end()
        if value := facts.slots.get(name):
            out.append(value)
            continue
        if name == "时间" and template.startswith("以来", last):
            last += 2
            continue
        after = template[last:last + 1]
        if name in _DROPPABLE and after and after not in _PUNCT and (
                literal == "" or literal.endswith(("，", "：", "发现"))):
            continue
        out.append(MARKER.format(name))
    return "".join(out) + template[last:]


def markers(text: str) -> list[str]:
    """Unfinished parts of a wording: 【待补充：…】 markers and raw {…} slots."""
    return _UNFINISHED.findall(text)


def _titled(reported: dict, before: str) -> str:
    """The reported person's unit and post as a wording names them (柳溪村党支部书记): the post alone
    (党支部书记) does not say whose Party branch, unless the sentence already named the unit."""
    unit, position = reported.get("unit") or "", reported.get("position") or ""
    return position if not unit or not position or before.endswith(unit) else unit + position


def finding_wording(finding: FindingRecord, document: DocumentDetail | None) -> str:
    """The finding's own sentence, lightly put into official register: framed by where it was said,
    colloquial words replaced, a leading pronoun resolved to the petition's reported person."""
    text = strip_markup(finding.text)
    for spoken, official in _COLLOQUIAL:
        text = text.replace(spoken, official)
    text = _PARTICLES.sub("", text).rstrip("，,；; ")
    if text and text[-1] not in "。！？":
        text += "。"
    persons = persons_of(finding, document)
    if document is not None and document.kind == "petition":
        for person in document.fields.get("reported") or []:  # the post the letter gives, where the name first appears
            name, position = person.get("name"), person.get("position")
            at = text.find(name) if name else -1
            if at >= 0 and position and not text[:at].endswith(position):
                text = text[:at] + _titled(person, text[:at]) + text[at:]
        if len(persons) == 1 and persons[0] not in text:
            reported = _reported(document, persons[0])
            who = _titled(reported, text) + persons[0]
            text = who + text[1:] if text[:1] in "他她" else text + f"（被反映人：{who}）"
    return _FRAMES.get(document.kind if document else "", "") + text


def trim_claims(wording: str, evidence: str) -> str:
    """A standard wording without the clauses that assert more than the evidence does (人均消费超出规定标准,
    多次, 长期…): such a conclusion needs verification the material does not give."""
    clauses = re.split(r"(?<=[，；])", wording)
    kept = [c for c in clauses if not any(w in c and w not in evidence for w in CLAIMS)]
    if not kept or kept == clauses:
        return wording
    return "".join(kept).rstrip("，；") + ("" if "".join(kept).rstrip("，；").endswith("。") else "。")


@lru_cache(maxsize=4096)  # prior cases are a fixed set, offered again for every lead and problem
def case_template(text: str) -> str:
    """A prior case's text with its own facts taken out: sanction clauses dropped; people, posts,
    units, amounts and dates turned into slots (to be filled from this problem's evidence)."""
    clauses = [c for c in re.split(r"(?<=[，。；])", strip_markup(text)) if c and not _SANCTION.search(c)]
    text = "".join(clauses).rstrip("，；") or ""
    if not text:
        return ""
    slots = {"money": "{金额}", "date": "{时间}", "person": "{人员职务}", "org": "{单位}", "position": "{人员职务}"}
    spans = [(e.start, e.end, slots[e.label]) for e in entities.extract(text) if e.label in slots]
    spans += [(p.start, p.end, "{人员职务}") for p in entities.positions(text)]
    spans += [(m.start(), m.end(), "{时间}") for m in _YEAR.finditer(text)]
    spans += [(m.start(), m.end(), "{单位}") for m in re.finditer(r"某[\u4e00-\u9fff]{0,8}?(?:县|区|市|镇|乡|村|局|委|办|所|站|公司)", text)]
    out, last = [], 0
    for start, end, slot in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start] + slot)
        last = end
    template = "".join(out) + text[last:]
    for slot in ("{人员职务}", "{单位}", "{时间}"):
        template = re.sub(f"(?:{re.escape(slot)})+", slot, template)
    template = template.replace("{单位}{人员职务}", "{人员职务}").replace("{人员职务}同志", "{人员职务}")
    return template.rstrip("，；、") + ("" if template.endswith("。") else "。")


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[^\u4e00-\u9fff\d]", "", _UNFINISHED.sub("", text))
    return {text[i:i + 2] for i in range(len(text) - 1)}


def supported_clauses(wording: str, evidence: str, share: float = 0.5) -> str:
    """Only the clauses of ``wording`` (a prior case's) most of whose words the evidence states:
    a prior case lends its phrasing, never its acts (以“招商费”名义支出…)."""
    known = _bigrams(evidence)
    kept = [c for c in re.split(r"(?<=[，。；])", wording)
            if (grams := _bigrams(c)) and len(grams & known) / len(grams) >= share]
    text = "".join(kept).rstrip("，；")
    return text + ("" if not text or text.endswith("。") else "。")


@lru_cache(maxsize=64)  # one evidence text is checked against every wording offered for it
def _units_of(evidence: str) -> tuple[str, ...]:
    return tuple(o.text for o in entities.organisations(evidence))


def unsupported(wording: str, evidence: str) -> list[str]:
    """Facts in ``wording`` that ``evidence`` does not state: numbers, amounts, names, units."""
    wording = _UNFINISHED.sub("", wording)
    found = [e.text for e in entities.money(wording) if e.text not in evidence]
    found += [n for n in re.findall(r"\d+(?:\.\d+)?", wording) if n not in evidence]
    found += [p.text for p in entities.persons(wording) if p.text not in evidence]
    units = _units_of(evidence)
    found += [o.text for o in entities.organisations(wording)
              if o.text not in evidence and not any(o.text.startswith(u) for u in units)]
    return list(dict.fromkeys(found))
