"""The ingestion job tables: an upload (``jobs``) and its files (``job_files``), each file scheduled
on its own. File-level state lives here so any executor can pick the next file by a query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.storage.models import Base, utcnow


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), index=True)  # queued | running | done | failed | cancelled
    retryable: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str | None] = mapped_column(String(20))
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[list] = mapped_column(JSON, default=list)
    """Before revision 0010 the files' state; now unused (``job_files`` rows)."""
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set by a cancel request: queued files are cancelled at once, a running one at its next checkpoint."""


class JobFile(Base):
    __tablename__ = "job_files"
    __table_args__ = (UniqueConstraint("job_id", "idx"), Index("ix_job_files_status_team", "status", "team"),
                      Index("ix_job_files_team_started", "team", "started_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    team: Mapped[str] = mapped_column(String(100))
    """The owning inspection's team (copied: the scheduler takes turns between teams)."""
    filename: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(Integer)
    """Estimated work (≈ text pages; an OCR page counts many): smaller files go first within a team."""
    status: Mapped[str] = mapped_column(String(12))  # queued | running | added | duplicate | error | cancelled
    document_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int | None] = mapped_column(Integer)
    """Of those, flagged as suspected problems (revision 0014); None when nothing was tagged."""
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(String(500))
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    worker: Mapped[str | None] = mapped_column(String(64))
    """Who claimed it (thread or worker name)."""
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """A queue worker's hold on a running file, renewed while it works; once past, a redelivered
    task takes the file over (revision 0013). Empty for the in-process threads."""
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
