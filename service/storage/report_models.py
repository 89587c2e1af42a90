"""Report drafts (问题清单初稿): one current draft per inspection, one problem per checklist item.

A problem keeps what the machine proposed (``generated_wording``, ``alternatives``, ``evidence``) next
to what a report writer decided (``wording``, ``included``); the ``*_edited`` flags say which of the
two a rebuild must keep.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.storage.models import Base, utcnow


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))


class ReportProblem(Base):
    __tablename__ = "report_problems"
    __table_args__ = (UniqueConstraint("report_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(10))
    focus: Mapped[int] = mapped_column(Integer)
    wording: Mapped[str] = mapped_column(Text)
    generated_wording: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list] = mapped_column(JSON, default=list)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    included: Mapped[bool] = mapped_column(Boolean, default=True)
    wording_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    included_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_by: Mapped[str | None] = mapped_column(String(100))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
