"""The negative checklist (负面清单): schema-validated items loaded from ``corpora/checklist``."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable, Literal

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

CHECKLIST_DIR = Path(__file__).resolve().parents[1] / "corpora" / "checklist"
Head = Literal["党的领导弱化", "党的建设缺失", "全面从严治党不力"]
Discipline = Literal["政治纪律", "组织纪律", "廉洁纪律", "群众纪律", "工作纪律", "生活纪律", "无"]
SLOTS = ("{单位}", "{时间}", "{金额}", "{人员职务}", "{项目}", "{会议}")
_SLOT = re.compile(r"\{([^{}]+)\}")
_ITEM_ID = re.compile(r"^[ABC]\d-\d{2}$")


class Basis(BaseModel):
    regulation: str = Field(min_length=2)
    article: str | None = None
    chapter: str | None = None

    def cite(self) -> str:
        return self.regulation + (self.article or (self.chapter.split()[0] if self.chapter else ""))


class ChecklistItem(BaseModel):
    id: str = Field(pattern=r"^[ABC]\d-\d{2}$")
    group: str
    title: str = Field(min_length=4, max_length=30)
    manifestations: list[str] = Field(min_length=1)
    check_points: list[str] = Field(min_length=1)
    head: Head
    focus: int = Field(ge=1, le=4)
    discipline: Discipline
    basis: list[Basis] = Field(min_length=1)
    eight_rules_category: str | None = None
    keywords: list[str] = Field(min_length=2)
    synonyms: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    unit_types: list[str] = Field(default_factory=list)
    wordings: list[str] = Field(min_length=2, max_length=3)
    rectification: str = Field(min_length=6)
    aliases: list[str] = Field(default_factory=list)
    """Ids of items merged into this one; data and stored tags naming them mean this item."""

    @field_validator("aliases")
    @classmethod
    def _alias_ids(cls, aliases: list[str]) -> list[str]:
        bad = [a for a in aliases if not _ITEM_ID.match(a)]
        if bad:
            raise ValueError(f"malformed alias id(s): {bad}")
        return aliases

    @field_validator("wordings")
    @classmethod
    def _known_slots(cls, wordings: list[str]) -> list[str]:
        for wording in wordings:
            unknown = {f"{{{s}}}" for s in _SLOT.findall(wording)} - set(SLOTS)
            if unknown:
                raise ValueError(f"unknown slot(s) {sorted(unknown)} in wording: {wording}")
        return wordings

    @model_validator(mode="after")
    def _group_matches_id(self) -> ChecklistItem:
        if not self.id.startswith(self.group + "-"):
            raise ValueError(f"item {self.id} is filed under group {self.group}")
        return self

    @property
    def phrases(self) -> list[str]:
        """The short texts that each describe the item (title, manifestations, synonyms): its
        semantic prototype is their mean vector."""
        return [self.title, *self.manifestations, *self.synonyms]

    @property
    def description(self) -> str:
        """Text that describes the item, used for lexical and semantic prototypes."""
        return "；".join([self.title, *self.manifestations])

    def fill_wording(self, index: int = 0, **slots: str) -> str:
        """A wording with slots filled from ``slots`` (keys 单位/时间/金额/人员职务); unknown slots kept."""
        wording = self.wordings[index]
        for key, value in slots.items():
            if value:
                wording = wording.replace("{" + key + "}", value)
        return wording


class Group(BaseModel):
    name: str
    head: Head
    focus: int


class Checklist(BaseModel):
    version: str
    focus: dict[int, str]
    disciplines: list[str]
    groups: dict[str, Group]
    items: list[ChecklistItem]

    @model_validator(mode="after")
    def _consistent(self) -> Checklist:
        duplicates = [i for i, n in Counter(item.id for item in self.items).items() if n > 1]
        if duplicates:
            raise ValueError(f"duplicate item ids: {duplicates}")
        unknown = {item.group for item in self.items} - set(self.groups)
        if unknown:
            raise ValueError(f"items in unknown groups: {sorted(unknown)}")
        ids = {item.id for item in self.items}
        aliases = Counter(a for item in self.items for a in item.aliases)
        clashes = sorted(a for a, n in aliases.items() if n > 1 or a in ids)
        if clashes:
            raise ValueError(f"alias ids that are item ids or aliases of two items: {clashes}")
        return self

    @cached_property
    def by_id(self) -> dict[str, ChecklistItem]:
        """Current items by id (aliases excluded: use ``resolve``/``get`` for ids read from data)."""
        return {item.id: item for item in self.items}

    @cached_property
    def alias_of(self) -> dict[str, str]:
        """Merged-away id -> id of the item that absorbed it."""
        return {alias: item.id for item in self.items for alias in item.aliases}

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self.resolve_or_none(item_id) is not None

    def resolve(self, item_id: str) -> str:
        """The current id for ``item_id`` (itself, or the item an alias was merged into).
        Every id read from data, the database or a user goes through here."""
        item_id = item_id.strip().upper() if isinstance(item_id, str) else item_id
        if item_id in self.by_id:
            return item_id
        try:
            return self.alias_of[item_id]
        except KeyError:
            raise KeyError(f"负面清单中没有编号为 {item_id} 的条目") from None

    def resolve_all(self, item_ids: Iterable[str], strict: bool = True) -> list[str]:
        """Ids mapped through ``resolve``, order kept, duplicates after mapping dropped; unknown ids
        raise (``strict``) or are skipped."""
        out: dict[str, None] = {}
        for item_id in item_ids:
            if strict or self.resolve_or_none(item_id) is not None:
                out[self.resolve(item_id)] = None
        return list(out)

    def resolve_or_none(self, item_id: str) -> str | None:
        try:
            return self.resolve(item_id)
        except KeyError:
            return None

    def get(self, item_id: str) -> ChecklistItem:
        return self.by_id[self.resolve(item_id)]

    def search(self, text: str, limit: int = 10, group: str | None = None) -> list[ChecklistItem]:
        """The best ``limit`` items for ``text`` (see ``ranked``), optionally only those of ``group``."""
        return [item for item, _ in self.ranked(text, group)[:limit]]

    def ranked(self, text: str, group: str | None = None) -> list[tuple[ChecklistItem, float]]:
        """Items matching ``text``, best first, with their scores.

        An item scores for each field that contains the query — title, keywords, synonyms,
        manifestations, weighted in that order — and half that when one of its keywords or synonyms
        is contained in a longer query. BM25 over character bigrams breaks ties (it adds at most 1).
        An item with no field hit is kept only when its bigrams cover at least half of the query's
        (idf-weighted): sharing a character or two with the query is not a match. An item id or a
        merged item's old id finds that item. ``group`` filters the ranked result."""
        query = re.sub(r"\s+", "", text or "")
        if len(query) < 2:  # one character is in half the checklist
            return []
        if query.upper() in self:
            hits = [(self.get(query), float("inf"))]
        else:
            index = self.search_index
            words = [w for w in dict.fromkeys(_bigrams(query)) if w in index.idf]
            weight = sum(index.idf[w] for w in words)
            hits = []
            for position, item in enumerate(self.items):
                score = 0.0
                for field, value in _FIELD_WEIGHTS:
                    texts = [item.title] if field == "title" else getattr(item, field)
                    if field == "keywords" and item.eight_rules_category:
                        texts = [*texts, item.eight_rules_category]
                    if any(query in t for t in texts):
                        score += value
                    elif field in ("keywords", "synonyms") and any(len(t) >= 2 and t in query for t in texts):
                        score += value / 2
                counts, length = index.counts[position], index.lengths[position]
                covered = sum(index.idf[w] for w in words if w in counts)
                needed = MIN_COVERAGE if len(words) <= LONG_QUERY else MIN_COVERAGE_LONG
                if score == 0 and (not weight or covered / weight < needed):
                    continue
                bm25 = sum(index.idf[w] * counts[w] * (BM25_K1 + 1)
                           / (counts[w] + BM25_K1 * (1 - BM25_B + BM25_B * length / index.mean_length))
                           for w in words if w in counts)
                hits.append((item, score, bm25))
            top = max((h[2] for h in hits), default=0.0) or 1.0
            hits = [(item, score + bm25 / top) for item, score, bm25 in hits]
            hits.sort(key=lambda h: -h[1])
        if group:
            hits = [h for h in hits if h[0].group == group.strip().upper()]
        return hits

    @cached_property
    def search_index(self) -> _SearchIndex:
        docs = [Counter(_bigrams("".join([item.title, *item.keywords, *item.synonyms, *item.manifestations])))
                for item in self.items]
        frequency = Counter(w for doc in docs for w in doc)
        n = len(docs)
        idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in frequency.items()}
        lengths = [sum(doc.values()) for doc in docs]
        return _SearchIndex(docs, lengths, sum(lengths) / max(n, 1), idf)


_FIELD_WEIGHTS = (("title", 4.0), ("keywords", 3.0), ("synonyms", 2.5), ("manifestations", 1.5))
MIN_COVERAGE, MIN_COVERAGE_LONG, LONG_QUERY = 0.5, 0.3, 8  # share of the query's bigrams (idf-weighted)
BM25_K1, BM25_B = 1.2, 0.75


@dataclass(frozen=True)
class _SearchIndex:
    counts: list[Counter]
    lengths: list[int]
    mean_length: float
    idf: dict[str, float]


_NOT_WORD = re.compile(r"[\s\d\W_]+")


def _bigrams(text: str) -> list[str]:
    """Character bigrams within runs of letters (punctuation, digits and spaces split runs)."""
    return [run[i:i + 2] for run in _NOT_WORD.split(text) for i in range(len(run) - 1)]


def load_checklist(directory: Path = CHECKLIST_DIR) -> Checklist:
    meta = yaml.safe_load((directory / "meta.yaml").read_text(encoding="utf-8"))
    items = []
    for path in sorted(directory.glob("items_*.yaml")):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
    return Checklist(version=meta["version"], focus=meta["focus"], disciplines=meta["disciplines"],
                     groups=meta["groups"], items=items)
