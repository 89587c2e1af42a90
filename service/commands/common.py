"""Console objects and helpers shared by the CLI modules."""

from __future__ import annotations

import json
import sys
from typing import Iterable

from rich.console import Console

console = Console()
err = Console(stderr=True)


def json_default(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, default=json_default, indent=1))


def read_jsonl_stdin() -> Iterable[dict]:
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"标准输入第 {number} 行不是合法的 JSON：{error.msg}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ValueError(f"标准输入第 {number} 行缺少文本字段 text")
        yield row
