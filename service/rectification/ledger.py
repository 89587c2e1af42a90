"""The rectification ledger's rules: finalising a report into tasks, editing, evidence, 销号.

Status flow: 未启动 (not_started) ⇄ 整改中 (in_progress) → 待销号 (pending_closure, needs at least
one evidence document) → 已销号 (closed, approved by a user of an approver role who is not the one
who asked for it). A rejected request goes back to 整改中. A closed task no longer changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import Engine

from service.rectification.store import NewTask, RectificationStore, TaskRecord
from service.rectification.warnings import Clock, Thresholds, days_left, system_today, warning
from service.storage.models import utcnow

STATUSES = ("not_started", "in_progress", "pending_closure", "closed")
STATUS_LABELS = {"not_started": "未启动", "in_progress": "整改中", "pending_closure": "待销号", "closed": "已销号"}
MANUAL_STATUSES = ("not_started", "in_progress")
"""Statuses a writer sets by editing; 待销号 and 已销号 have actions of their own."""


class RuleError(Exception):
    """A request the ledger's rules refuse: ``status`` is the HTTP status, ``message`` is Chinese."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Approver:
    name: str
    role: str


@dataclass
class Entry:
    """A task as shown: the stored record with its days left and warning on ``today``."""

    task: TaskRecord
    days_left: int
    warning: str | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.task.status]


def tasks_from_report(document, unit: str | None, deadline: date) -> list[NewTask]:
    """One task per problem included in the report (``service.reports.outline.ReportDocument``);
    the measures start from the checklist item's rectification text."""
    return [NewTask(problem.id, item.item_id, section.focus, problem.wording, item.rectification or "", unit, deadline)
            for section in document.sections for item in section.items for problem in item.problems]


class Ledger:
    def __init__(self, engine: Engine, thresholds: Thresholds = Thresholds(), clock: Clock = system_today,
                 approver_roles: tuple[str, ...] = ("admin",), default_days: int = 60) -> None:
        self.store = RectificationStore(engine)
        self.thresholds, self.clock = thresholds, clock
        self.approver_roles, self.default_days = approver_roles, default_days

    @classmethod
    def from_settings(cls, engine: Engine, settings, clock: Clock = system_today) -> Ledger:
        roles = tuple(r.strip() for r in settings.rectification_approver_roles.split(",") if r.strip())
        return cls(engine, Thresholds.from_settings(settings), clock, roles, settings.rectification_days)

    def entry(self, task: TaskRecord, today: date | None = None) -> Entry:
        today = today or self.clock()
        return Entry(task, days_left(task.deadline, today), warning(task.deadline, task.status, today, self.thresholds))

    def entries(self, inspection_id: int) -> list[Entry]:
        today = self.clock()
        return [self.entry(t, today) for t in self.store.tasks(inspection_id)]

    def finalise(self, inspection_id: int, document, unit: str | None, by: str | None,
                 deadline: date | None = None) -> tuple[list[int], list[int]]:
        """Turn the report's included problems into tasks; returns (added, kept) task ids."""
        deadline = deadline or self.clock() + timedelta(days=self.default_days)
        tasks = tasks_from_report(document, unit, deadline)
        if not tasks:
            raise RuleError(409, "empty_report", "报告初稿中没有纳入清单的问题，无法生成整改台账")
        return self.store.finalise(inspection_id, tasks, by)

    def _open(self, task_id: int) -> TaskRecord:
        task = self.store.get(task_id)
        if task is None:
            raise RuleError(404, "not_found", "没有找到该整改任务")
        if task.status == "closed":
            raise RuleError(409, "closed", "该整改任务已销号，不能再修改")
        return task

    def edit(self, task_id: int, by: str, changes: dict) -> Entry:
        task = self._open(task_id)
        status = changes.get("status")
        if status is not None and status != task.status:
            if status not in MANUAL_STATUSES:
                raise RuleError(422, "invalid_status", "待销号请用“提交销号”，已销号须经审批")
            if task.status == "pending_closure":
                changes["submitted_by"] = changes["submitted_at"] = None
        if "measures" in changes and not (changes["measures"] or "").strip():
            raise RuleError(422, "invalid_request", "整改措施不能为空")
        return self.entry(self.store.update(task_id, by, **changes))

    def link_evidence(self, task_id: int, document_id: int, by: str) -> Entry:
        task = self._open(task_id)
        self.store.link_evidence(task_id, document_id, by)
        if task.status == "not_started":  # evidence means work has started
            return self.entry(self.store.update(task_id, by, status="in_progress"))
        return self.entry(self.store.get(task_id))

    def submit(self, task_id: int, by: str) -> Entry:
        task = self._open(task_id)
        if task.status == "pending_closure":
            raise RuleError(409, "already_submitted", "该整改任务已提交销号，等待审批")
        if not task.evidence:
            raise RuleError(409, "no_evidence", "销号须先上传佐证材料")
        return self.entry(self.store.update(task_id, by, status="pending_closure", submitted_by=by,
                                            submitted_at=utcnow()))

    def _decide(self, task_id: int, approver: Approver) -> TaskRecord:
        task = self._open(task_id)
        if approver.role not in self.approver_roles:
            raise RuleError(403, "forbidden", "当前角色不能审批销号")
        if task.status != "pending_closure":
            raise RuleError(409, "not_submitted", "该整改任务尚未提交销号")
        if approver.name == task.submitted_by:
            raise RuleError(403, "same_user", "销号须由提交人以外的人员审批")
        if not task.evidence:
            raise RuleError(409, "no_evidence", "销号须先上传佐证材料")
        return task

    def approve(self, task_id: int, approver: Approver) -> Entry:
        self._decide(task_id, approver)
        return self.entry(self.store.update(task_id, approver.name, status="closed", approved_by=approver.name,
                                            approved_at=utcnow()))

    def reject(self, task_id: int, approver: Approver) -> Entry:
        """Send a 销号 request back (整改中): the evidence does not yet show the problem is fixed."""
        self._decide(task_id, approver)
        return self.entry(self.store.update(task_id, approver.name, status="in_progress", submitted_by=None,
                                            submitted_at=None))
