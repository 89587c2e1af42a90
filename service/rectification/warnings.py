"""Deadline warnings (红黄绿灯预警) for rectification tasks, with an injectable clock.

By days left to the deadline: red when fewer than ``red`` days remain (0: overdue), yellow at most
``yellow`` days left, green at most ``green`` days left, none before that; a closed (已销号) task
carries no warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

Clock = Callable[[], date]
WARNINGS = ("green", "yellow", "red")
WARNING_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}


def system_today() -> date:
    """Today on the server's local calendar (deadlines are calendar days)."""
    return date.today()


@dataclass(frozen=True)
class Thresholds:
    green: int = 20
    yellow: int = 10
    red: int = 0

    @classmethod
    def from_settings(cls, settings) -> Thresholds:
        return cls(settings.rectification_green_days, settings.rectification_yellow_days,
                   settings.rectification_red_days)


def days_left(deadline: date, today: date) -> int:
    return (deadline - today).days


def warning(deadline: date, status: str, today: date, thresholds: Thresholds = Thresholds()) -> str | None:
    if status == "closed":
        return None
    left = days_left(deadline, today)
    if left < thresholds.red:
        return "red"
    if left <= thresholds.yellow:
        return "yellow"
    if left <= thresholds.green:
        return "green"
    return None
