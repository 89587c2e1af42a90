"""Rectification ledger tables (整改台账): one ledger per finalised round, one task per included problem,
and the evidence documents (佐证材料) linked to a task.

A task keeps a snapshot of its problem (item, focus, wording) from the moment the report was
finalised: later report rebuilds never rewrite what the inspected unit was asked to rectify.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.storage.models import Base, utcnow


class RectificationLedger(Base):
    __tablename__ = "rectification_ledgers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), unique=True)
    finalised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finalised_by: Mapped[str | None] = mapped_column(String(100))


class RectificationTask(Base):
    __tablename__ = "rectification_tasks"
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    problem_id: Mapped[int | None] = mapped_column(Integer)
    """The report problem it came from (not a foreign key: report rebuilds may drop that row)."""
    item_id: Mapped[str] = mapped_column(String(10))
    focus: Mapped[int] = mapped_column(Integer)
    problem: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(200))
    person: Mapped[str | None] = mapped_column(String(100))
    measures: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    """Who asked for 销号 (the approver must be someone else)."""
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RectificationEvidence(Base):
    __tablename__ = "rectification_evidence"
    __table_args__ = (UniqueConstraint("task_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("rectification_tasks.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    added_by: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
