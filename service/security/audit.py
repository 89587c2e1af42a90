"""The append-only audit log: who did what to which object, from where, with what outcome.

Only ids are recorded — never document text, file names, search terms or complainant names.
There is deliberately no update or delete here; database triggers refuse both as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from service.storage.security_models import AuditEntry

OUTCOMES = ("ok", "denied", "not_found", "failed", "invalid")


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    user_name: str | None
    action: str
    object_type: str | None
    object_id: str | None
    inspection_id: int | None
    client: str | None
    outcome: str


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def append(self, action: str, outcome: str, *, user_id: int | None = None, user_name: str | None = None,
               object_type: str | None = None, object_id: object = None, inspection_id: int | None = None,
               client: str | None = None) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        with self._sessions.begin() as session:
            session.add(AuditEntry(user_id=user_id, user_name=user_name, action=action, object_type=object_type,
                                   object_id=None if object_id is None else str(object_id)[:64],
                                   inspection_id=inspection_id, client=(client or "")[:64] or None,
                                   outcome=outcome))

    def entries(self, user_name: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest ``limit`` entries (optionally of one user), newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if user_name is not None:
            query = query.where(AuditEntry.user_name == user_name)
        with self._sessions() as session:
            return [AuditRecord(r.id, r.at, r.user_name, r.action, r.object_type, r.object_id, r.inspection_id,
                                r.client, r.outcome) for r in session.scalars(query)]
