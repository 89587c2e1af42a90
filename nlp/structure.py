"""Structured fields of minutes, petitions and interview notes.

Header labels (``主持人：``, ``被反映人：``, ``谈话对象：``…) are found wherever they stand on a line,
several to a line if need be; lists of names are split and stripped of titles; agenda items,
decisions and allegations are read from numbered lists. What a document does not say stays
``None`` or empty: nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from nlp import entities
from nlp.types import DocumentKind

# "第一" numbers an item only before a delimiter or 项/条/点: 第一书记, 第一次, 第三方 are words.
ENUMERATOR = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+是|第[一二三四五六七八九十]+(?:(?:项|条|点|个问题|个方面)[，、,是：:]?|[，、,是：:])|[一二三四五六七八九十]+\s*[、.．]"
    r"|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d{1,2}\s*[、.．)）](?!\d)|[①②③④⑤⑥⑦⑧⑨⑩]|议题[一二三四五六七八九十\d]+\s*[：:]?)\s*"
)

FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "meeting_name": ("会议名称", "会议题目"),
    "date": ("会议时间", "开会时间", "谈话时间", "来信时间", "来电时间", "来访时间", "举报时间", "时间", "日期"),
    "place": ("会议地点", "开会地点", "谈话地点", "地点"),
    "chair": ("会议主持人", "主持人", "主持"),
    "attendees": ("出席人员", "参会人员", "参加人员", "到会人员", "与会人员", "出席人", "参加人", "参会", "出席", "到会"),
    "nonvoting": ("列席人员", "列席"),
    "absentees": ("缺席人员", "请假人员", "缺席", "请假"),
    "recorder": ("记录人", "记录员", "记录"),
    "agenda": ("会议议题", "主要议题", "会议议程", "议题", "议程"),
    "complainant": ("反映人", "举报人", "来信人", "来电人", "来访人", "信访人", "署名"),
    "reported": ("被反映人", "被举报人", "被反映对象", "举报对象", "反映对象", "被举报人姓名", "被反映人姓名"),
    "reported_unit": ("被举报人单位", "被反映人单位", "被举报人工作单位", "被反映人工作单位"),
    "unit": ("单位", "工作单位", "所在单位"),
    "reported_position": ("被举报人职务", "被反映人职务"),
    "interviewee": ("谈话对象", "被谈话人", "谈话对象姓名"),
    "interviewee_position": ("职务", "单位及职务", "职务职级", "现任职务"),
    "interviewers": ("谈话人", "谈话人员", "巡察组谈话人"),
}
_LABEL_TO_FIELD = {label: name for name, labels in FIELD_LABELS.items() for label in labels}
_LABEL_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s，,；;。]))(?P<label>"
    + "|".join(sorted(map(re.escape, _LABEL_TO_FIELD), key=len, reverse=True))
    + r")\s*[：:]"
)
DECISION_HEADER = re.compile(r"会议决定|决定事项|议定事项|会议议定|形成(?:如下|以下)决定|会议研究决定|经研究决定|决定如下")
_ALLEGATION_ZONE = re.compile(r"反映(?:的)?(?:主要)?(?:问题|事项)|举报(?:的)?(?:主要)?(?:问题|事项)|主要问题")
_PROSE_PLACE = re.compile(r"[在于]([\u4e00-\u9fff\d（）()]{2,20}?(?:会议室|办公室|大厅|礼堂|村部|活动室|活动中心|报告厅|接待室|谈话室))"
                          r"(?:召开|举行|进行|开展|$|[，。])")
_PROSE_ATTENDEES = re.compile(r"(?:出席|参加|参会|到会|与会)(?:会议)?(?:的)?(?:人员|同志)?(?:有|为|是)[：:]?([^。\n]{2,200})")
_PROSE_CHAIR = re.compile(r"(?:会议)?由([\u4e00-\u9fff×某]{2,12}?)(?:同志)?(?:召集并)?主持|"
                          r"([\u4e00-\u9fff×某]{2,10}?)(?:同志)?主持(?:召开|会议)")
_PROSE_INTERVIEWEE = re.compile(r"(?:与|同|对|找)([\u4e00-\u9fff×某]{2,12}?)(?:同志)?(?:[（(]([^）)]{2,30})[）)])?"
                                r"(?:进行了?|开展了?)(?:个别)?谈话|谈话对象(?:为|是)([\u4e00-\u9fff×某]{2,12}?)(?:同志)?[，,（(。]")
_INLINE_ALLEGATION = re.compile(r"(?<=[。；;，,])\s*(?=[一二三四五六七八九十]+是)")
_NAME_SPLIT = re.compile(r"[、，,；;\s/]+|及|和|与")
_PAREN = re.compile(r"[（(][^）)]*[）)]")


@dataclass
class ReportedPerson:
    name: str
    position: str | None = None
    unit: str | None = None


@dataclass
class DocumentFields:
    """Every field any kind may carry; a kind fills the ones it has."""

    meeting_name: str | None = None
    date: str | None = None
    place: str | None = None
    chair: str | None = None
    recorder: str | None = None
    attendees: list[str] = field(default_factory=list)
    nonvoting: list[str] = field(default_factory=list)
    absentees: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    complainant: str | None = None
    reported: list[ReportedPerson] = field(default_factory=list)
    allegations: list[str] = field(default_factory=list)
    amounts: list[float] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    interviewee: str | None = None
    interviewee_position: str | None = None
    interviewers: list[str] = field(default_factory=list)

    def as_dict(self, kind: DocumentKind) -> dict:
        keep = KIND_FIELDS[kind]
        return {k: v for k, v in asdict(self).items() if k in keep}


KIND_FIELDS: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.MINUTES: ("meeting_name", "date", "place", "chair", "recorder", "attendees", "nonvoting",
                           "absentees", "agenda", "decisions", "amounts", "dates"),
    DocumentKind.PETITION: ("complainant", "reported", "allegations", "amounts", "dates"),
    DocumentKind.INTERVIEW: ("interviewee", "interviewee_position", "interviewers", "date", "place",
                             "recorder", "amounts", "dates"),
    DocumentKind.OTHER: ("date", "amounts", "dates"),
    DocumentKind.EVIDENCE: ("date", "amounts", "dates"),
}


def labelled_values(text: str, max_lines: int = 60) -> dict[str, list[tuple[str, int]]]:
    """``field -> [(value, line_index)]`` for every header label found in the first lines."""
    found: dict[str, list[tuple[str, int]]] = {}
    for index, line in enumerate(text.split("\n")[:max_lines]):
        matches = list(_LABEL_RE.finditer(line))
        for position, match in enumerate(matches):
            end = matches[position + 1].start() if position + 1 < len(matches) else len(line)
            value = line[match.end():end].strip(" \t，,；;。")
            found.setdefault(_LABEL_TO_FIELD[match.group("label")], []).append((value, index))
        for label, value in form_cells(line):
            found.setdefault(_LABEL_TO_FIELD[label], []).append((value, index))
    return found


def form_cells(line: str) -> list[tuple[str, str]]:
    """``(label, value)`` pairs of a form-style table row: ``被反映人<TAB>赵德胜<TAB>职务<TAB>村支书``."""
    if "\t" not in line:
        return []
    cells = [c.strip().rstrip("：:") for c in line.split("\t")]
    return [(cells[i], cells[i + 1]) for i in range(len(cells) - 1)
            if cells[i] in _LABEL_TO_FIELD and cells[i + 1] and cells[i + 1] not in _LABEL_TO_FIELD]


_SENTENCE_PUNCTUATION = re.compile(r"[，。；！？,.;!?]")


def is_form_row(line: str) -> bool:
    """A table row made of short label/value cells carries header fields, not findings: one with a
    known header label, or ``label<TAB>value`` pairs with short label-like cells (所在单位、是否匿名…)."""
    cells = [c.strip() for c in line.split("\t") if c.strip()]
    if not cells or any(len(c) > 30 for c in cells):
        return False
    if form_cells(line):
        return True
    labels = cells[0::2]
    return len(cells) >= 4 and len(cells) % 2 == 0 and all(
        len(label) <= 6 and not _SENTENCE_PUNCTUATION.search(label) for label in labels)


def clean_name(token: str) -> str | None:
    token = _PAREN.sub("", token).strip(" \t：:。")
    token = re.sub(r"同志$|等(?:同志|人)?$", "", token)
    for title in entities.lexicon.positions():
        if token.startswith(title) and len(token) > len(title) + 1:
            token = token[len(title):]
            break
    for title in entities.lexicon.positions():
        if token.endswith(title) and len(token) > len(title) + 1:
            token = token[: -len(title)]
            break
    return token if entities.is_plausible_name(token) else None


def names_in(value: str) -> list[str]:
    """Names listed in a header value. Names written together (邵文军苏敏, when a space was lost) are
    split at the surname boundary; a name glued to its unit and title (冯斌青石镇党委委员) is kept."""
    out: list[str] = []
    for token in _NAME_SPLIT.split(_PAREN.sub("", value)):
        name = clean_name(token)
        names = [name] if name else _glued_names(token.strip(" \t：:。"))
        for name in names:
            if name and name not in out:
                out.append(name)
    return out


def _glued_names(token: str) -> list[str]:
    if not token or len(token) < 4:
        return []
    spans = entities.split_names(token)
    if len(spans) > 1:
        return [n for n in (clean_name(token[a:b]) for a, b in spans) if n]
    leading = [p for p in entities.persons(token) if p.start == 0]
    if leading and entities.organisations(token[leading[0].end:]) or leading and entities.positions(token[leading[0].end:]):
        return [leading[0].text]
    return []


def first_name(value: str) -> str | None:
    names = names_in(value)
    return names[0] if names else None


def strip_enumerator(line: str) -> str:
    return ENUMERATOR.sub("", line, count=1).strip()


def numbered_items(lines: list[str], start: int, stop_at_label: bool = True) -> list[str]:
    """Numbered lines from ``lines[start]`` on, until the first line that is not an item."""
    items: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            if items:
                break
            continue
        if ENUMERATOR.match(line):
            items.append(strip_enumerator(line).rstrip("；;。"))
        elif items or (stop_at_label and _LABEL_RE.match(line.strip())):
            break
    return [item for item in items if item]


def _inline_items(value: str) -> list[str]:
    parts = re.split(r"[；;]|\s(?=\d[、.．])|(?<=。)", value)
    return [strip_enumerator(p).rstrip("；;。") for p in parts if strip_enumerator(p).strip()]


def default_year(text: str, fields: DocumentFields) -> int | None:
    if fields.date:
        return int(fields.date[:4])
    for entity in entities.dates(text[:2000]):
        return int(str(entity.value)[:4])
    return None


def _common(text: str, labels: dict, fields: DocumentFields) -> None:
    if "date" in labels:
        for value, _ in labels["date"]:
            found = entities.dates(value)
            if found:
                fields.date = str(found[0].value)
                break
    head = "\n".join(text.split("\n")[:8])
    if fields.date is None:
        found = [e for e in entities.dates(head) if len(str(e.value)) == 10]
        fields.date = str(found[0].value) if found else None
    if "place" in labels:
        fields.place = labels["place"][0][0] or None
    else:
        match = _PROSE_PLACE.search(head)
        fields.place = match.group(1) if match else None
    if "recorder" in labels:
        fields.recorder = first_name(labels["recorder"][0][0])
    year = default_year(text, fields)
    seen_amounts: list[float] = []
    for entity in entities.money(text):
        if entity.value not in seen_amounts:
            seen_amounts.append(float(entity.value))
    fields.amounts = seen_amounts
    fields.dates = sorted({str(e.value) for e in entities.dates(text, year) if len(str(e.value)) == 10})


def minutes_fields(text: str) -> DocumentFields:
    lines = text.split("\n")
    labels = labelled_values(text)
    fields = DocumentFields()
    _common(text, labels, fields)
    if "meeting_name" in labels:
        fields.meeting_name = labels["meeting_name"][0][0] or None
    else:
        for line in lines[:5]:
            title = line.strip()
            if title and re.search(r"会议?|纪要|记录", title) and len(title) <= 50 and "：" not in title:
                name = re.sub(r"(?:记录|纪要|记录表)(?:[（(].*[）)])?$", "", title).strip()
                fields.meeting_name = name or None
                break
    if "chair" in labels:
        fields.chair = first_name(labels["chair"][0][0])
    else:
        match = _PROSE_CHAIR.search(text[:1500])
        if match:
            fields.chair = clean_name(match.group(1) or match.group(2))
    _attendance_table(lines, fields)
    if "attendees" not in labels and not fields.attendees:
        match = _PROSE_ATTENDEES.search(text[:1500])
        if match:
            fields.attendees = names_in(match.group(1))
    for key in ("attendees", "nonvoting", "absentees"):
        for value, _ in labels.get(key, []):
            for name in names_in(value):
                if name not in getattr(fields, key):
                    getattr(fields, key).append(name)
    if "agenda" in labels:
        value, index = labels["agenda"][0]
        fields.agenda = _inline_items(value) if value else []
        fields.agenda += [item for item in numbered_items(lines, index + 1) if item not in fields.agenda]
    else:
        fields.agenda = [m.group(1).strip().rstrip("。；") for m in
                         re.finditer(r"(?m)^\s*议题[一二三四五六七八九十\d]+\s*[：:、]\s*(.+)$", text)]
    fields.decisions = _decisions(lines)
    return fields


_PRESENT = {"是", "出席", "到会", "√", "✓", "参加", "在"}
_ABSENT = {"否", "缺席", "请假", "×", "未到", "未出席"}


def _attendance_table(lines: list[str], fields: DocumentFields) -> None:
    """Attendance kept as a table (姓名 / 出席 columns): present, absent and non-voting people."""
    for index, line in enumerate(lines):
        header = [c.strip() for c in line.split("\t")]
        if "姓名" not in header or not any(re.search("出席|参会|到会|签到|出勤", c) for c in header):
            continue
        name_col = header.index("姓名")
        status_col = next(i for i, c in enumerate(header) if re.search("出席|参会|到会|出勤", c) or c == "签到")
        for row in lines[index + 1:]:
            cells = [c.strip() for c in row.split("\t")]
            if len(cells) <= max(name_col, status_col):
                break
            name, status = clean_name(cells[name_col]), cells[status_col]
            if not name:
                continue
            target = (fields.nonvoting if "列席" in status else fields.absentees if status in _ABSENT
                      else fields.attendees if status in _PRESENT or re.match(r"\d{1,2}:\d{2}", status) else None)
            if target is not None and name not in target:
                target.append(name)
        return


def _decisions(lines: list[str]) -> list[str]:
    decisions: list[str] = []
    for index, line in enumerate(lines):
        match = DECISION_HEADER.search(line)
        if not match:
            continue
        rest = line[match.end():].lstrip("：: ，,")
        items = numbered_items(lines, index + 1, stop_at_label=False)
        if rest and not items:
            decisions.append(rest.rstrip("。；;"))
        elif rest and len(rest) > 4:
            decisions.append(rest.rstrip("。；;"))
        decisions.extend(item for item in items if item not in decisions)
    return decisions


def _reported_from_value(value: str) -> list[ReportedPerson]:
    out = []
    for chunk in re.split(r"[；;]|(?<=[）)])、", value):
        name = first_name(chunk.split("，")[0].split(",")[0]) or first_name(chunk)
        if not name:
            continue
        unit, post = _unit_and_post(chunk.replace(name, "，", 1))
        out.append(ReportedPerson(name, post, unit))
    return out


def _form_unit_and_position(labels: dict, person: ReportedPerson) -> None:
    """A form gives the reported person's unit and post in cells of their own (被举报人单位：…, or
    单位：… 职务：… on the 被反映人 line); a post written out there is kept whole (党委书记、董事长)."""
    line = labels["reported"][0][1]
    own = {key: [v for v, i in labels.get(key, []) if v and (key.startswith("reported") or i == line)]
           for key in ("reported_unit", "reported_position", "unit", "interviewee_position")}
    unit = own["reported_unit"][:1] or own["unit"][:1]  # a bare 单位/职务 cell only on the 被反映人 line
    post = own["reported_position"][:1] or own["interviewee_position"][:1]
    if unit and len(unit[0]) <= 30:
        person.unit = unit[0]
    if post and len(post[0]) <= 20 and not re.search(r"[。；;]", post[0]):
        person.position = post[0]


def _reported_from_text(text: str, complainant: str | None) -> list[ReportedPerson]:
    """Titled names in the sentences that say 举报/反映…; a letter that never says so ("石门乡党委副书记
    孔某某工作作风很成问题") is about the titled people of its first sentences."""
    sentences = [s for s in re.split(r"[。！？\n]", text[:1500]) if s.strip()]
    return (_titled_people([s for s in sentences if re.search(r"举报|反映|检举|控告", s)], complainant)
            or _titled_people(sentences[:6], complainant))


_SUB_BODY = re.compile(r"(?:党支部|党总支|党委|党组|村委会|居委会|村民委员会|[\u4e00-\u9fff]{2}[科股室办])$")
_POST_JOINER = re.compile(r"[、，,]|兼|和|及")


def _unit_and_post(text: str) -> tuple[str | None, str | None]:
    """The unit and the post written before a name ("县中医院药剂科主任" → 县中医院, 药剂科主任;
    "黄泥塘村党支部书记兼村委会主任" → 黄泥塘村, 党支部书记兼村委会主任): the unit is the institution,
    its department or Party body belongs to the post, and posts joined by 、/兼 stay together."""
    titles = entities.positions(text)
    units = entities.organisations(text)
    if not titles:
        return (units[-1].text if units else None), None
    start, end = titles[-1].start, titles[-1].end
    for title in reversed(titles[:-1]):
        if title.end <= start and _POST_JOINER.fullmatch(text[title.end:start]):
            start = title.start
    units = [u for u in units if u.start < start] or entities.organisations(text[:start])  # 第二中学校长
    if not units:
        return None, text[start:end]
    org = units[-1]
    between = text[org.end:start]  # 设备科 in 县人民医院设备科科长
    adjacent = org.end >= start or (len(between) <= 6 and not re.search(r"[，。；、,]", between)
                                    and not any(org.end < t.end <= start for t in titles))
    post = text[org.end:end] if adjacent else text[start:end]
    unit = org.text
    body = _SUB_BODY.search(unit)
    if body and len(unit) - len(body.group(0)) >= 2:
        unit = unit[: body.start()]
        if adjacent:
            post = body.group(0) + post
    elif org.end > start:  # the post's first characters were read as the unit's end
        unit, post = text[org.start:start], text[start:end]
    return (unit if len(unit) >= 2 else None), post


def _titled_people(sentences: list[str], complainant: str | None) -> list[ReportedPerson]:
    out: list[ReportedPerson] = []
    for sentence in sentences:
        for person in entities.persons(sentence):
            before = sentence[max(0, person.start - 24): person.start]
            titles = entities.positions(before)
            if not titles or person.text == complainant or any(p.name == person.text for p in out):
                continue
            title = titles[-1]
            if before[title.end:].strip() not in ("", "同志"):
                continue
            unit, post = _unit_and_post(before[: title.end])
            out.append(ReportedPerson(person.text, post, unit))
    return out


def petition_fields(text: str) -> DocumentFields:
    lines = text.split("\n")
    labels = labelled_values(text)
    fields = DocumentFields()
    _common(text, labels, fields)
    fields.date = None
    if "complainant" in labels:
        value = labels["complainant"][0][0]
        fields.complainant = "匿名" if "匿名" in value or not value else first_name(value) or "匿名"
    else:
        signature = re.search(r"(?:举报人|反映人|署名)\s*[：:]?\s*(\S{2,4})\s*$|^\s*(\S{2,4})\s*\n?\s*\d{4}年", "\n".join(lines[-6:]), re.M)
        name = clean_name(next(g for g in signature.groups() if g)) if signature else None
        fields.complainant = name or "匿名"
    for value, _ in labels.get("reported", []):
        fields.reported.extend(_reported_from_value(value))
    if fields.reported:
        _form_unit_and_position(labels, fields.reported[0])
    else:
        fields.reported = _reported_from_text(text, fields.complainant)
    fields.allegations = _allegations(lines)
    return fields


def _allegations(lines: list[str]) -> list[str]:
    start = 0
    for index, line in enumerate(lines):
        if _ALLEGATION_ZONE.search(line) and index < len(lines) - 1:
            start = index
            break
    items: list[str] = []
    for line in lines[start:]:
        if ENUMERATOR.match(line) and not _LABEL_RE.match(line.strip()):
            for part in _INLINE_ALLEGATION.split(strip_enumerator(line)):
                item = strip_enumerator(part).strip()
                if len(item) >= 6:
                    items.append(item)
    if not items:
        inline = re.split(r"(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十][，,：:])", "\n".join(lines[start:]))
        items = [part.strip() for part in inline[1:] if len(part.strip()) >= 6]
    if not items:
        body = [line for line in lines if len(line) > 20 and re.search(r"举报|反映|收受|侵占|贪|挪用|违规|吃喝|私分|索要|骗取|套取|优亲厚友", line)]
        items = body[:1]
    return items


def interview_fields(text: str) -> DocumentFields:
    labels = labelled_values(text)
    fields = DocumentFields()
    _common(text, labels, fields)
    if "interviewee" in labels:
        value = labels["interviewee"][0][0]
        fields.interviewee = first_name(value)
        inside = re.search(r"[（(]([^）)]+)[）)]", value)
        rest = inside.group(1) if inside else value.split("，", 1)[1] if "，" in value else ""
        if not rest and fields.interviewee and value.startswith(fields.interviewee):
            rest = value[len(fields.interviewee):].strip(" \t，,")  # 冯斌青石镇党委委员 (space lost)
        if rest and entities.positions(rest):
            fields.interviewee_position = rest.strip()
    if fields.interviewee is None:
        match = _PROSE_INTERVIEWEE.search(text[:1500])
        if match:
            fields.interviewee = clean_name(match.group(1) or match.group(3) or "")
            if match.group(2) and entities.positions(match.group(2)):
                fields.interviewee_position = match.group(2)
    if not fields.interviewee_position and "interviewee_position" in labels:
        fields.interviewee_position = labels["interviewee_position"][0][0] or None
    for value, _ in labels.get("interviewers", []):
        fields.interviewers.extend(n for n in names_in(value) if n not in fields.interviewers)
    return fields


EXTRACTORS = {
    DocumentKind.MINUTES: minutes_fields,
    DocumentKind.PETITION: petition_fields,
    DocumentKind.INTERVIEW: interview_fields,
}


def extract_fields(text: str, kind: DocumentKind) -> DocumentFields:
    extractor = EXTRACTORS.get(kind)
    if extractor:
        return extractor(text)
    fields = DocumentFields()
    _common(text, labelled_values(text), fields)
    return fields
