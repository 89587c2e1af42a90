"""Rectification ledger (整改台账): finalising a round's report turns each included problem into a
task with 责任单位, 责任人, 整改措施, 完成时限 and a status (未启动/整改中/待销号/已销号); evidence
documents and an approver close it (销号); deadlines raise green/yellow/red warnings."""

from __future__ import annotations

from service.rectification.ledger import STATUS_LABELS, STATUSES, Approver, Entry, Ledger, RuleError
from service.rectification.store import RectificationStore, TaskRecord
from service.rectification.warnings import WARNING_LABELS, Thresholds, system_today, warning

__all__ = ["Approver", "Entry", "Ledger", "RectificationStore", "RuleError", "STATUSES", "STATUS_LABELS",
           "TaskRecord", "Thresholds", "WARNING_LABELS", "system_today", "warning"]
