"""Report drafts for report writers (问题清单初稿): read, rebuild, edit problems, export DOCX/XLSX.

Team-scoped like documents; analysts read only. Audit rows carry ids only — never wording or text.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import ApiError, error_response, not_found
from service.api.routers.documents import content_disposition
from service.api.schemas import ERRORS, ErrorOut
from service.api.services import Services
from service.reports import ReportStore, is_stale, rebuild
from service.reports.outline import printable, report_document, sections, unfinished, unfinished_warning
from service.reports.wording import markers
from service.reports.store import ProblemRecord, ReportRecord
from service.reports.draft import build_problems
from service.security import UserRecord, can_write
from service.storage.records import InspectionRecord

router = APIRouter(prefix="/api", tags=["问题清单"])
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AlternativeOut(BaseModel):
    source: Literal["finding", "checklist", "case"] = Field(
        description="finding：其他材料原文整理的表述；checklist：清单标准表述；case：往届案例表述（均只用本问题材料中的事实）")
    text: str
    case_id: str | None = Field(description="往届案例编号（source 为 case 时）")


class EvidenceOut(BaseModel):
    finding_id: int
    document_id: int
    filename: str
    kind: str
    page: int | None
    quote: str = Field(description="候选问题原文（截取约 200 字）")
    review: Literal["confirmed", "corrected"] | None = Field(description="审核结论：确认、更正或未审核")
    items: list[str] = Field(default_factory=list, description="该候选问题（审核后）对应的清单条目")


class ProblemOut(BaseModel):
    id: int
    item_id: str
    wording: str = Field(description="当前问题表述（撰稿人修改后以修改为准）")
    generated_wording: str = Field(description="系统依据材料本身生成的问题表述")
    unfinished: list[str] = Field(description="表述中待补充的内容（【待补充：…】标记或未填写的 {…}）")
    alternatives: list[AlternativeOut]
    evidence: list[EvidenceOut] = Field(description="证据：反映该问题的候选问题，最有力的在前")
    included: bool = Field(description="是否纳入问题清单（导出时只包含纳入的问题）")
    edited: bool
    edited_by: str | None
    edited_at: datetime | None


class ItemOut(BaseModel):
    item_id: str
    item_title: str
    discipline: str
    problems: list[ProblemOut]


class GroupOut(BaseModel):
    focus: int = Field(description="三个聚焦（1–4）")
    focus_title: str
    items: list[ItemOut]


class ReportOut(BaseModel):
    inspection_id: int
    inspection: str
    team: str
    target_unit: str | None
    updated_at: datetime
    updated_by: str | None
    problem_count: int = Field(description="初稿中的问题数（含未纳入的）")
    groups: list[GroupOut]
    previous_round: dict | None = Field(None, description="上轮巡察反馈问题整改情况：同一被巡察单位以往轮次的问题、整改状态和"
                                                          "本轮再次发现的问题（GET /api/inspections/{id}/recheck）；此前未巡察过时为空")


class ProblemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wording: str | None = Field(None, min_length=1, max_length=2000, description="撰稿人修改后的问题表述")
    included: bool | None = Field(None, description="是否纳入问题清单")


def _file(media_type: str) -> dict:
    return {200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
                  "description": "附件下载"}, **ERRORS,
            409: {"model": ErrorOut, "description": "纳入清单的问题表述仍有待补充的内容（返回 problems 列表）；加 force=1 仍可导出"}}


def problem_out(problem: ProblemRecord) -> dict:
    data = asdict(problem)
    del data["focus"]
    data["unfinished"] = markers(problem.wording)
    return data


def previous_round(svc: Services, inspection: InspectionRecord, user: UserRecord) -> dict | None:
    """The draft's section 上轮巡察反馈问题整改情况, within the reader's team scope."""
    from service.recheck import recheck
    from service.security.access import visible_team

    team = visible_team(user)
    return recheck(svc.repository, svc.checklist, inspection, svc.search.e5_embed,
                   None if team is None else {team}).section()


def report_out(report: ReportRecord, inspection: InspectionRecord, svc: Services,
               previous: dict | None = None) -> dict:
    groups = [{"focus": s.focus, "focus_title": s.focus_title,
               "items": [{"item_id": i.item_id, "item_title": i.item_title, "discipline": i.discipline,
                          "problems": [problem_out(p) for p in i.problems]} for i in s.items]}
              for s in sections(report.problems, svc.checklist)]
    return {"inspection_id": inspection.id, "inspection": inspection.name, "team": inspection.team,
            "target_unit": inspection.target_unit, "updated_at": report.updated_at, "updated_by": report.updated_by,
            "problem_count": len(report.problems), "groups": groups, "previous_round": previous}


def _inspection(svc: Services, user: UserRecord, audit: Auditor, inspection_id: int, action: str,
                write: bool = False) -> InspectionRecord:
    authorize(svc.scopes.inspection(inspection_id), user, audit, action, "inspection", inspection_id, write=write)
    inspection = svc.repository.get_inspection(inspection_id)
    if inspection is None:  # deleted in between
        raise not_found("inspection")
    return inspection


def _build(svc: Services, inspection: InspectionRecord, user: UserRecord, audit: Auditor) -> ReportRecord:
    result = rebuild(svc.repository, svc.checklist, inspection, user.name, svc.search.synced())
    audit("report.build", object_type="inspection", object_id=inspection.id, inspection_id=inspection.id)
    return result.report


def _current(svc: Services, inspection: InspectionRecord, user: UserRecord, audit: Auditor) -> ReportRecord:
    """The stored draft, built on first use and rebuilt (keeping writers' edits) when reviews or documents
    changed its evidence. Only writers of the round store it; a reader who may not change the round
    (an analyst) sees the same draft computed without storing anything."""
    store = ReportStore(svc.repository.engine)
    report = None if is_stale(svc.repository, inspection.id, svc.checklist) else store.get(inspection.id)
    if report is not None:
        return report
    if can_write(user, inspection.team):
        return _build(svc, inspection, user, audit)
    return store.preview(inspection.id, build_problems(svc.repository, svc.checklist, inspection,
                                                       svc.search.synced()))


@router.get("/inspections/{inspection_id}/report", response_model=ReportOut, responses=ERRORS,
            summary="巡察轮次的问题清单初稿（首次查看时生成）")
def get_report(inspection_id: ObjectId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
               svc: Services = Depends(services)):
    inspection = _inspection(svc, user, audit, inspection_id, "report.read")
    report = _current(svc, inspection, user, audit)
    audit("report.read", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return report_out(report, inspection, svc, previous_round(svc, inspection, user))


@router.post("/inspections/{inspection_id}/report", response_model=ReportOut, responses=ERRORS,
             summary="按当前候选问题和审核结果重新生成初稿（保留撰稿人的修改）")
def rebuild_report(inspection_id: ObjectId, user: UserRecord = Depends(current_user),
                   audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    inspection = _inspection(svc, user, audit, inspection_id, "report.build", write=True)
    return report_out(_build(svc, inspection, user, audit), inspection, svc, previous_round(svc, inspection, user))


@router.patch("/report-problems/{problem_id}", response_model=ProblemOut,
              responses={**ERRORS, 422: {"model": ErrorOut}}, summary="修改问题表述或是否纳入问题清单")
def edit_problem(body: ProblemPatch, problem_id: ObjectId, user: UserRecord = Depends(current_user),
                 audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    store = ReportStore(svc.repository.engine)
    owner = authorize(store.owner(problem_id), user, audit, "report.edit", "report_problem", problem_id, write=True)
    wording = printable(body.wording).strip() if body.wording is not None else None
    if (wording is None and body.included is None) or wording == "":
        audit("report.edit", "invalid", object_type="report_problem", object_id=problem_id,
              inspection_id=owner.inspection_id)
        raise ApiError(422, "invalid_request", "问题表述不能为空" if wording == "" else "请至少修改问题表述或是否纳入中的一项")
    problem = store.edit(problem_id, user.name, wording, body.included)
    if problem is None:  # deleted in between (its item vanished on a rebuild)
        raise not_found("report_problem")
    audit("report.edit", object_type="report_problem", object_id=problem_id, inspection_id=owner.inspection_id)
    return problem_out(problem)


UNFINISHED_HEADER = "X-Unfinished-Problems"
Force = Query(False, description="表述中仍有待补充内容时也导出（响应头 X-Unfinished-Problems 列出这些问题的编号）")


def unfinished_refusal(found: list, audit: Auditor, action: str, inspection_id: int, doing: str) -> Response:
    """409 listing the included problems whose wording still carries markers; audited as invalid."""
    audit(action, "invalid", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return error_response(409, "unfinished_wording", unfinished_warning(found) + f"。确认仍要{doing}请加参数 force=1。",
                          problems=[{"id": u.problem_id, "label": u.label, "item_id": u.item_id,
                                     "unfinished": u.markers} for u in found])


def _export(svc: Services, user: UserRecord, audit: Auditor, inspection_id: int, suffix: str,
            force: bool) -> Response:
    """Exports refuse (409, listing them) while included problems carry markers or raw slots, unless forced."""
    inspection = _inspection(svc, user, audit, inspection_id, "report.export")
    document = report_document(_current(svc, inspection, user, audit), inspection, svc.checklist)
    found = unfinished(document)
    if found and not force:
        return unfinished_refusal(found, audit, "report.export", inspection_id, "导出")
    document.previous_round = previous_round(svc, inspection, user)
    from service.reports.docx_export import render_docx  # python-docx and openpyxl load on the first export
    from service.reports.xlsx_export import render_xlsx

    content, media_type = (render_docx(document), DOCX_TYPE) if suffix == "docx" else (render_xlsx(document), XLSX_TYPE)
    audit("report.export", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    filename = f"{inspection.name}-问题清单（初稿）.{suffix}"
    headers = {"Content-Disposition": content_disposition(filename)}
    if found:
        headers[UNFINISHED_HEADER] = ",".join(str(u.problem_id) for u in found)
    return Response(content, media_type=media_type, headers=headers)


@router.get("/inspections/{inspection_id}/report.docx", response_class=Response, responses=_file(DOCX_TYPE),
            summary="导出问题清单初稿（Word）")
def export_docx(inspection_id: ObjectId, force: bool = Force, user: UserRecord = Depends(current_user),
                audit: Auditor = Depends(auditor), svc: Services = Depends(services)) -> Response:
    return _export(svc, user, audit, inspection_id, "docx", force)


@router.get("/inspections/{inspection_id}/report.xlsx", response_class=Response, responses=_file(XLSX_TYPE),
            summary="导出问题底稿和整改台账（Excel）")
def export_xlsx(inspection_id: ObjectId, force: bool = Force, user: UserRecord = Depends(current_user),
                audit: Auditor = Depends(auditor), svc: Services = Depends(services)) -> Response:
    return _export(svc, user, audit, inspection_id, "xlsx", force)
