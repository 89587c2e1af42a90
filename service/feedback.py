"""Reviewer feedback on tags: recording verdicts and turning them into training examples."""

from __future__ import annotations

from datetime import datetime

from nlp.dataset import Example
from service.settings import Settings
from service.storage import Repository

ACTIONS = {"confirm": "确认", "reject": "否定", "correct": "更正"}


class FeedbackError(ValueError):
    pass


def record(repository: Repository, finding_id: int, action: str, reviewer: str,
           items: list[str] | None = None, known_items: set[str] | None = None) -> int:
    """Store a verdict on a stored finding. ``confirm`` keeps its current tags, ``correct`` replaces
    them with ``items``, ``reject`` says the text is not a finding."""
    if action not in ACTIONS:
        raise FeedbackError(f"未知的审核操作：{action}（可选：confirm、reject、correct）")
    finding = repository.get_finding(finding_id)
    if finding is None:
        raise FeedbackError(f"没有编号为 {finding_id} 的候选问题")
    if action == "confirm":
        items = list((finding.tags or {}).get("labels") or [])
        if not items:
            raise FeedbackError("该候选问题没有可确认的标签，请使用“更正”并给出清单条目")
    elif action == "correct":
        if not items:
            raise FeedbackError("更正时必须给出至少一个负面清单条目编号")
        unknown = [i for i in items if known_items is not None and i not in known_items]
        if unknown:
            raise FeedbackError(f"负面清单中没有这些条目：{'、'.join(unknown)}")
    else:
        items = []
    return repository.add_feedback(finding_id, finding.text, action, items, reviewer)


def training_examples(settings: Settings) -> list[Example]:
    """The latest verdict per reviewed text, as examples (never part of the dev split)."""
    if settings.db_url.startswith("sqlite:///") and not (settings.home / "xuncha.db").exists() \
            and settings.database_url is None:
        return []
    from service import context

    latest: dict[str, tuple[datetime, list[str]]] = {}
    for row in context.repository(settings).list_feedback():
        latest[row.text] = (row.created_at, row.items)
    return [Example(text, tuple(items), "feedback", "feedback") for text, (_, items) in sorted(latest.items())]
