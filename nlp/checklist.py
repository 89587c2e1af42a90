"""The negative checklist (负面清单): schema-validated items loaded from ``corpora/checklist``."""

from __future__ import annotations

import re
from collections import Counter
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

    def search(self, text: str, limit: int = 10) -> list[ChecklistItem]:
        """Items whose title, keywords, synonyms or manifestations share most characters with ``text``."""
        query = set(text)

        def score(item: ChecklistItem) -> float:
            fields = [item.title, *item.keywords, *item.synonyms, *item.manifestations]
            exact = sum(3.0 for f in fields if text in f or f in text)
            overlap = max(len(query & set(f)) / max(len(query), 1) for f in fields)
            return exact + overlap

        ranked = sorted(self.items, key=score, reverse=True)
        return [item for item in ranked[:limit] if score(item) > 0.3]


def load_checklist(directory: Path = CHECKLIST_DIR) -> Checklist:
    meta = yaml.safe_load((directory / "meta.yaml").read_text(encoding="utf-8"))
    items = []
    for path in sorted(directory.glob("items_*.yaml")):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
    return Checklist(version=meta["version"], focus=meta["focus"], disciplines=meta["disciplines"],
                     groups=meta["groups"], items=items)
