"""Inspection rounds (巡察轮次). Members see and create only their own team's; only an admin
deletes a round. Also the round's review queue: its findings filtered by review status and score."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Depends, Query

from service import rounds
from service.api.deps import Auditor, ObjectId, auditor, authorize, current_user, services
from service.api.errors import ApiError, forbidden, not_found
from service.api.schemas import (
    ERRORS,
    InspectionDeletedOut,
    InspectionIn,
    InspectionOut,
    ReviewCountsOut,
    ReviewListOut,
)
from service.api.services import Services
from service.evidence import for_display
from service.security import UserRecord
from service.security.access import visible_team

router = APIRouter(prefix="/api/inspections", tags=["巡察轮次"])


@router.get("", response_model=list[InspectionOut], responses=ERRORS, summary="巡察轮次列表")
def list_inspections(team: str | None = Query(None, max_length=100, description="只列出该巡察组（分析人员、管理员）"),
                     user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                     svc: Services = Depends(services)):
    own = visible_team(user)
    audit("inspection.list")  # the team filter is not recorded: rows hold ids only
    if own is not None and team is not None and team != own:
        return []
    counts = svc.repository.inspection_counts()
    return [{**asdict(i), "document_count": counts.get(i.id, (0, 0))[0], "finding_count": counts.get(i.id, (0, 0))[1]}
            for i in svc.repository.list_inspections(own or team)]


@router.get("/{inspection_id}", response_model=InspectionOut, responses=ERRORS, summary="巡察轮次详情")
def get_inspection(inspection_id: ObjectId, user: UserRecord = Depends(current_user),
                   audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    authorize(svc.scopes.inspection(inspection_id), user, audit, "inspection.read", "inspection", inspection_id)
    record = svc.repository.get_inspection(inspection_id)
    if record is None:  # deleted in between
        raise not_found("inspection")
    documents, findings = svc.repository.inspection_counts().get(inspection_id, (0, 0))
    audit("inspection.read", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return {**asdict(record), "document_count": documents, "finding_count": findings}


@router.delete("/{inspection_id}", response_model=InspectionDeletedOut, responses=ERRORS,
               summary="删除巡察轮次（管理员）：连同文档、候选问题、审核记录、报告初稿和原件")
def delete_inspection(inspection_id: ObjectId, user: UserRecord = Depends(current_user),
                      audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    authorize(svc.scopes.inspection(inspection_id), user, audit, "inspection.delete", "inspection", inspection_id,
              write=True)
    if user.role != "admin":
        audit("inspection.delete", "denied", object_type="inspection", object_id=inspection_id,
              inspection_id=inspection_id)
        raise forbidden("只有管理员可以删除巡察轮次")
    deleted = rounds.delete_inspection(svc.repository, svc.runner.ingestor, inspection_id, svc.settings.home)
    if deleted is None:  # deleted in between
        raise not_found("inspection")
    audit("inspection.delete", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return asdict(deleted)


ReviewStatus = Literal["unreviewed", "reviewed", "confirm", "reject", "correct"]


def review_counts(rows) -> dict:
    counts = {"total": len(rows), "flagged": 0, "unreviewed": 0, "confirm": 0, "reject": 0, "correct": 0}
    for finding, _, _ in rows:
        counts["flagged"] += bool((finding.tags or {}).get("is_finding"))
        counts[finding.review["action"] if finding.review else "unreviewed"] += 1
    return counts


def _status_matches(finding, status: str | None) -> bool:
    action = finding.review["action"] if finding.review else None
    if status is None:
        return True
    if status == "unreviewed":
        return action is None
    if status == "reviewed":
        return action is not None
    return action == status


@router.get("/{inspection_id}/findings", response_model=ReviewListOut, responses=ERRORS,
            tags=["候选问题"], summary="本轮候选问题的审核列表（按审核状态、分数筛选）")
def review_queue(inspection_id: ObjectId,
                 status: ReviewStatus | None = Query(None, description="unreviewed 待审核、reviewed 已审核、"
                                                                      "confirm 已确认、reject 已驳回、correct 已更正"),
                 min_score: float = Query(0.0, ge=0, le=1, description="“是否问题”分数下限（0–1）"),
                 max_score: float = Query(1.0, ge=0, le=1, description="“是否问题”分数上限（0–1）"),
                 flagged: bool | None = Query(None, description="true 只看疑似问题，false 只看其他候选"),
                 document_id: int | None = Query(None, ge=1, description="只看该文档"),
                 limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0),
                 user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
                 svc: Services = Depends(services)):
    authorize(svc.scopes.inspection(inspection_id), user, audit, "findings.read", "inspection", inspection_id)
    rows = svc.repository.inspection_findings(inspection_id)
    selected = []
    for finding, filename, kind in rows:
        tags = finding.tags or {}
        score = tags.get("finding_score")
        if not _status_matches(finding, status) or (document_id is not None and finding.document_id != document_id):
            continue
        if flagged is not None and bool(tags.get("is_finding")) is not flagged:
            continue
        if (min_score > 0 or max_score < 1) and (score is None or not min_score <= score <= max_score):
            continue
        selected.append((finding, filename, kind))
    audit("findings.read", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return {"counts": review_counts(rows), "matched": len(selected),
            "findings": [{**for_display(asdict(f)), "filename": filename, "kind": kind}
                         for f, filename, kind in selected[offset:offset + limit]]}


@router.get("/{inspection_id}/review-counts", response_model=ReviewCountsOut, responses=ERRORS,
            tags=["候选问题"], summary="本轮候选问题的审核统计")
def counts(inspection_id: ObjectId, user: UserRecord = Depends(current_user), audit: Auditor = Depends(auditor),
           svc: Services = Depends(services)):
    authorize(svc.scopes.inspection(inspection_id), user, audit, "findings.read", "inspection", inspection_id)
    result = review_counts(svc.repository.inspection_findings(inspection_id))
    audit("findings.counts", object_type="inspection", object_id=inspection_id, inspection_id=inspection_id)
    return result


@router.post("", status_code=201, response_model=InspectionOut, responses=ERRORS, summary="新建巡察轮次")
def create_inspection(body: InspectionIn, user: UserRecord = Depends(current_user),
                      audit: Auditor = Depends(auditor), svc: Services = Depends(services)):
    if user.role == "analyst":
        audit("inspection.create", "denied")
        raise forbidden("巡察办分析人员只能查阅，不能新建巡察轮次")
    team = body.team if user.role == "admin" else user.team
    if user.role == "member" and body.team not in (None, user.team):
        audit("inspection.create", "denied")
        raise forbidden("只能为本巡察组新建巡察轮次")
    if not (team or "").strip() or not body.name.strip():
        raise ApiError(422, "invalid_request", "请填写巡察轮次名称（管理员还须指定巡察组）")
    record = svc.repository.ensure_inspection(body.name.strip(), team.strip(), body.target_unit)
    audit("inspection.create", object_type="inspection", object_id=record.id, inspection_id=record.id)
    return asdict(record)
