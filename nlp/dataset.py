"""Labelled findings from ``corpora/findings`` and the fixed train/dev split.

The split is a pure function of the text (an MD5 bucket), so it never changes between runs and
no tuning step can move an example from dev into train.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

FINDINGS_DIR = Path(__file__).resolve().parents[1] / "corpora" / "findings"
DEV_BUCKETS = 5  # one bucket in five is dev


@dataclass(frozen=True)
class Example:
    text: str
    items: tuple[str, ...]
    voice: str = "other"
    source: str = ""
    focus: int | None = None
    """三个聚焦 when the text's writer stated it (labels.md); None means "as the primary item's"."""
    discipline: str | None = None
    """Discipline when stated: one of the six, "无" for a shortfall that is no breach; None as above."""

    @property
    def is_finding(self) -> bool:
        return bool(self.items)


def split_of(text: str) -> str:
    digest = hashlib.md5(text.strip().encode("utf-8")).digest()
    return "dev" if digest[0] % DEV_BUCKETS == 0 else "train"


def read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path.name} 第 {number} 行不是合法的 JSON：{error.msg}") from None


def load_examples(directory: Path = FINDINGS_DIR, aliases: dict[str, str] | None = None) -> list[Example]:
    """``aliases`` (merged-away id -> current id; the checklist's by default) renames item ids;
    duplicates after renaming are dropped, unknown ids are kept for the tagger to reject."""
    if aliases is None:
        from nlp.checklist import load_checklist

        aliases = load_checklist().alias_of
    seen: set[str] = set()
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for row in read_jsonl(path):
            text = row["text"].strip()
            if not text or text in seen:
                continue
            seen.add(text)
            items = tuple(row.get("items") or ()) if row.get("is_finding", True) else ()
            items = tuple(dict.fromkeys(aliases.get(i, i) for i in items))
            examples.append(Example(text, items, row.get("voice", "other"), path.stem,
                                    focus=row.get("focus") if items else None,
                                    discipline=_stated_discipline(row) if items else None))
    return examples


def _stated_discipline(row: dict) -> str | None:
    """A JSON null is a stated "no breach" (无); a missing key leaves it to the item."""
    if "discipline" not in row:
        return None
    return row["discipline"] or "无"


def train_dev(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if split_of(e.text) == "train"]
    dev = [e for e in examples if split_of(e.text) == "dev"]
    return train, dev
