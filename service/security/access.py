"""Roles and what they may do with a team's inspections.

- ``admin``: everything, every team.
- ``analyst`` (巡察办): reads and searches every team's material; changes nothing.
- ``member``: reads and changes (upload, review, delete) only the inspections of their own team.
"""

from __future__ import annotations

from typing import Protocol

ROLES = ("admin", "analyst", "member")
ROLE_LABELS = {"admin": "管理员", "analyst": "巡察办分析人员", "member": "巡察组成员"}


class HasRole(Protocol):
    role: str
    team: str


def can_read(user: HasRole, team: str) -> bool:
    return user.role in ("admin", "analyst") or (user.role == "member" and user.team == team)


def can_write(user: HasRole, team: str) -> bool:
    return user.role == "admin" or (user.role == "member" and user.team == team)


def visible_team(user: HasRole) -> str | None:
    """The only team whose material ``user`` may see, or None for every team."""
    return None if user.role in ("admin", "analyst") else user.team
