"""Rectification ledger (整改台账): finalise a round's report into tasks, read and edit them, upload
evidence, ask for and approve 销号, export the 三单 and the ledger.

Team-scoped like reports: another team's round or task answers 404; analysts read only. Every change
is audited with ids only — never wording, names or file names.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from service.api import uploads
from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import ApiError, not_found
from service.api.routers.documents import content_disposition
from service.api.routers.reports import XLSX_TYPE, _current, _inspection, unfinished_refusal
from service.api.schemas import ERRORS, ErrorOut
from service.api.services import Services
from service.rectification import Approver, Entry, Ledger, RectificationStore, RuleError, system_today
from service.rectification.evidence import evidence_ingestor, ingest_evidence
from service.rectification.exports import SHEETS, render_xlsx
from service.rectification.warnings import Thresholds
from service.reports.outline import printable, report_document, unfinished
from service.security import UserRecord

router = APIRouter(prefix="/api", tags=["整改台账"])
Status = Literal["not_started", "in_progress", "pending_closure", "closed"]
_RULE_ERRORS = {**ERRORS, **{s: {"model": ErrorOut} for s in (409, 422)}}


class EvidenceOut(BaseModel):
    document_id: int
    filename: str
    kind: str
    added_by: str | None
    added_at: datetime


class TaskOut(BaseModel):
    id: int
    inspection_id: int
    problem_id: int | None = Field(description="来源：报告初稿中的问题编号")
    item_id: str
    focus: int
    problem: str = Field(description="问题表述（反馈定稿时的表述）")
    unit: str | None = Field(description="责任单位")
    person: str | None = Field(description="责任人")
    measures: str = Field(description="整改措施")
    deadline: date = Field(description="完成时限")
    status: Status = Field(description="not_started 未启动 / in_progress 整改中 / pending_closure 待销号 / closed 已销号")
    status_label: str
    days_left: int = Field(description="距完成时限的天数（负数为已逾期）")
    warning: Literal["green", "yellow", "red"] | None = Field(description="预警：绿灯、黄灯、红灯；已销号或时限尚远时为空")
    evidence: list[EvidenceOut] = Field(description="佐证材料（作为“整改佐证材料”类文档入库）")
    updated_at: datetime
    updated_by: str | None
    submitted_by: str | None = Field(description="提交销号的人")
    submitted_at: datetime | None
    approved_by: str | None = Field(description="销号审批人")
    approved_at: datetime | None


class LedgerOut(BaseModel):
    inspection_id: int
    inspection: str
    team: str
    target_unit: str | None
    finalised: bool = Field(description="报告是否已反馈定稿（定稿后生成整改台账）")
    finalised_at: datetime | None
    finalised_by: str | None
    today: date = Field(description="计算剩余天数和预警所用的日期")
    thresholds: dict[str, int] = Field(description="预警阈值（剩余天数）：green、yellow；剩余天数少于 red 时为红灯")
    counts: dict[str, int] = Field(description="各状态和各预警的任务数")
    tasks: list[TaskOut]


class FinaliseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline: date | None = Field(None, description="各任务的完成时限（默认定稿日起 XUNCHA_RECTIFICATION_DAYS 天）")


class TaskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str | None = Field(None, max_length=200, description="责任单位")
    person: str | None = Field(None, max_length=100, description="责任人")
    measures: str | None = Field(None, max_length=4000, description="整改措施")
    deadline: date | None = Field(None, description="完成时限")
    status: Literal["not_started", "in_progress"] | None = Field(None, description="未启动或整改中")


class EvidenceFileOut(BaseModel):
    filename: str
    status: Literal["added", "duplicate", "error"]
    document_id: int | None
    message: str | None


class EvidenceUploadOut(BaseModel):
    task: TaskOut
    files: list[EvidenceFileOut]


def ledger_of(request: Request, svc: Services) -> Ledger:
    """The ledger with the app's clock (``app.state.rectification_clock``, injectable in tests)."""
    clock = getattr(request.app.state, "rectification_clock", system_today)
    return Ledger.from_settings(svc.repository.engine, svc.settings, clock)


def task_out(entry: Entry) -> dict:
    t = entry.task
    return {"id": t.id, "inspection_id": t.inspection_id, "problem_id": t.problem_id, "item_id": t.item_id,
            "focus": t.focus, "problem": t.problem, "unit": t.unit, "person": t.person, "measures": t.measures,
            "deadline": t.deadline, "status": t.status, "status_label": entry.status_label,
            "days_left": entry.days_left, "warning": entry.warning,
            "evidence": [vars(e) for e in t.evidence], "updated_at": t.updated_at, "updated_by": t.updated_by,
            "submitted_by": t.submitted_by, "submitted_at": t.submitted_at, "approved_by": t.approved_by,
            "approved_at": t.approved_at}


