"""Which inspection (and so which team) owns a document, finding or job — cheap lookups for access checks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from service.storage import models
from service.storage.job_models import Job


@dataclass(frozen=True)
class Owner:
    inspection_id: int
    team: str
    document_id: int | None = None


class Scopes:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine)

    def _one(self, query) -> Owner | None:
        with self._sessions() as session:
            row = session.execute(query).first()
        return Owner(*row) if row else None

    def inspection(self, inspection_id: int) -> Owner | None:
        return self._one(select(models.Inspection.id, models.Inspection.team)
                         .where(models.Inspection.id == inspection_id))

    def document(self, document_id: int) -> Owner | None:
        return self._one(select(models.Inspection.id, models.Inspection.team, models.Document.id)
                         .join(models.Document).where(models.Document.id == document_id))

    def finding(self, finding_id: int) -> Owner | None:
        return self._one(select(models.Inspection.id, models.Inspection.team, models.Document.id)
                         .join(models.Document).join(models.Finding)
                         .where(models.Finding.id == finding_id))

    def job(self, job_id: str) -> Owner | None:
        return self._one(select(models.Inspection.id, models.Inspection.team)
                         .join(Job, Job.inspection_id == models.Inspection.id).where(Job.id == job_id))
