"""Matching a new round's finding to the problems an earlier round of the same unit reported (回头看).

A new finding repeats an earlier problem when both fall under the same checklist item (aliases
resolved) and either their texts are close in e5 space or they share a concrete anchor (the same
person, project, amount or dated day); a finding under another item repeats it only when the texts
are nearly the same. The two similarity thresholds were chosen on half of the labelled pairs in
``corpora/eval/recheck/pairs.jsonl`` and are reported on the other half by ``bench/recheck.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from nlp import entities
from service.reports.wording import PROJECT

SAME_ITEM_SIMILARITY = 0.89
"""e5 cosine from which a finding under the same item repeats the earlier problem (bench/recheck.py)."""
ANY_ITEM_SIMILARITY = 0.94
"""e5 cosine from which a finding repeats it whatever its item (tagger or reviewer chose a neighbour)."""
_BEFORE_NAME = re.compile("[在对把将从于为给向的了和与及]")
ANCHOR_LABELS = {"person": "人员", "project": "项目", "money": "金额", "date": "日期"}


@dataclass(frozen=True)
class Anchor:
    kind: str
    value: str
    text: str
    """How it is shown in a reason (the words of the text that named it)."""

    def describe(self) -> str:
        return f"{ANCHOR_LABELS[self.kind]}“{self.text}”"


def text_anchors(text: str, persons: Iterable[str] = ()) -> set[Anchor]:
    """Persons, projects, amounts and dates (to the month or day: a bare year is no anchor) named in ``text``;
    ``persons`` adds names found elsewhere (a finding's stored entities, a petition's reported person)."""
    found: set[Anchor] = set()
    for entity in entities.extract(text):
        if entity.label == "money" and entity.value:
            found.add(Anchor("money", str(float(entity.value)), entity.text))
        elif entity.label == "date" and entity.value and len(str(entity.value)) >= 7:
            found.add(Anchor("date", str(entity.value), entity.text))
        elif entity.label == "person" and len(entity.text) >= 2:
            found.add(Anchor("person", entity.text, entity.text))
    for name in persons:
        if len(name) >= 2:
            found.add(Anchor("person", name, name))
    for match in PROJECT.finditer(text):
        name = _BEFORE_NAME.split(match.group(0))[-1]  # "李建华在镇文化广场建设项目" → "镇文化广场建设项目"
        if len(name) >= 4:
            found.add(Anchor("project", name, name))
    return found


def shared(a: Iterable[Anchor], b: Iterable[Anchor]) -> list[Anchor]:
    """Anchors of ``a`` whose kind and value ``b`` also names, one per (kind, value)."""
    keys = {(x.kind, x.value) for x in b}
    out: dict[tuple[str, str], Anchor] = {}
    for anchor in sorted(a, key=lambda x: (x.kind, x.value)):
        if (anchor.kind, anchor.value) in keys:
            out.setdefault((anchor.kind, anchor.value), anchor)
    return list(out.values())


@dataclass(frozen=True)
class Thresholds:
    same_item: float = SAME_ITEM_SIMILARITY
    any_item: float = ANY_ITEM_SIMILARITY


@dataclass
class Verdict:
    repeat: bool
    same_item: bool
    similarity: float
    anchors: list[Anchor]

    @property
    def rank(self) -> tuple:
        return self.repeat, self.same_item, len(self.anchors), self.similarity


def decide(same_item: bool, similarity: float, anchors: Sequence[Anchor],
           thresholds: Thresholds = Thresholds()) -> Verdict:
    repeat = (same_item and (similarity >= thresholds.same_item or bool(anchors))) or similarity >= thresholds.any_item
    return Verdict(repeat, same_item, similarity, list(anchors))


def reason(verdict: Verdict, item_id: str, item_title: str, thresholds: Thresholds = Thresholds()) -> str:
    """Why a finding was matched to (or not matched by) the earlier problem, in Chinese."""
    limit = thresholds.same_item if verdict.same_item else thresholds.any_item
    which = "同条目阈值" if verdict.same_item else "跨条目阈值"
    relation = "达到" if verdict.similarity >= limit else "低于"
    parts = [f"清单条目{'相同' if verdict.same_item else '不同'}（上轮 {item_id} {item_title}）",
             f"文本相似度 {verdict.similarity:.3f}，{relation}{which} {limit:.2f}"]
    if verdict.anchors:
        parts.append("共同要素：" + "、".join(a.describe() for a in verdict.anchors)
                     + ("（同条目且有共同要素，认定为同一问题）" if verdict.same_item and relation == "低于" else ""))
    else:
        parts.append("无共同的人员、项目、金额或日期")
    return "；".join(parts)