def ledger_out(ledger: Ledger, inspection) -> dict:
    info = ledger.store.ledger(inspection.id)
    entries = ledger.entries(inspection.id)
    counts: dict[str, int] = {}
    for e in entries:
        for key in (e.task.status, e.warning):
            if key:
                counts[key] = counts.get(key, 0) + 1
    t: Thresholds = ledger.thresholds
    return {"inspection_id": inspection.id, "inspection": inspection.name, "team": inspection.team,
            "target_unit": inspection.target_unit, "finalised": info is not None,
            "finalised_at": info.finalised_at if info else None, "finalised_by": info.finalised_by if info else None,
            "today": ledger.clock(), "thresholds": {"green": t.green, "yellow": t.yellow, "red": t.red},
            "counts": counts, "tasks": [task_out(e) for e in entries]}


def _rule(audit: Auditor, action: str, task_id: int, inspection_id: int, error: RuleError) -> ApiError:
    audit(action, "denied" if error.status == 403 else "invalid", object_type="rectification_task",
          object_id=task_id, inspection_id=inspection_id)
    return ApiError(error.status, error.code, error.message)


@router.get("/inspections/{inspection_id}/rectification", response_model=LedgerOut, responses=ERRORS,
            summary="巡察轮次的整改台账（任务、状态、预警）")
