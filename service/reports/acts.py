"""Acts (同一人同一事): which findings of a round describe the same act, and which documents are one.

Two findings are one act when they name the same person *and* share a concrete anchor — an amount,
a date, a project — or at least two objects (补偿款, 账户…); or when their texts are near-identical
(the same sentence in the PDF and the DOCX of one interview). Generic sentences with no shared
anchor are never merged, however similar they sound. Within one document, sentences about the same
person under the same checklist item are one act told in several sentences. Near-identical documents count once as a source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from nlp import lexicon
from service.reports.wording import PROJECT, persons_of, roles
from service.storage.records import DocumentDetail, FindingRecord

SAME_TEXT = 0.85  # Jaccard of character bigrams: the same text through two extractors
SHARED_OBJECTS = 2
_GENERIC = {"问题", "工作", "情况", "群众", "干部", "单位", "方面", "时候", "事情", "领导", "村里", "镇里", "部分",
            "相关", "有关", "规定", "要求", "制度", "落实", "管理", "人员", "同志", "材料", "反映", "情况下"}
_OBJECT_FLAGS = {"n", "nz", "vn", "nrt", "nw"}
_NOT_TEXT = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class ActKey:
    persons: frozenset[str]
    anchors: frozenset[tuple[str, str]]
    objects: frozenset[str]
    shingles: frozenset[str]
    document_id: int = 0
    items: frozenset[str] = frozenset()


def shingles(text: str) -> frozenset[str]:
    text = _NOT_TEXT.sub("", text)
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def near_identical(a: frozenset[str], b: frozenset[str], threshold: float = SAME_TEXT) -> bool:
    if len(a) < 6 or len(b) < 6:
        return False
    return len(a & b) / len(a | b) >= threshold


def act_key(finding: FindingRecord, document: DocumentDetail | None, known: frozenset[str] = frozenset(),
            items: Sequence[str] = ()) -> ActKey:
    """``known``: names of the round's persons, counted when the text names them (the entity
    recogniser may miss a name in one sentence that it found in another)."""
    anchors = {("money", str(float(e["value"]))) for e in finding.entities if e["label"] == "money"}
    anchors |= {("date", str(e["value"])) for e in finding.entities if e["label"] == "date"}
    anchors |= {("project", m.group(0)) for m in PROJECT.finditer(finding.text)}
    objects = {w for w, flag, _ in lexicon.tagged_words(finding.text)
               if flag in _OBJECT_FLAGS and len(w) >= 2 and w not in _GENERIC}
    persons = set(persons_of(finding, document)) | {n for n in known if n in finding.text}
    return ActKey(frozenset(persons - roles(document)), frozenset(anchors), frozenset(objects), shingles(finding.text),
                  finding.document_id, frozenset(items))


def same_act(a: ActKey, b: ActKey) -> bool:
    if near_identical(a.shingles, b.shingles):
        return True
    if not a.persons & b.persons:
        return False
    if a.document_id == b.document_id and a.items & b.items:  # one document telling one act in several sentences
        return True
    return bool(a.anchors & b.anchors) or len(a.objects & b.objects) >= SHARED_OBJECTS


def group(keys: Sequence[ActKey]) -> list[list[int]]:
    """Indexes of ``keys`` grouped into acts (transitively), each group in input order."""
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if root(i) != root(j) and same_act(keys[i], keys[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(keys)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def document_groups(texts: dict[int, str]) -> dict[int, int]:
    """Each document id mapped to the first of the near-identical documents (one source in two formats)."""
    ids = sorted(texts)
    found = {i: shingles(texts[i]) for i in ids}
    out: dict[int, int] = {}
    for n, i in enumerate(ids):
        out[i] = next((out[j] for j in ids[:n] if near_identical(found[i], found[j])), i)
    return out


def source_count(document_ids: Sequence[int], groups: dict[int, int]) -> int:
    return len({groups.get(d, d) for d in document_ids})
