"""Split a normalised document into candidate findings.

A candidate is a sentence or a list item (一是/二是, （一）, 1、) with its span in the
normalised text, the speaker for minutes and interviews, and, for petitions, the number of the
allegation it belongs to. Header lines, titles and fragments too short to say anything are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlp import entities
from nlp.structure import _LABEL_RE, ENUMERATOR, DocumentFields, clean_name, extract_fields, is_form_row
from nlp.types import DocumentKind, Entity

MIN_CHARS = 6
LONG_SENTENCE = 90
_SPEAKER = re.compile(r"^\s*(?P<speaker>[\u4e00-\u9fff×某]{1,8}(?:[（(][^）)\n]{1,24}[）)])?)\s*[：:]\s*")
_QUESTION_SPEAKERS = {"问", "巡察组", "谈话人", "巡察组问", "提问"}
_ANSWER_SPEAKERS = {"答", "回答"}
_INLINE_ENUM = re.compile(r"(?:(?<=[。；;，,：:])|^)\s*(?=[一二三四五六七八九十]+是|其[一二三四五六七八九十][，,])")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=；)(?=.{%d,})" % MIN_CHARS)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff（）()]{0,10}(?:签字|签名|签章)(?:确认)?\s*[：:]|[（(]签[字名章]?[）)]"
                        r"|^(?:谈话人|记录人|主持人|记录员|审核人|经办人|填表人)\s*[：:]\s*[\u4e00-\u9fff×某、，\s]{0,20}$")


@dataclass
class CandidateFinding:
    text: str
    start: int
    end: int
    speaker: str | None = None
    role: str = "statement"  # "statement" | "question" | "answer" | "allegation" | "decision" | "row"
    allegation: int | None = None
    entities: list[Entity] = field(default_factory=list)


def _speaker_of(label: str, kind: DocumentKind, interviewee: str | None,
                interviewers: frozenset[str] = frozenset()) -> tuple[str | None, str]:
    base = re.sub(r"[（(].*", "", label)
    if base[-1:] in ("问", "答") and len(base) > 2 and clean_name(base[:-1]):
        name = clean_name(base[:-1])  # 陈静问： / 王某答：
        return (name, "question") if base[-1] == "问" else (interviewee or name, "answer")
    if base in _QUESTION_SPEAKERS:
        return base, "question"
    if base in _ANSWER_SPEAKERS:
        return interviewee, "answer"
    name = clean_name(base)
    if name:
        if kind is DocumentKind.INTERVIEW:
            # the interviewer asks; anyone else speaking in an interview record is answering
            return name, "question" if name in interviewers and name != interviewee else "answer"
        return name, "statement"
    if re.fullmatch(r"[\u4e00-\u9fff]{1,2}(?:书记|局长|镇长|主任|县长|院长|校长|经理|董事长|组长|部长|乡长|村长)", base):
        return base, "statement"
    return None, "statement"


def _pieces(line: str) -> list[tuple[int, int]]:
    """Sentence-sized ``(start, end)`` offsets inside ``line``."""
    cuts = {0, len(line)}
    cuts.update(m.start() for m in _INLINE_ENUM.finditer(line))
    out = []
    bounds = sorted(cuts)
    for a, b in zip(bounds, bounds[1:]):
        segment = line[a:b]
        if len(segment) <= LONG_SENTENCE and not re.search(r"[。！？!?]", segment[:-1]):
            out.append((a, b))
            continue
        previous = a
        for match in _SENTENCE_END.finditer(segment):
            position = a + match.start()
            if position - previous >= MIN_CHARS:
                out.append((previous, position))
                previous = position
        if previous < b:
            out.append((previous, b))
    return out


def is_signature_line(line: str) -> bool:
    """A signature or record-role line (谈话人签字：…, 记录人：…, 被谈话人（签名）): no finding."""
    stripped = line.strip()
    return len(stripped) <= 60 and bool(_SIGNATURE.search(stripped)) and not re.search(r"[。！？]", stripped[:-1])


def segment(text: str, kind: DocumentKind, interviewee: str | None = None,
            default_year: int | None = None, fields: DocumentFields | dict | None = None) -> list[CandidateFinding]:
    """Candidate findings of ``text``. ``fields`` (the document's structured fields, extracted here
    when not given) tell the roles of the people named: 谈话人/记录人/主持人 are roles of the record."""
    if fields is None:
        fields = extract_fields(text, kind)
    context = entities.RoleContext.from_fields(fields).with_names(
        subjects=[interviewee] if interviewee else [], vouched=entities.confident_names(text))
    findings: list[CandidateFinding] = []
    offset = 0
    allegation = 0
    in_decisions = False
    for line_index, line in enumerate(text.split("\n")):
        line_start = offset
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped or (line_index == 0 and len(stripped) <= 40 and not re.search(r"[，。；]", stripped)):
            continue
        header_line = _LABEL_RE.match(stripped) and len(stripped) <= 60
        if is_form_row(line) or header_line or (stripped[-1] in "：:" and len(stripped) <= 16):
            continue
        if is_signature_line(stripped):
            continue
        if re.search(r"会议决定|决定事项|议定事项", stripped[:12]):
            in_decisions = True
        speaker, role, body_start = None, "statement", 0
        match = _SPEAKER.match(line)
        if match:
            speaker, role = _speaker_of(match.group("speaker"), kind, interviewee, context.record)
            if speaker or role != "statement":
                body_start = match.end()
        if "\t" in line:
            role = "row"
        enumerated = bool(ENUMERATOR.match(line[body_start:]))
        if kind is DocumentKind.PETITION and (enumerated or _INLINE_ENUM.search(line)):
            role = "allegation"
        elif in_decisions and enumerated:
            role = "decision"
        for a, b in _pieces(line[body_start:]):
            a, b = a + body_start, b + body_start
            piece = line[a:b]
            lead = len(piece) - len(piece.lstrip())
            core = ENUMERATOR.sub("", piece.strip(), count=1)
            core_start = line_start + a + lead + (len(piece.strip()) - len(core))
            core = core.rstrip()
            if len(_CJK.findall(core)) < MIN_CHARS:
                continue
            if role == "allegation" and (ENUMERATOR.match(piece) or _INLINE_ENUM.match(piece)):
                allegation += 1
            found = CandidateFinding(
                text=core, start=core_start, end=core_start + len(core), speaker=speaker, role=role,
                allegation=allegation or None if kind is DocumentKind.PETITION else None,
            )
            found.entities = [
                Entity(e.label, e.text, e.start + found.start, e.end + found.start, e.value, e.extra)
                for e in entities.extract(core, default_year, context)
            ]
            findings.append(found)
    return findings