def get_ledger(inspection_id: ObjectId, request: Request, user: UserRecord = Depends(current_user),
               audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    inspection = _inspection(svc, user, audit, inspection_id, "rectification.read")
    audit("rectification.read", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return ledger_out(ledger_of(request, svc), inspection)


@router.post("/inspections/{inspection_id}/report/finalise", response_model=LedgerOut,
             responses={**_RULE_ERRORS, 409: {"model": ErrorOut, "description":
                        "没有纳入清单的问题，或纳入的问题表述仍有待补充的内容（加 force=1 仍可定稿）"}},
             summary="报告反馈定稿：把纳入清单的每个问题生成整改任务（再次定稿只补充新问题）")
def finalise(inspection_id: ObjectId, request: Request, body: FinaliseIn | None = Body(None),
             force: bool = Query(False, description="表述中仍有待补充内容时也定稿"),
             user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
             svc: Services = Depends(services)):
    inspection = _inspection(svc, user, audit, inspection_id, "rectification.finalise", write=True)
    ledger = ledger_of(request, svc)
    document = report_document(_current(svc, inspection, user, audit), inspection, svc.checklist, ledger.clock())
    found = unfinished(document)
    if found and not force:
        return unfinished_refusal(found, audit, "rectification.finalise", inspection_id, "定稿")
    try:
        ledger.finalise(inspection_id, document, inspection.target_unit, user.name, body.deadline if body else None)
    except RuleError as error:
        audit("rectification.finalise", "invalid", object_type="inspection", object_id=inspection_id,
              inspection_id=inspection_id)
        raise ApiError(error.status, error.code, error.message) from None
    audit("rectification.finalise", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return ledger_out(ledger, inspection)


def _task(svc: Services, user: UserRecord, audit: Auditor, task_id: int, action: str, write: bool = True):
    return authorize(RectificationStore(svc.repository.engine).owner(task_id), user, audit, action,
                     "rectification_task", task_id, write=write)


@router.patch("/rectification-tasks/{task_id}", response_model=TaskOut, responses=_RULE_ERRORS,
              summary="修改整改任务：责任单位、责任人、整改措施、完成时限、状态（未启动/整改中）")
def edit_task(task_id: ObjectId, request: Request, body: TaskPatch, user: UserRecord = Depends(current_user),
              audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = _task(svc, user, audit, task_id, "rectification.edit")
    changes = {}
    for name, value in body.model_dump(exclude_unset=True).items():
        if name in ("unit", "person"):
            changes[name] = printable(value).strip() or None if value is not None else None
        elif name == "measures":
            changes[name] = printable(value or "").strip()
        elif value is not None:  # deadline and status cannot be emptied
            changes[name] = value
    if not changes:
        audit("rectification.edit", "invalid", object_type="rectification_task", object_id=task_id,
              inspection_id=owner.inspection_id)
        raise ApiError(422, "invalid_request", "请至少修改一项")
    try:
        entry = ledger_of(request, svc).edit(task_id, user.name, changes)
    except RuleError as error:
        raise _rule(audit, "rectification.edit", task_id, owner.inspection_id, error) from None
    audit("rectification.edit", object_type="rectification_task", object_id=task_id, inspection_id=owner.inspection_id)
    return task_out(entry)


@router.post("/rectification-tasks/{task_id}/evidence", response_model=EvidenceUploadOut,
             responses={**_RULE_ERRORS, **{s: {"model": ErrorOut} for s in (400, 413, 415)}},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["files"], "properties": {
                     "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}},
             summary="上传整改佐证材料（作为“整改佐证材料”类文档入库并关联到任务）")
async def upload_evidence(task_id: ObjectId, request: Request, user: UserRecord = Depends(current_user),
                          audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    owner = await run_in_threadpool(_task, svc, user, audit, task_id, "rectification.evidence")
    settings = svc.settings
    staging = settings.uploads_dir / f"evidence-{uuid.uuid4().hex}"
    try:
        staged = await uploads.stage(request, staging, settings.max_file_bytes, settings.max_upload_files)
        for item in staged:
            await run_in_threadpool(uploads.check, item)
        return await run_in_threadpool(_store_evidence, request, svc, user, audit, task_id, owner.inspection_id,
                                       staged)
    except uploads.UploadRejected as error:
        await run_in_threadpool(audit, "rectification.evidence", "invalid", object_type="rectification_task",
                                object_id=task_id, inspection_id=owner.inspection_id)
        raise ApiError(error.status, error.code, error.detail) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _store_evidence(request: Request, svc: Services, user: UserRecord, audit: Auditor, task_id: int,
                    inspection_id: int, staged: list[uploads.StagedFile]) -> dict:
    ledger = ledger_of(request, svc)
    task = ledger.store.get(task_id)
    if task is None:
        raise not_found("rectification_task")
    if task.status == "closed":
        raise _rule(audit, "rectification.evidence", task_id, inspection_id,
                    RuleError(409, "closed", "该整改任务已销号，不能再修改"))
    ingestor = evidence_ingestor(svc.repository, svc.originals, svc.settings)
    files, entry = [], None
    for item in staged:
        result = ingest_evidence(ingestor, item.path.read_bytes(), item.filename, inspection_id)
        files.append({"filename": item.filename, "status": result.status, "document_id": result.document_id,
                      "message": result.message if result.status == "error" else None})
        if result.document_id is not None:
            entry = ledger.link_evidence(task_id, result.document_id, user.name)
            audit("rectification.evidence", object_type="document", object_id=result.document_id,
                  inspection_id=inspection_id)
    if entry is None:
        audit("rectification.evidence", "failed", object_type="rectification_task", object_id=task_id,
              inspection_id=inspection_id)
        raise ApiError(422, "evidence_failed", "佐证材料均未能导入：" + "；".join(
            f"{f['filename']}：{f['message']}" for f in files))
    audit("rectification.evidence", object_type="rectification_task", object_id=task_id, inspection_id=inspection_id)
    return {"task": task_out(entry), "files": files}


def _action(request: Request, svc: Services, user: UserRecord, audit: Auditor, task_id: int, action: str) -> dict:
    write = action == "submit"  # approvers may hold a read-only role; the ledger checks theirs
    owner = _task(svc, user, audit, task_id, f"rectification.{action}", write=write)
    ledger = ledger_of(request, svc)
    try:
        entry = (ledger.submit(task_id, user.name) if write
                 else getattr(ledger, action)(task_id, Approver(user.name, user.role)))
    except RuleError as error:
        raise _rule(audit, f"rectification.{action}", task_id, owner.inspection_id, error) from None
    audit(f"rectification.{action}", object_type="rectification_task", object_id=task_id,
          inspection_id=owner.inspection_id)
    return task_out(entry)


@router.post("/rectification-tasks/{task_id}/submit", response_model=TaskOut, responses=_RULE_ERRORS,
             summary="提交销号（须已上传佐证材料）")
def submit_task(task_id: ObjectId, request: Request, user: UserRecord = Depends(current_user),
                audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _action(request, svc, user, audit, task_id, "submit")


@router.post("/rectification-tasks/{task_id}/approve", response_model=TaskOut, responses=_RULE_ERRORS,
             summary="审批销号（审批角色见 XUNCHA_RECTIFICATION_APPROVER_ROLES，且不能是提交人）")
def approve_task(task_id: ObjectId, request: Request, user: UserRecord = Depends(current_user),
                 audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _action(request, svc, user, audit, task_id, "approve")


@router.post("/rectification-tasks/{task_id}/reject", response_model=TaskOut, responses=_RULE_ERRORS,
             summary="退回销号申请（任务回到整改中）")
def reject_task(task_id: ObjectId, request: Request, user: UserRecord = Depends(current_user),
                audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    return _action(request, svc, user, audit, task_id, "reject")


ExportList = Literal["all", "problems", "tasks", "responsibilities", "ledger"]
EXPORT_NAMES = {"all": "三单和整改台账", **{k: v[0] for k, v in SHEETS.items()}}


@router.get("/inspections/{inspection_id}/rectification.xlsx", response_class=Response,
            responses={200: {"content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "附件下载"}, **ERRORS},
            summary="导出问题清单、任务清单、责任清单和整改台账（Excel）")
def export_ledger(inspection_id: ObjectId, request: Request,
                  sheet: ExportList = Query("all", description="all 全部；problems 问题清单；tasks 任务清单；"
                                                               "responsibilities 责任清单；ledger 整改台账"),
                  user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                  svc: Services = Depends(services)) -> Response:
    inspection = _inspection(svc, user, audit, inspection_id, "rectification.export")
    entries = ledger_of(request, svc).entries(inspection_id)
    kinds = tuple(SHEETS) if sheet == "all" else (sheet,)
    content = render_xlsx(entries, f"{inspection.name} {EXPORT_NAMES[sheet]}", svc.checklist, kinds)
    audit("rectification.export", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return Response(content, media_type=XLSX_TYPE, headers={
        "Content-Disposition": content_disposition(f"{inspection.name}-{EXPORT_NAMES[sheet]}.xlsx")})
